/*
 * dyn_conv.h - convolutional dynamics on a spatial latent (model.latent = spatial, issue #23):
 * z' = z + f(z, a), where z is the autoencoder's grid [Lc, h, w] and f a small conv net with
 * the same weights at every cell, so that a piece is moved the same way wherever it is.
 *
 *   x0 = [z ; a broadcast as A constant planes ; z - z_{-1} ; ... ; z - z_{-N}]   [Lc+A+N*Lc, h, w]
 *   h0 = ReLU(conv_in(x0))                     Conv2d 3x3 p1             [Hc, h, w]
 *   g  = ctx(mean over the grid of h0)         Linear Hc -> Hc           [Hc]
 *   h1 = ReLU(blocks.0(h0) + g, broadcast)     Conv2d 3x3 p1             [Hc, h, w]
 *   h{i+1} = ReLU(blocks.i(h_i)), i = 1..nb-1  Conv2d 3x3 p1
 *   head = conv_out(h_nb)                      Conv2d 3x3 p1, zero-init  [OUT_C, h, w]
 * OUT_C = Lc (the delta) or, for a VAE head, 2Lc: per sample the first Z = Lc*h*w floats are
 * the mean, the next Z the log-variance (the layout of nn/dynamics.h); with M hypotheses
 * M*Lc + M: M candidate deltas of Z, then M logit planes of h*w (nn/dynamics.h averages each).
 * The candidates' weights start at 1e-2 of PyTorch's init instead of zero, so that they differ. conv_out starts at zero,
 * so an untrained model is the identity z' = z (a VAE head: its mean; the log-variance bias
 * starts at DYN_VAE_LOGVAR_INIT, as the flat VAE's).
 *
 * History (N = history > 0, dynamics.history): the latents of the N steps before z (z_{-1} the
 * one before, set with cdyn's `hist` [B][N][Z] before each forward step; nn/dynamics.h keeps
 * them) enter as N difference planes z - z_{-k}: zero where nothing changed, so the net sees
 * where and how long ago things moved (a timer such as Tetris' gravity, which one frame cannot
 * show). The history is an input, not a path for gradients: dz gets the z share of every
 * difference plane, the past latents get none (backpropagation through time stops there).
 * hist_off (dynamics.history as a list, e.g. 1,2,3,4,6,8,12,16,24,32,48) spreads the N planes
 * over more steps than N: what a frame hides for a while (Tetris' pause screen blanks the well
 * for up to 43 steps) is still in a far plane when it comes back. The net is the same; only
 * which past latents fill the planes differs (nn/dynamics.h keeps the deeper past).
 *
 * Why these choices:
 *  - Buttons as input planes, not FiLM: a button changes WHERE things go (a shift of the piece),
 *    which the first 3x3 conv expresses directly as an action-dependent kernel over z's cells;
 *    it is exact and cheap (A = 8 more input channels of one conv), needs no extra MLP, and at
 *    the grid's border (zero padding) the planes also tell the conv where the well's walls are.
 *  - Receptive field: a pooled global context (mean of h0 over the grid, a Linear, added to
 *    every cell before blocks.0's ReLU) lets every output cell depend on the whole board (line
 *    clears, the score, the next piece box), at the cost of one Hc x Hc Linear; the 3x3 stack
 *    (conv_in, nb blocks, conv_out: 2nb+5 cells wide with nb = 2) carries the local motion.
 *    Dilation would need a new conv path; pooling needs none.
 *  - ReLU, not GELU: the conv kernels fuse bias + ReLU into their output pass and the ReLU mask
 *    into the backward's write.
 * State_dict names (PyTorch: tests/nemu_modules.py ConvDynamics): conv_in.{weight,bias},
 * ctx.{weight,bias}, blocks.{i}.{weight,bias}, conv_out.{weight,bias}.
 *
 * Step API: the same as the flat Dyn of nn/model.h (activations kept per step t < max_steps
 * for backpropagation through time); behind nn/dynamics.h's DynOps as family "conv".
 */
#ifndef NEMU_DYN_CONV_H
#define NEMU_DYN_CONV_H

#include <stddef.h>
#include <stdio.h>
#include "nn/checkpoint.h"
#include "nn/dynamics.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "base/err.h"
#include "base/rng.h"

#define CDYN_MAX_BLOCKS 16
#define CDYN_MAX_HISTORY 32

typedef struct {
    int channels;     // Lc, the latent grid's channels
    int height, width;   // the grid: h = H/2^stages, w = W/2^stages
    int n_actions;    // A
    int hidden;       // Hc, channels of the hidden layers
    int blocks;       // nb >= 1 hidden 3x3 convs after conv_in
    int max_steps;    // T: rollout steps whose activations are kept
    int vae;          // 1: head has 2Lc channels (mean, log-variance)
    int hyp;          // M > 1: head has M*Lc + M channels (M candidate deltas, M logit planes); 0, 1: one
    int history;      // N >= 0 past latents as difference planes (0: none)
    int hist_off[CDYN_MAX_HISTORY];   // how many steps back each of the N is, strictly increasing
                                      // (all 0: the N steps before, 1..N; dynamics.history's list form)
    int hyp_cell;     // hyp > 1: each grid cell chooses its own candidate (nn/dynamics.h choice_cell)
} ConvDynConfig;

