/*
 * model.h - nemu's two models, gymemu's ConvAutoencoder and DynamicsModel, with explicit
 * forward and backward passes (llm.c style, see STYLE.md section 2).
 *
 * Memory: each model owns a ParamArena: params, grads, Adam m and Adam v are ONE allocation
 * each (n floats), cut into tensors by a table {PyTorch state_dict name, shape, offset};
 * named pointers (AEParams / DynParams) view params and grads. Activations are allocated once
 * at init for a maximum batch max_B (and, for dynamics, max_T rollout steps); the autoencoder
 * shares one conv workspace sized for its largest layer. No malloc after init.
 *
 * Training step (either model):
 *   arena_zero_grad(&m.arena); forward; loss forward/backward into d-buffer; backward
 *   (ACCUMULATES into grads); clip_grad_norm(arena.grads, arena.n, max);
 *   adam_step(&opt, arena.params, arena.grads, arena.m, arena.v, arena.n)
 *
 * Autoencoder (AEConfig; stages S, channels ch_i = base*2^i):
 *   x [B,C,H,W] -> S x (Conv2d k4 s2 p1 + ReLU) -> flatten [B,F] -> fc_enc -> z [B,Z]
 *   (+ N(0, latent_noise) when an Rng is given: training only) -> fc_dec (no activation)
 *   -> reshape [B,ch_{S-1},H/2^S,W/2^S] -> (S-1) x (ConvTranspose2d k4 s2 p1 + ReLU)
 *   -> ConvTranspose2d + Sigmoid -> recon [B,C,H,W]
 * Spatial autoencoder (latent_channels Lc > 0): the same conv stages, but the latent is a grid:
 *   ... -> [B,ch_{S-1},h,w] -> latent_enc (Conv2d 1x1 to Lc, no activation) -> z [B,Lc,h,w]
 *   (h = H/2^S, w = W/2^S; flat per sample: Z = Lc*h*w floats, so code that only needs Z works
 *   unchanged) (+ noise) -> latent_dec (Conv2d 1x1 to ch_{S-1}) + ReLU -> the ConvT stages.
 *   No fully connected layer: every latent cell describes its own patch of the frame.
 * Dynamics (DynConfig): in = [z, a] [B,Z+A] -> LayerNorm -> Linear(hidden) -> GELU
 *   -> Linear(hidden) -> GELU -> Linear(Z) = delta; z' = z + delta.
 *   Activations are indexed [t][B][...] (t < max_T) so a K-step rollout keeps every step
 *   for backpropagation through time: dyn_forward_step(t) / dyn_backward_step(t), or the
 *   dyn_rollout_forward / dyn_rollout_backward pair that chains them.
 */
#ifndef NEMU_MODEL_H
#define NEMU_MODEL_H

#include <stddef.h>
#include <stdio.h>
#include "nn/ops.h"     // ConvShape
#include "base/err.h"
#include "base/rng.h"

// ---------------------------------------------------------------- parameter arena

#define ARENA_MAX_TENSORS 32
#define TENSOR_MAX_RANK 4

typedef struct {
    char name[64];              // PyTorch state_dict name, e.g. "encoder_conv.0.weight"
    int rank;
    int dims[TENSOR_MAX_RANK];  // PyTorch order
    size_t offset, n;           // floats into the arena
} TensorInfo;

typedef struct {
    TensorInfo t[ARENA_MAX_TENSORS];
    int n_tensors;
    size_t n;                          // total floats
    float *params, *grads, *m, *v;     // one allocation each, n floats; m, v = Adam state
} ParamArena;

