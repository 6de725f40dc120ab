/*
 * dynamics.h - any latent dynamics model behind one step API (a small vtable), and what is
 * written once on top of it: the VAE head with a temperature (roadmap 3.1, 3.2) and K-step
 * rollout training with scheduled sampling (roadmap 3.3). The trainer, ./eval's rollouts
 * and the tests see only DynModel.
 *
 * A model family (the flat MLP of nn/model.h; a convolutional model on a spatial latent)
 * fills a DynOps over its own struct `impl`. Per sample, z is Z floats, a is A floats, and
 * the head outputs OUT floats: OUT = Z (the delta), or for a VAE OUT = 2Z: first Z the mean,
 * next Z the log-variance of the delta (the same layout for every family). Activations are
 * kept per step t < max_steps (backpropagation through time).
 *   forward_step(impl, t, z [B,Z], hist [B][N][Z] | NULL, a [B,A], B)   head(t) [B,OUT]; if
 *                                                OUT = Z also znext(t) = z + head(t); z may alias
 *                                                znext(t-1); hist: the N past latents (history)
 *   backward_step(impl, t, dhead [B,OUT] | NULL, dznext [B,Z] | NULL (OUT = Z only),
 *                 dz [B,Z] += dLoss/dz | NULL, B)   ACCUMULATES into arena(impl)->grads;
 *                                                steps run backward in reverse order
 *   head(impl, t), znext(impl, t) (OUT = Z only), arena(impl), free(impl) (frees impl too),
 *   print_table(impl, f), bytes(impl)
 *
 * DynModel wraps one. OUT = Z: it passes through. VAE: it owns eps, the sampled delta and
 * znext of every step:
 *   delta = mean + temperature * exp(logvar / 2) * eps,   znext = z + delta
 * eps ~ N(0,1) is drawn from m->rng, or read from m->eps_in (the caller's [T][B][Z], stride
 * B*Z per step: tests and the PyTorch parity fixture). temperature = 0 gives delta = mean
 * exactly and draws nothing: the deterministic replay of the mean, bit for bit.
 *   KL_t = -1/2 * mean over B*Z of (1 + logvar - mean^2 - exp(logvar))
 * (a mean over elements like the MSE, so beta weighs two per-element quantities).
 *
 * Multiple hypotheses (hyp = M > 1, roadmap 3.1's "several futures" without a VAE): the head
 * holds M candidate deltas and M logit planes, per sample [M][Z] then [M][P] (P = 1 for a
 * vector, the grid's h*w for a conv head; a logit is the mean of its plane):
 *   p = softmax(logits);  delta = delta_c, c = the chosen hypothesis,  znext = z + delta
 * A rollout chooses c at the temperature: T = 0 the most probable, T > 0 a draw from
 * softmax(logits / T) (m->rng). Training (m->oracle = 1 in dynm_rollout_forward) chooses the
 * hypothesis closest to the target (winner takes all, so each hypothesis stays one sharp future,
 * where a single delta would average them: a piece that falls now or in four steps becomes a
 * faded piece in both places) and adds, per step,
 *   DYN_HYP_CE_WEIGHT * CE(p, c)                    (the probabilities learn how often c wins)
 *   DYN_HYP_RELAX / (M-1) * MSE(delta_m, target)    for every m != c (no hypothesis starves)
 * A chooser per cell (m->choice_cell, dynamics.hyp_choice = cell): the P cells of the grid
 * (Z / P channels each, at one position of the logit planes) choose apart. Cell p takes
 * candidate argmax_m plane_m[p] (T > 0: a draw from softmax(plane[p] / T), cell by cell), so
 * delta is pieced together cell by cell. Training fits the candidates as above (the frame's
 * nearest wins) and the planes, in place of the frame's CE, by the mean CE of the cells where the
 * choice matters (some candidate is at least DYN_HYP_CELL_GAP, RMS over the cell's channels,
 * from the truth there: elsewhere every candidate is as good, and the nearest is noise) towards
 * each such cell's nearest candidate n_p:
 *   DYN_HYP_CE_WEIGHT * mean_{p counted} CE(softmax(plane[p]), n_p)   (0 when no cell counts)
 *
 * History (history = N > 0, the conv family only): the model also sees N latents before z,
 * hist_off[k] steps before it (1..N unless dynamics.history lists them). DynModel keeps the
 * past per sample in past [max_B][depth][Z] and gathers the N the model reads into hist
 * [max_B][N][Z] (with the offsets 1..N, past is hist). past is a ring: slot (past_head + j) %
 * depth holds the latent j+1 steps before, so a step writes one slot instead of moving depth - 1
 * (48 steps back: 47 latents a sample a step). A rollout calls dynm_hist_reset(z0) at its start
 * (no past: z0 repeated; or fills past by hand in order, slot j = j+1 steps before, and calls
 * dynm_hist_gather, which takes that order) and dynm_hist_push(z) after each step from z. Rollout training fills the window's real past the same way before
 * dynm_rollout_forward, which pushes each step's input zin_k.
 *
 * Rollout training (dynm_rollout_forward / _backward), K <= max_steps windows:
 *   zin_0 = ztrue_0; zin_k = feed[k][b] ? znext_{k-1} : ztrue_k   (scheduled sampling)
 *   loss  = sum_k MSE(delta_k, ztrue_{k+1} - zin_k) + beta * sum_k KL_k
 * (= MSE(znext_k, ztrue_{k+1}); the delta form makes K = 1 the phase-1 loss bit for bit, and
 * with a VAE it is the roadmap's MSE(sampled delta, actual delta)). feed = NULL feeds every step its own prediction (open loop: the K-step cumulative
 * loss of the roadmap, and validation).
 */