int cdyn_config_check(const ConvDynConfig *c, Err *err);
// The conv dynamics for a spatial autoencoder's grid (latent_channels and H, W >> stages).
ConvDynConfig cdyn_config_for(const AEConfig *ae, int n_actions, int hidden, int blocks, int max_steps, int vae,
                              int hyp, int history);

typedef struct {
    ConvDynConfig cfg;
    int max_B, IN, OC, Z, OUT, HW;   // IN = Lc+A+N*Lc planes, OC = head channels, Z = Lc*HW, OUT = OC*HW
    const float *hist;        // history: [B][N][Z] the past latents of the next forward step's z
    int no_interleave;        // 1: hs in NCHW at every batch (tests: the A/B of the interleaved layout)
    ConvShape s_in, s_mid, s_out;
    ParamArena arena;
    int i_in, i_ctx, i_blk, i_out;   // tensor indices (weight; the bias follows)
    // per-step activations, slice t at t*max_B*(per-sample size):
    float *x0;                // [T][B][IN*HW]
    float *hs[CDYN_MAX_BLOCKS + 1];   // [T][B16][Hc*HW] after ReLU (B16: max_B rounded up to 16), NCHW or, at
                                      // batches on Winograd, conv_wino3.h's interleaved layout (dyn_conv.c)
    float *pool, *gctx;       // [T][B][Hc]
    float *head;              // [T][B][OUT]
    float *znext;             // [T][B][Z] (not written with vae)
    // backward scratch
    float *d0, *d1;           // [B][Hc*HW]
    float *dx0;               // [B][IN*HW]
    float *dpool, *dg;        // [B][Hc]
    float *d_out;             // [B][OUT]
    float *work;
    float *acts_mem;
    size_t acts_floats, work_floats;
} ConvDyn;

// PyTorch default init (kaiming-uniform, bias U(+-1/sqrt(fan_in))), conv_out zero.
int cdyn_init(ConvDyn *m, const ConvDynConfig *cfg, int max_B, Rng *rng, Err *err);
void cdyn_free(ConvDyn *m);
// Step t: head[t] = f([z, a, z - hist]); znext[t] = z + head[t] (not with vae). z [B,Z] may alias
// znext(t-1). With history, m->hist must hold the B samples' past latents.
void cdyn_forward_step(ConvDyn *m, int t, const float *z, const float *a, int B);
// dhead [B,OUT] (NULL: none), dznext [B,Z] (NULL: none; NULL with vae). ACCUMULATES param
// grads; dz [B,Z] += dLoss/dz (NULL: skip). Steps backward in reverse order of forward.
void cdyn_backward_step(ConvDyn *m, int t, const float *dhead, const float *dznext, float *dz, int B);
float *cdyn_head(ConvDyn *m, int t);    // [B,OUT]
float *cdyn_znext(ConvDyn *m, int t);   // [B,Z]
size_t cdyn_bytes(const ConvDyn *m);
void cdyn_print_table(const ConvDyn *m, FILE *f);

extern const DynOps DYN_CONV_OPS;
// A DynModel over a new ConvDyn (cfg->vae picks the head).
int dynm_conv_init(DynModel *m, const ConvDynConfig *cfg, int max_B, Rng *rng, Err *err);

// The dynamics family that goes with an autoencoder: its spatial grid gets the conv model
// (hidden channels dc->hidden, `blocks`, dc's n_actions, max_steps, vae, `hyp` hypotheses chosen
// per cell when hyp_cell, `history` past latents), a flat latent the MLP of nn/model.h (dc as given; blocks unused, hyp
// must be 1, history 0). hist_off: how far back each of the history's latents is (NULL or all 0: 1..N).
int dynm_init_for_ae(DynModel *m, const AEConfig *ae, const DynConfig *dc, int blocks, int hyp, int hyp_cell,
                     int history, const int *hist_off, int max_B, Rng *rng, Err *err);
// A DynModel shaped as the dynamics checkpoint whose attributes are meta (either family), for
// max_B and max_steps (weights: checkpoint_load into dynm_arena). latent_dim_out (may be NULL)
// gets its Z, vae_out (may be NULL) whether it has a VAE head.
int dynm_init_from_meta(DynModel *m, const CkptMeta *meta, int max_B, int max_steps, Rng *rng, int *latent_dim_out,
                        int *vae_out, Err *err);
// The checkpoint attributes of a DynModel of either family.
void ckpt_meta_dynm(CkptMeta *meta, const DynModel *m);

// Checkpoint attributes: model "dynamics", family "conv", latent_dim (Z), latent_channels,
// grid_height, grid_width, n_actions, hidden, blocks, vae (only when 1), hypotheses (only when > 1),
// hyp_choice "cell" (only with a chooser per cell; absent: "frame"), history (only when > 0).
void ckpt_meta_conv_dyn(CkptMeta *meta, const ConvDynConfig *c);
int ckpt_meta_is_conv_dyn(const CkptMeta *meta);
int ckpt_meta_to_conv_dyn_config(const CkptMeta *meta, ConvDynConfig *c, Err *err);   // max_steps = 1

#endif