// Building an arena: arena_add records a tensor (name printf-style, offsets in floats) and
// returns its index; arena_alloc then allocates params, grads, m, v (zeroed); arena_free.
int arena_add(ParamArena *a, int rank, const int *dims, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void arena_alloc(ParamArena *a);
void arena_free(ParamArena *a);
void arena_zero_grad(ParamArena *a);
void arena_zero_adam(ParamArena *a);          // m = v = 0 (a fresh optimizer)
const TensorInfo *arena_find(const ParamArena *a, const char *name);   // NULL if absent
void arena_shape_str(const TensorInfo *t, char *buf, size_t cap);      // "[32,1,4,4]"

// ---------------------------------------------------------------- autoencoder

#define AE_MAX_STAGES 6

typedef struct {
    int H, W, C;           // input frame
    int stages;            // conv stages, 3 (gymemu) or 4
    int base_channels;     // channels of stage i = base_channels << i
    int latent_dim;        // Z
    float latent_noise;    // std of N(0, .) added to z before decoding when training (0: none)
    int latent_channels;   // 0: flat (fc_enc/fc_dec to latent_dim); > 0: spatial, z is a grid
                           // [latent_channels, H/2^S, W/2^S] and latent_dim is derived from it
} AEConfig;

// Checks a config: positive sizes, 1 <= stages <= AE_MAX_STAGES, H and W divisible by 2^stages;
// spatial: latent_dim 0 (derived at init) or latent_channels * H/2^S * W/2^S.
int ae_config_check(const AEConfig *c, Err *err);
// Z of a spatial config (latent_channels * H/2^S * W/2^S); latent_dim of a flat one.
int ae_config_latent_dim(const AEConfig *c);

typedef struct {   // views into the params or the grads arena
    float *enc_w[AE_MAX_STAGES], *enc_b[AE_MAX_STAGES];   // encoder_conv.{2i}.*  [ch_i, ch_{i-1}, 4, 4]
    float *fc_enc_w, *fc_enc_b;   // flat [Z, F], [Z]; spatial latent_enc.* [Lc, ch_{S-1}, 1, 1], [Lc]
    float *fc_dec_w, *fc_dec_b;   // flat [F, Z], [F]; spatial latent_dec.* [ch_{S-1}, Lc, 1, 1], [ch_{S-1}]
    float *dec_w[AE_MAX_STAGES], *dec_b[AE_MAX_STAGES];   // decoder_conv.{2i}.* (ConvT [in, out, 4, 4])
} AEParams;

typedef struct {
    AEConfig cfg;
    int max_B;
    int F;                                  // flattened size ch_{S-1} * H/2^S * W/2^S
    ConvShape enc[AE_MAX_STAGES], dec[AE_MAX_STAGES];
    ConvShape lat_enc, lat_dec;             // spatial: the 1x1 convs to and from the grid
    ParamArena arena;
    AEParams w, g;                          // named views into arena.params / arena.grads
    // activations [max_B, ...], one allocation (acts_mem); pointers into it:
    float *enc_out[AE_MAX_STAGES];          // after ReLU [B, ch_i, H>>(i+1), W>>(i+1)]
    float *z;                               // [B, Z] fc_enc output (without noise)
    float *zin;                             // [B, Z] decoder input (z + noise)
    float *h;                               // [B, F] fc_dec output (spatial: after latent_dec's ReLU)
    float *dec_out[AE_MAX_STAGES];          // after ReLU / Sigmoid; dec_out[S-1] = recon [B,C,H,W]
    float *recon;                           // = dec_out[S-1]
    float *dbuf[2];                         // activation-gradient ping-pong, largest act each
    float *dz;                              // [B, Z]
    float *work;                            // shared conv workspace
    float *acts_mem;
    size_t acts_floats, work_floats;
    const float *x;                         // input of the last ae_forward (kept for backward)
    int last_B;
    int dec_B;                              // batch of the last ae_decode_forward (0: none pending)
} AE;

// Allocates everything for batches up to max_B and initialises the weights like PyTorch's
// defaults (kaiming-uniform a=sqrt(5), bias U(+-1/sqrt(fan_in))). Returns -1 (Err) on a bad config.
// A spatial config's latent_dim is set to its Z in m->cfg.
int ae_init(AE *m, const AEConfig *cfg, int max_B, Rng *rng, Err *err);
void ae_free(AE *m);
// Training forward: x [B,C,H,W] in [0,1] (must stay valid until ae_backward); fills m->z and
// m->recon. Latent noise is added when rng != NULL and cfg.latent_noise > 0.
void ae_forward(AE *m, const float *x, int B, Rng *rng);
// The same with the noise's standard normals given, eps [B, latent_dim] (NULL: no noise):
// z + cfg.latent_noise * eps is decoded (training draws them per sample, src/train_dist.c).
void ae_forward_eps(AE *m, const float *x, int B, const float *eps);
// drecon [B,C,H,W] = dLoss/drecon; dz_extra [B,Z] an optional extra gradient on z (NULL: none).
// ACCUMULATES into m->arena.grads.
void ae_backward(AE *m, const float *drecon, const float *dz_extra, int B);
// Inference: x [B,C,H,W] -> z_out [B,Z]; z [B,Z] -> out [B,C,H,W]. No noise. Use the
// activation buffers, so they overwrite what ae_forward left there.
void ae_encode(AE *m, const float *x, int B, float *z_out);
void ae_decode(AE *m, const float *z, int B, float *out);
// The decoder alone, for losses on decoded frames of a frozen autoencoder (the dynamics'
// pixel loss): ae_decode_forward keeps its activations (m->recon [B,C,H,W] = decode(z));
// ae_decode_backward then writes dz [B,Z] = dLoss/dz from drecon = dLoss/drecon, computing
// no parameter gradient. Overwrite what ae_forward left.
void ae_decode_forward(AE *m, const float *z, int B);
void ae_decode_backward(AE *m, const float *drecon, float *dz, int B);
size_t ae_bytes(const AE *m);             // params+grads+adam+acts+workspace
void ae_print_table(const AE *m, FILE *f);

// ---------------------------------------------------------------- dynamics

typedef struct {
    int latent_dim;   // Z
    int n_actions;    // A
    int hidden;       // width of the two hidden layers (gymemu: 128)
    int max_steps;    // T: rollout steps whose activations are kept (>= 1)
    int vae;          // 1: the head outputs OUT = 2Z per sample, the mean then the log-variance
                      //   of the delta (roadmap 3.1); znext is then left to nn/dynamics.h
} DynConfig;

int dyn_config_check(const DynConfig *c, Err *err);

// A VAE head's log-variance bias starts here (std e^-3.5 = 0.03), the mean's at 0 like
// gymemu's delta: the sampled delta starts near the mean, not buried in N(0,1) noise a
// hundred times the size of a latent step. The KL-vs-MSE optimum of a per-element log-variance
// is log(beta / (2 + beta)): -9.9, -7.6, -5.3 for beta 1e-4, 1e-3, 1e-2. Measured (quick data,
// beta 1e-3, 30 epochs): with 0 the VAE's validation MSE at temperature 0 lagged the
// deterministic model's by ~10 epochs (0.0055 vs 0.0024 at epoch 30); with -7 it tracks it
// (0.0024).
#define DYN_VAE_LOGVAR_INIT (-7.0f)

typedef struct {
    float *ln_w, *ln_b;     // net.0.*  [Z+A]
    float *fc1_w, *fc1_b;   // net.1.*  [hidden, Z+A], [hidden]
    float *fc2_w, *fc2_b;   // net.3.*  [hidden, hidden], [hidden]
    float *fc3_w, *fc3_b;   // net.5.*  [Z, hidden], [Z]
} DynParams;

typedef struct {
    DynConfig cfg;
    int max_B, IN, OUT;     // IN = Z+A; OUT = Z, or 2Z with cfg.vae (mean, logvar)
    ParamArena arena;
    DynParams w, g;
    // per-step activations, slice t at t*max_B*dim (see dyn_* accessors below):
    float *in;              // [T][B][IN]  concat(z_t, a_t)
    float *ln;              // [T][B][IN]  LayerNorm output
    float *ln_mean, *ln_rstd;   // [T][B]
    float *h1, *g1;         // [T][B][hidden] pre-GELU, post-GELU
    float *h2, *g2;         // [T][B][hidden]
    float *delta;           // [T][B][OUT] the head: delta, or (vae) [mean | logvar]
    float *znext;           // [T][B][Z]   z_t + delta_t (not written with cfg.vae)
    // backward scratch, one step at a time:
    float *d_in, *d_ln, *d_h, *d_g, *d_out, *dcarry[2];   // [B][IN] [B][IN] [B][H] [B][H] [B][OUT] [B][Z]
    float *acts_mem;
    size_t acts_floats;
    int max_threads;        // a large batch is split over up to this many threads by rows
    float *grads_priv;      // (max_threads-1) x arena.n: their weight gradients, summed after
} Dyn;

// Initialises like gymemu: PyTorch defaults, LayerNorm ones/zeros, orthogonal net.1.weight,
// zero net.5.bias (vae: its log-variance half DYN_VAE_LOGVAR_INIT).
int dyn_init(Dyn *m, const DynConfig *cfg, int max_B, Rng *rng, Err *err);
void dyn_free(Dyn *m);
// Step t < max_steps: in[t] = [z, a]; delta[t] = f(in[t]) [B,OUT]; znext[t] = z + delta[t]
// (not with cfg.vae: nn/dynamics.h samples the delta). z [B,Z], a [B,A]; z may point into
// m->znext (slice t-1) for a rollout.
void dyn_forward_step(Dyn *m, int t, const float *z, const float *a, int B);
// Backward of step t. ddelta [B,OUT] = dLoss/ddelta[t] (NULL: none), dznext [B,Z] = dLoss/dznext[t]
// (NULL: none; must be NULL with cfg.vae). ACCUMULATES param grads, and dz [B,Z] += dLoss/dz (the step's z input;
// NULL: not needed). Steps must be run backward in reverse order of forward for BPTT.
void dyn_backward_step(Dyn *m, int t, const float *ddelta, const float *dznext, float *dz, int B);
float *dyn_delta(Dyn *m, int t);     // [B,OUT] slice of step t
float *dyn_znext(Dyn *m, int t);     // [B,Z]
// K-step open-loop rollout (not with cfg.vae) from z0 [B,Z] with actions a [K][B][A] (stride B*A per step):
// z_{t+1} = z_t + f(z_t, a_t), kept in dyn_znext(m, t).
void dyn_rollout_forward(Dyn *m, const float *z0, const float *a, int K, int B);
// dzs [K][B][Z] (stride B*Z) = dLoss/dz_{t+1} for t = 0..K-1 (gradient through later steps is
// added here). ACCUMULATES param grads; dz0 [B,Z] += dLoss/dz0 if not NULL.
void dyn_rollout_backward(Dyn *m, const float *dzs, int K, int B, float *dz0);
size_t dyn_bytes(const Dyn *m);
void dyn_print_table(const Dyn *m, FILE *f);

#endif