#ifndef NEMU_DYNAMICS_H
#define NEMU_DYNAMICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "nn/model.h"   // ParamArena, Dyn, DynConfig
#include "base/err.h"
#include "base/rng.h"

typedef struct {
    const char *family;   // "flat", ...
    void (*forward_step)(void *impl, int t, const float *z, const float *hist, const float *a, int B);
    void (*backward_step)(void *impl, int t, const float *dhead, const float *dznext, float *dz, int B);
    float *(*head)(void *impl, int t);     // [B,OUT]
    float *(*znext)(void *impl, int t);    // [B,Z]; OUT = Z only
    ParamArena *(*arena)(void *impl);
    void (*free)(void *impl);              // frees what impl holds and impl itself
    void (*print_table)(const void *impl, FILE *f);
    size_t (*bytes)(const void *impl);     // as allocated, impl's buffers
} DynOps;

#define DYN_HYP_MAX 16
#define DYN_HIST_MAX 32      // most past latents a model sees (dynamics.history)
#define DYN_HIST_REACH 256   // farthest of them, in steps
#define DYN_HYP_CE_WEIGHT 0.01f   // weight of the hypotheses' cross-entropy beside the MSE
#define DYN_HYP_RELAX 0.05f       // total weight of the hypotheses that did not win
#define DYN_HYP_CELL_GAP 0.1f     // a chooser per cell learns where a candidate is this far (RMS) from the truth

typedef struct {
    const DynOps *ops;
    void *impl;              // owned
    int Z, A, OUT, max_B, max_steps, vae;
    int hyp, P;              // hypotheses M (1: one delta) and their logit planes' size
    int history;             // N >= 0 past latents the model sees (hist)
    int hist_off[DYN_HIST_MAX];   // steps back of each of the N, strictly increasing
    int depth;               // hist_off[N-1]: the past kept
    float *hist;             // [max_B][N][Z] the past latents of each sample's next step (history > 0)
    float *past;             // [max_B][depth][Z] a ring (= hist, in order, when hist_off is 1..N)
    int past_head;           // slot of the latent 1 step before in every sample's ring
    int oracle;              // hyp: dynm_rollout_forward chooses the hypothesis nearest the target
    int oracle_cell;         // hyp, oracle, forward only (./eval --hyp-oracle cell): each of the P cells
                             //   of the logit planes takes the candidate nearest the target there
    int feed_most_probable;  // hyp, oracle: znext takes the most probable candidate (the loss still the
                             //   nearest's): training steps on from what ./play would draw
    int choice_cell;         // hyp: each cell chooses its own candidate (dynamics.hyp_choice = cell)
    long oracle_choices;     // hyp, oracle: the choices made, and in how many the most probable
    long oracle_agree;       //   candidate was the nearest (./eval --hyp-oracle reports the share;
                             //   choice_cell: the cells that count, the nearest in each)
    float temperature;       // vae: 1 when training (default), the user's T in ./eval
    float beta;              // vae: weight of KL_t in dynm_backward_step (0 default)
    Rng *rng;                // vae, temperature > 0, eps_in NULL: the source of eps
    const float *eps_in;     // [T][B][Z] eps fed from outside (NULL: drawn from rng)
    // one allocation (mem): vae [T][max_B][Z] each: eps, delta, znext; [max_B][2Z] dhead;
    // rollout training: zin [T][max_B][Z], dcarry[2], dzin, tgt [max_B][Z]
    float *eps, *delta, *znext, *dhead;
    float *zin, *dcarry[2], *dzin, *tgt;
    // hyp: [T][max_B][M] probabilities (T = 1), [T][max_B] chosen hypothesis, [T][max_B][Z]
    // the targets they were chosen for (oracle)
    float *prob, *htgt;
    int *choice;             // [T][max_B] the candidate the loss takes
    int *cfed, *cnear;       // [T][max_B][P] per cell: the candidate znext took; (choice_cell, oracle)
                             //   the nearest there, the target of the cell's CE (-1: it does not count)
    float *mem;
    size_t mem_floats;
} DynModel;

// Sums over the K steps: mse, kl (0 without vae), hyp (0 without hypotheses or oracle: their
// weighted terms, DYN_HYP_CE_WEIGHT * CE + the others' relaxed MSE). loss = mse + beta*kl + hyp.
typedef struct { double mse, kl, hyp; } DynLoss;

// Wraps impl (taking ownership) with its size contract; vae: OUT = 2Z; hyp > 1: OUT = hyp*(Z+P);
// history: the past latents impl reads, hist_off how far back each is (NULL: 1..history).
// Returns -1 (Err) on bad sizes (impl is then freed).
int dynm_init(DynModel *m, const DynOps *ops, void *impl, int Z, int A, int max_B, int max_steps, int vae,
              int hyp, int P, int history, const int *hist_off, Err *err);
// n history offsets: each 1..DYN_HIST_REACH, strictly increasing, n <= DYN_HIST_MAX.
int dyn_hist_offsets_check(const int *off, int n, Err *err);
// 1 when off[0..n-1] is 1..n (or off is NULL / all zero): the plain history of the n steps before.
int dyn_hist_offsets_dense(const int *off, int n);
// The farthest step back (0 without a history): the past a model with these offsets keeps.
int dyn_hist_depth(const int *off, int n);
// The history as dynamics.history writes it into buf: "N" for 1..N (dense), else "1,2,4,8";
// parse a list back (returns the count, -1 on a malformed or invalid list).
void dyn_hist_offsets_text(const int *off, int n, char *buf, size_t cap);
int dyn_hist_offsets_parse(const char *s, int *off, Err *err);
// The flat MLP of nn/model.h (cfg->vae picks the head).
int dynm_flat_init(DynModel *m, const DynConfig *cfg, int max_B, Rng *rng, Err *err);
extern const DynOps DYN_FLAT_OPS;
void dynm_free(DynModel *m);

void dynm_forward_step(DynModel *m, int t, const float *z, const float *a, int B);
// hyp: step t as dynm_forward_step, but with the candidate nearest the target ztrue - z (the
// winner-takes-all choice of training) instead of the most probable: ./eval --hyp-oracle, the
// rollouts a perfect chooser would give; per_cell: each cell of the grid (the P cells of the
// logit planes, Z / P channels each) its own nearest candidate, a chooser per cell. ztrue
// [B][Z]: the encoded true next frames. Forward only.
void dynm_forward_step_oracle(DynModel *m, int t, const float *z, const float *a, const float *ztrue, int per_cell,
                              int B);
// History: samples 0..B-1 start with no past (every slot = their z), or get z pushed as the
// newest past after a step from z (the oldest slot drops). No-ops without history.
void dynm_hist_reset(DynModel *m, const float *z, int B);
void dynm_hist_push(DynModel *m, const float *z, int B);
// hist of samples 0..B-1 from their past after it was filled by hand, in order (slot j = j+1
// steps before; resets the ring's head).
void dynm_hist_gather(DynModel *m, int B);
// ddelta [B,Z] = dLoss/ddelta_t (the sampled delta with vae; NULL: none), dznext [B,Z] (NULL:
// none); with vae adds beta * dKL_t. ACCUMULATES param grads; dz [B,Z] += dLoss/dz (NULL: skip).
void dynm_backward_step(DynModel *m, int t, const float *ddelta, const float *dznext, float *dz, int B);
float *dynm_delta(DynModel *m, int t);   // [B,Z] the delta of step t (sampled with vae)
float *dynm_znext(DynModel *m, int t);   // [B,Z]
float *dynm_head(DynModel *m, int t);    // [B,OUT]
double dynm_kl(DynModel *m, int t, int B);   // KL_t (0 without vae)
double dynm_hyp_loss(DynModel *m, int t, int B);   // hyp with oracle: step t's weighted hyp terms (else 0)
int dynm_stochastic(const DynModel *m);     // vae or hyp > 1: the temperature matters
// hyp > 1: the candidate sample b's last single step (t = 0) took, and *p: with one choice a frame,
// its probability softmax(logits) (T = 1); with a chooser per cell, the one most cells took and
// the share of the cells that took it. -1 (and *p = 0) without hypotheses.
int dynm_hyp_taken(const DynModel *m, int b, double *p);
ParamArena *dynm_arena(DynModel *m);
size_t dynm_bytes(const DynModel *m);
void dynm_print_table(const DynModel *m, FILE *f);

// ztrue [K+1][B][Z] the encoded frames t..t+K (with history, m->hist holds frames t-1..t-N);
// a [K][B][A]; feed [K][B] (1: step k >= 1 takes
// the model's own prediction; row 0 ignored) or NULL (always). Forward returns the loss parts;
// backward (after forward, same arguments) ACCUMULATES the grads of loss = mse + beta * kl
// (+ the hypotheses' terms above when m->oracle).
DynLoss dynm_rollout_forward(DynModel *m, const float *ztrue, const float *a, const uint8_t *feed, int K, int B);
void dynm_rollout_backward(DynModel *m, const float *ztrue, const uint8_t *feed, int K, int B);

// Scheduled-sampling probability of epoch e of `epochs`: linear from p0 (first) to p1 (last).
double dynm_sampling_p(double p0, double p1, int e, int epochs);

#endif
