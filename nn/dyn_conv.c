/*
 * dyn_conv.c - the convolutional dynamics of dyn_conv.h: parameter arena with PyTorch names,
 * activations per rollout step sized at init, forward and backward through the conv kernels
 * of ops.h (3x3 stride 1 padding 1, the plan picks the path), the global-context Linear, and
 * the DynOps / checkpoint glue.
 */
#include "nn/dyn_conv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/fastmath.h"
#include "nn/conv_wino3.h"
#include "nn/init.h"
#include "nn/simd.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"

int cdyn_config_check(const ConvDynConfig *c, Err *err) {
    if (c->channels < 1 || c->height < 1 || c->width < 1 || c->n_actions < 1 || c->hidden < 1 || c->max_steps < 1)
        return err_set(err, "conv dynamics: channels, grid, n_actions, hidden, max_steps must be >= 1, got %d, %dx%d, "
                       "%d, %d, %d", c->channels, c->height, c->width, c->n_actions, c->hidden, c->max_steps);
    if (c->hyp < 0 || c->hyp > DYN_HYP_MAX || (c->vae && c->hyp > 1))
        return err_set(err, "conv dynamics: hypotheses must be 1..%d and not with a vae head, got %d%s", DYN_HYP_MAX,
                       c->hyp, c->vae ? " with a vae" : "");
    if (c->hyp_cell && c->hyp < 2)
        return err_set(err, "conv dynamics: a chooser per cell needs hypotheses > 1, got %d", c->hyp);
    if (c->history < 0 || c->history > CDYN_MAX_HISTORY)
        return err_set(err, "conv dynamics: history must be 0..%d, got %d", CDYN_MAX_HISTORY, c->history);
    if (!dyn_hist_offsets_dense(c->hist_off, c->history) && dyn_hist_offsets_check(c->hist_off, c->history, err) < 0)
        return -1;
    if (c->blocks < 1 || c->blocks > CDYN_MAX_BLOCKS)
        return err_set(err, "conv dynamics: blocks must be 1..%d, got %d", CDYN_MAX_BLOCKS, c->blocks);
    if (c->channels > 65536 || c->hidden > 65536 || c->n_actions > 65536 || c->max_steps > 100000 ||
        (long)c->height * c->width > (1L << 24) || (long)c->channels * c->height * c->width > (1L << 30))
        return err_set(err, "conv dynamics: sizes too large (channels %d, grid %dx%d, hidden %d)", c->channels,
                       c->height, c->width, c->hidden);
    return 0;
}

ConvDynConfig cdyn_config_for(const AEConfig *ae, int n_actions, int hidden, int blocks, int max_steps, int vae,
                              int hyp, int history) {
    ConvDynConfig c = {ae->latent_channels, ae->H >> ae->stages, ae->W >> ae->stages, n_actions, hidden, blocks,
                       max_steps, vae, hyp, history, {0}, 0};
    return c;
}

static float *P(const ConvDyn *m, float *base, int idx) { return base + m->arena.t[idx].offset; }

// Sample rows of a step's slice of hs: max_B rounded up to whole groups of 16.
static size_t hs_rows(const ConvDyn *m) { return ((size_t)m->max_B + 15) & ~(size_t)15; }

int cdyn_init(ConvDyn *m, const ConvDynConfig *cfg, int max_B, Rng *rng, Err *err) {
    memset(m, 0, sizeof *m);
    if (cdyn_config_check(cfg, err) < 0) return -1;
    if (max_B < 1) return err_set(err, "conv dynamics: batch size must be >= 1, got %d", max_B);
    m->cfg = *cfg;
    if (m->cfg.hyp < 1) m->cfg.hyp = 1;   // 0 (a config written before hypotheses): one delta
    m->max_B = max_B;
    const int Lc = cfg->channels, h = cfg->height, w = cfg->width, Hc = cfg->hidden, nb = cfg->blocks;
    m->HW = h * w;
    m->IN = Lc + cfg->n_actions + cfg->history * Lc;
    const int M = m->cfg.hyp;
    m->OC = cfg->vae ? 2 * Lc : M > 1 ? M * Lc + M : Lc;
    m->Z = Lc * m->HW;
    m->OUT = m->OC * m->HW;
    m->s_in = conv2d_shape(m->IN, h, w, Hc, 3, 1, 1);
    m->s_mid = conv2d_shape(Hc, h, w, Hc, 3, 1, 1);
    m->s_out = conv2d_shape(Hc, h, w, m->OC, 3, 1, 1);
    ParamArena *a = &m->arena;
    m->i_in = arena_add(a, 4, (int[]){Hc, m->IN, 3, 3}, "conv_in.weight");
    arena_add(a, 1, (int[]){Hc}, "conv_in.bias");
    m->i_ctx = arena_add(a, 2, (int[]){Hc, Hc}, "ctx.weight");
    arena_add(a, 1, (int[]){Hc}, "ctx.bias");
    m->i_blk = a->n_tensors;
    for (int i = 0; i < nb; i++) {
        arena_add(a, 4, (int[]){Hc, Hc, 3, 3}, "blocks.%d.weight", i);
        arena_add(a, 1, (int[]){Hc}, "blocks.%d.bias", i);
    }
    m->i_out = arena_add(a, 4, (int[]){m->OC, Hc, 3, 3}, "conv_out.weight");
    arena_add(a, 1, (int[]){m->OC}, "conv_out.bias");
    arena_alloc(a);
    const int f_in = m->IN * 9, f_mid = Hc * 9;
    init_kaiming_uniform(P(m, a->params, m->i_in), (size_t)Hc * f_in, f_in, rng);
    init_bias_uniform(P(m, a->params, m->i_in + 1), (size_t)Hc, f_in, rng);
    init_kaiming_uniform(P(m, a->params, m->i_ctx), (size_t)Hc * Hc, Hc, rng);
    init_bias_uniform(P(m, a->params, m->i_ctx + 1), (size_t)Hc, Hc, rng);
    for (int i = 0; i < nb; i++) {
        init_kaiming_uniform(P(m, a->params, m->i_blk + 2 * i), (size_t)Hc * f_mid, f_mid, rng);
        init_bias_uniform(P(m, a->params, m->i_blk + 2 * i + 1), (size_t)Hc, f_mid, rng);
    }
    // conv_out stays zero (arena_alloc zeroes): training starts at the identity z' = z; a VAE
    // head's log-variance channels start at DYN_VAE_LOGVAR_INIT as the flat VAE's (nn/model.h)
    if (cfg->vae) init_constant(P(m, a->params, m->i_out + 1) + Lc, (size_t)Lc, DYN_VAE_LOGVAR_INIT);
    if (M > 1) {   // candidates: 1e-2 of PyTorch's init, so that they differ; logit planes zero
        float *wo = P(m, a->params, m->i_out);
        const size_t n = (size_t)M * Lc * f_mid;
        init_kaiming_uniform(wo, n, f_mid, rng);
        for (size_t i = 0; i < n; i++) wo[i] *= 1e-2f;
    }

    // hs: whole groups of 16 samples a step (the interleaved layout of conv_wino3.h needs them)
    const size_t TB = (size_t)cfg->max_steps * max_B, B = (size_t)max_B, HH = (size_t)Hc * m->HW;
    const size_t TBh = (size_t)cfg->max_steps * hs_rows(m);
    m->acts_floats = TB * ((size_t)m->IN * m->HW + 2 * (size_t)Hc + m->OUT + m->Z) + TBh * (nb + 1) * HH +
                     hs_rows(m) * 2 * HH + B * ((size_t)m->IN * m->HW + 2 * (size_t)Hc + m->OUT);
    m->acts_mem = xmalloc_floats(m->acts_floats);
    float *p = m->acts_mem;
#define TAKE(n) (p += (n), p - (n))
    m->x0 = TAKE(TB * m->IN * m->HW);
    for (int i = 0; i <= nb; i++) m->hs[i] = TAKE(TBh * HH);
    m->pool = TAKE(TB * Hc);
    m->gctx = TAKE(TB * Hc);
    m->head = TAKE(TB * m->OUT);
    m->znext = TAKE(TB * m->Z);
    m->d0 = TAKE(hs_rows(m) * HH);
    m->d1 = TAKE(hs_rows(m) * HH);
    m->dx0 = TAKE(B * m->IN * m->HW);
    m->dpool = TAKE(B * Hc);
    m->dg = TAKE(B * Hc);
    m->d_out = TAKE(B * m->OUT);
#undef TAKE
    CHECK(p == m->acts_mem + m->acts_floats, "cdyn_init: activation layout");
    size_t w0 = conv2d_workspace(&m->s_in, max_B), w1 = conv2d_workspace(&m->s_mid, max_B),
           w2 = conv2d_workspace(&m->s_out, max_B);
    m->work_floats = w0 > w1 ? w0 : w1;
    if (w2 > m->work_floats) m->work_floats = w2;
    m->work = xmalloc_floats(m->work_floats);
    return 0;
}

void cdyn_free(ConvDyn *m) {
    arena_free(&m->arena);
    free(m->acts_mem);
    free(m->work);
    memset(m, 0, sizeof *m);
}

static void check_step(const ConvDyn *m, int t, int B) {
    CHECK(t >= 0 && t < m->cfg.max_steps, "conv dynamics: step %d outside 0..%d (max_steps at init)", t,
          m->cfg.max_steps - 1);
    CHECK(B >= 1 && B <= m->max_B, "conv dynamics: batch %d outside 1..%d (max_B at init)", B, m->max_B);
}

static size_t st(const ConvDyn *m, int t) { return (size_t)t * m->max_B; }   // first sample row of step t

float *cdyn_head(ConvDyn *m, int t) { return m->head + st(m, t) * m->OUT; }
float *cdyn_znext(ConvDyn *m, int t) { return m->znext + st(m, t) * m->Z; }

// The per-sample passes around the convs run over the samples on OpenMP's threads when a step
// has this many floats to touch (a batch of 16 and more at 10x10 with 64 hidden channels; the
// batch-1 play loop stays on the calling thread). Each sample's arithmetic is the same whatever
// the split, so the results do not depend on the thread count.
#define CDYN_PAR_MIN ((size_t)1 << 16)

// x0 of sample b: [z ; action planes ; z - z_{-k}, k = 1..N]
static void input_planes(const ConvDyn *m, float *xb, const float *zb, const float *ab, const float *hb) {
    const int Lc = m->cfg.channels, A = m->cfg.n_actions, N = m->cfg.history, HW = m->HW, Z = m->Z;
    memcpy(xb, zb, (size_t)Z * sizeof(float));
    for (int j = 0; j < A; j++) {
        float v = ab[j], *pl = xb + (size_t)(Lc + j) * HW;
        for (int k = 0; k < HW; k++) pl[k] = v;
    }
    float *xh = xb + (size_t)(Lc + A) * HW;
    for (int k = 0; k < N; k++) {
        const float *hk = hb + (size_t)k * Z;
        for (int i = 0; i < Z; i++) xh[(size_t)k * Z + i] = zb[i] - hk[i];
    }
}

// Whether a step of B samples keeps hs (and the gradients d0, d1) in the interleaved layout of conv_wino3.h (sample b's
// channel c at ((b/16 * Hc + c) * HW + k) * 16 + b%16): when conv_plan runs all three conv shapes
// on Winograd F(4x4, 3x3), which works in that layout; the transposes to and from NCHW between
// the layers are then skipped. Else (the batch-1 play loop, NEMU_CONV_WINOGRAD=0) NCHW. Bit for
// bit the same results either way.
static int hs_interleaved(const ConvDyn *m, int B) {
    const ConvShape *sh[3] = {&m->s_in, &m->s_mid, &m->s_out};
    for (int i = 0; i < 3; i++) {
        const ConvPlan p = conv_plan(sh[i], 0, B, 0);
        if (!wino3_fits(sh[i]) || p.forward != CONV_WINOGRAD || p.dinp != CONV_WINOGRAD || p.dw != CONV_WINOGRAD ||
            m->no_interleave)
            return 0;
    }
    return 1;
}

// Sample b's channel c of h [B][Hc][HW] (NCHW): its first element.
static inline float *plane_nchw(const ConvDyn *m, float *h, int b, int c) {
    return h + ((size_t)b * m->cfg.hidden + c) * m->HW;
}

// Group g's channel c of h in the interleaved layout: HW positions of 16 samples.
static inline float *plane_il(const ConvDyn *m, float *h, int g, int c) {
    return h + ((size_t)g * m->cfg.hidden + c) * m->HW * 16;
}

// The per-sample passes on h [B][Hc][HW] below run on either layout with the same arithmetic per
// element (in the interleaved one 16 samples a vector, each lane its own sample's order): bit
// for bit the same results.

// out [B][Hc] = the grid sums of h (divided by HW when mean), in double, positions in order.
static void grid_sums(const ConvDyn *m, float *out, float *h, int B, int mean, int il, int par) {
    const int Hc = m->cfg.hidden, HW = m->HW;
    if (!il) {
        OMP_FOR_IF(par)
        for (int b = 0; b < B; b++)
            for (int c = 0; c < Hc; c++) {
                const float *pl = plane_nchw(m, h, b, c);
                double acc = 0;
                for (int k = 0; k < HW; k++) acc += pl[k];
                out[(size_t)b * Hc + c] = (float)(mean ? acc / HW : acc);
            }
        return;
    }
    OMP_FOR_IF(par)
    for (int g = 0; g < (B + 15) / 16; g++)
        for (int c = 0; c < Hc; c++) {
            const float *pl = plane_il(m, h, g, c);
            double acc[16] = {0};
            for (int k = 0; k < HW; k++)
                for (int l = 0; l < 16; l++) acc[l] += pl[(size_t)k * 16 + l];
            for (int l = 0; l < 16 && 16 * g + l < B; l++)
                out[(size_t)(16 * g + l) * Hc + c] = (float)(mean ? acc[l] / HW : acc[l]);
        }
}

// h = ReLU(h + gc[b][c]) (the global context added to blocks.0's pre-activation).
static void add_relu(const ConvDyn *m, float *h, const float *gc, int B, int il, int par) {
    const int Hc = m->cfg.hidden, HW = m->HW;
    if (!il) {
        OMP_FOR_IF(par)
        for (int b = 0; b < B; b++)
            for (int c = 0; c < Hc; c++) {
                float v0 = gc[(size_t)b * Hc + c], *pl = plane_nchw(m, h, b, c);
                for (int k = 0; k < HW; k++) {
                    float v = pl[k] + v0;
                    pl[k] = v > 0 ? v : 0;
                }
            }
        return;
    }
    OMP_FOR_IF(par)
    for (int g = 0; g < (B + 15) / 16; g++)
        for (int c = 0; c < Hc; c++) {
            v16 add = {0};   // the lanes past B stay zero
            for (int l = 0; l < 16 && 16 * g + l < B; l++) add[l] = gc[(size_t)(16 * g + l) * Hc + c];
            float *pl = plane_il(m, h, g, c);
            for (int k = 0; k < HW; k++) {
                const v16 v = *(v16u *)(pl + (size_t)k * 16) + add;
                *(v16u *)(pl + (size_t)k * 16) = relu_mask(v, v);
            }
        }
}

// d += dpool[b][c] / HW where y > 0 (the pooling's share of dL/d h0's pre-activation).
static void pool_share(const ConvDyn *m, float *d, float *y, const float *dpool, int B, int il, int par) {
    const int Hc = m->cfg.hidden, HW = m->HW;
    if (!il) {
        OMP_FOR_IF(par)
        for (int b = 0; b < B; b++)
            for (int c = 0; c < Hc; c++) {
                float dp = dpool[(size_t)b * Hc + c] / (float)HW, *dd = plane_nchw(m, d, b, c);
                const float *yy = plane_nchw(m, y, b, c);
                for (int k = 0; k < HW; k++)
                    if (yy[k] > 0) dd[k] += dp;
            }
        return;
    }
    OMP_FOR_IF(par)
    for (int g = 0; g < (B + 15) / 16; g++)
        for (int c = 0; c < Hc; c++) {
            v16 dp = {0};
            for (int l = 0; l < 16 && 16 * g + l < B; l++) dp[l] = dpool[(size_t)(16 * g + l) * Hc + c] / (float)HW;
            float *dd = plane_il(m, d, g, c);
            const float *yy = plane_il(m, y, g, c);
            for (int k = 0; k < HW; k++) {
                const v16 dv = *(v16u *)(dd + (size_t)k * 16), sum = dv + dp;
                const vi16 on = (vi16)(*(const v16u *)(yy + (size_t)k * 16) > 0.0f);
                *(v16u *)(dd + (size_t)k * 16) = (v16)((on & (vi16)sum) | (~on & (vi16)dv));
            }
        }
}

// Layer `wi` (weight index; the bias follows) forward, on hs's layout where asked.
static void conv_fwd(ConvDyn *m, float *out, const float *inp, int wi, int act, int B, const ConvShape *s, int in_il,
                     int out_il) {
    const float *w = P(m, m->arena.params, wi), *b = P(m, m->arena.params, wi + 1);
    if (in_il || out_il) wino3_forward_il(out, inp, w, b, act, B, s, m->work, in_il, out_il);
    else conv2d_forward_act(out, inp, w, b, act, B, s, m->work);
}

// Its backward (act none): dinp set through inp's ReLU when relu, param grads added; il: bit 0 inp,
// bit 1 dout, bit 2 dinp interleaved.
static void conv_bwd(ConvDyn *m, float *dinp, const float *dout, const float *inp, int wi, int relu, int B,
                     const ConvShape *s, int il) {
    float *G = m->arena.grads;
    const float *w = P(m, m->arena.params, wi);
    const int fl = CONV_DINP_SET | (relu ? CONV_DINP_RELU : 0);
    if (il)
        wino3_backward_il(dinp, P(m, G, wi), P(m, G, wi + 1), dout, NULL, CONV_ACT_NONE, fl, inp, w, B, s, m->work,
                          il & 1, (il >> 1) & 1, (il >> 2) & 1);
    else
        conv2d_backward_act(dinp, P(m, G, wi), P(m, G, wi + 1), dout, NULL, CONV_ACT_NONE, fl, inp, w, B, s, m->work);
}

void cdyn_forward_step(ConvDyn *m, int t, const float *z, const float *a, int B) {
    check_step(m, t, B);
    const int Hc = m->cfg.hidden, nb = m->cfg.blocks, A = m->cfg.n_actions, HW = m->HW, Z = m->Z, N = m->cfg.history;
    const size_t s = st(m, t), HH = (size_t)Hc * HW, XS = (size_t)m->IN * HW;
    const float *W = m->arena.params;
    float *x0 = m->x0 + s * XS, *pool = m->pool + s * Hc, *g = m->gctx + s * Hc;
    float *hs[CDYN_MAX_BLOCKS + 1];
    for (int i = 0; i <= nb; i++) hs[i] = m->hs[i] + (size_t)t * hs_rows(m) * HH;
    CHECK(!N || m->hist, "conv dynamics: a history of %d steps needs the past latents (hist)", N);
    const int par = (size_t)B * HH >= CDYN_PAR_MIN, il = hs_interleaved(m, B);
    OMP_FOR_IF(par)
    for (int b = 0; b < B; b++)
        input_planes(m, x0 + (size_t)b * XS, z + (size_t)b * Z, a + (size_t)b * A,
                     N ? m->hist + (size_t)b * N * Z : NULL);
    conv_fwd(m, hs[0], x0, m->i_in, CONV_ACT_RELU, B, &m->s_in, 0, il);
    grid_sums(m, pool, hs[0], B, 1, il, par);
    linear_forward(g, pool, W + m->arena.t[m->i_ctx].offset, W + m->arena.t[m->i_ctx + 1].offset, B, Hc, Hc);
    for (int i = 0; i < nb; i++) {
        if (i > 0) {
            conv_fwd(m, hs[i + 1], hs[i], m->i_blk + 2 * i, CONV_ACT_RELU, B, &m->s_mid, il, il);
            continue;
        }
        conv_fwd(m, hs[1], hs[0], m->i_blk, CONV_ACT_NONE, B, &m->s_mid, il, il);
        add_relu(m, hs[1], g, B, il, par);   // + the global context, then ReLU
    }
    float *head = cdyn_head(m, t);
    conv_fwd(m, head, hs[nb], m->i_out, CONV_ACT_NONE, B, &m->s_out, il, 0);
    if (m->cfg.vae || m->cfg.hyp > 1) return;
    float *zn = cdyn_znext(m, t);
    OMP_FOR_IF(par)
    for (int b = 0; b < B; b++)   // z read back from x0: z may alias a znext slice
        for (int k = 0; k < Z; k++) zn[(size_t)b * Z + k] = x0[(size_t)b * XS + k] + head[(size_t)b * Z + k];
}

// blocks.0's backward with the context's share: dg = the grid sums of dcur (dL/d of blocks.0's
// pre-activation, where the context was added), the ctx Linear's backward to dpool, then dnext
// (dL/d of h0's pre-activation) gets the pooling's share dpool / HW through h0's ReLU.
static void block0_backward(ConvDyn *m, float *dnext, float *dcur, float *h0, const float *pool, int B, int par,
                            int il) {
    const int Hc = m->cfg.hidden;
    float *G = m->arena.grads;
    const float *W = m->arena.params;
    grid_sums(m, m->dg, dcur, B, 0, il, par);
    linear_backward_beta(m->dpool, 0.0f, G + m->arena.t[m->i_ctx].offset, G + m->arena.t[m->i_ctx + 1].offset, m->dg,
                         pool, W + m->arena.t[m->i_ctx].offset, B, Hc, Hc);
    conv_bwd(m, dnext, dcur, h0, m->i_blk, 1, B, &m->s_mid, il ? 7 : 0);
    pool_share(m, dnext, h0, m->dpool, B, il, par);
}

void cdyn_backward_step(ConvDyn *m, int t, const float *dhead, const float *dznext, float *dz, int B) {
    check_step(m, t, B);
    CHECK(!((m->cfg.vae || m->cfg.hyp > 1) && dznext),
          "conv dynamics: dznext with a vae or hypotheses head (nn/dynamics.h chooses the delta)");
    const int Hc = m->cfg.hidden, nb = m->cfg.blocks, HW = m->HW, Z = m->Z, N = m->cfg.history;
    const size_t s = st(m, t), HH = (size_t)Hc * HW, XS = (size_t)m->IN * HW, no = (size_t)B * m->OUT;
    const float *x0 = m->x0 + s * XS, *pool = m->pool + s * Hc;
    float *hs[CDYN_MAX_BLOCKS + 1];
    for (int i = 0; i <= nb; i++) hs[i] = m->hs[i] + (size_t)t * hs_rows(m) * HH;
    const int par = (size_t)B * HH >= CDYN_PAR_MIN, il = hs_interleaved(m, B);
    // z' = z + head: dL/dhead = dhead + dznext (one of them as it is when the other is NULL);
    // dz gets dznext directly
    const float *dout = dhead ? dhead : dznext;
    if (dhead && dznext) {
        OMP_FOR_IF(par)
        for (size_t k = 0; k < no; k++) m->d_out[k] = dhead[k] + dznext[k];
        dout = m->d_out;
    } else if (!dout) {
        memset(m->d_out, 0, no * sizeof(float));
        dout = m->d_out;
    }
    if (dz && dznext) {
        OMP_FOR_IF(par)
        for (size_t k = 0; k < (size_t)B * Z; k++) dz[k] += dznext[k];
    }
    float *dcur = m->d0, *dnext = m->d1;   // dL/d(pre-activation of hs[i])
    conv_bwd(m, dcur, dout, hs[nb], m->i_out, 1, B, &m->s_out, il ? 5 : 0);   // dout: the head's gradient, NCHW
    for (int i = nb - 1; i >= 0; i--) {
        if (i == 0) block0_backward(m, dnext, dcur, hs[0], pool, B, par, il);
        else conv_bwd(m, dnext, dcur, hs[i], m->i_blk + 2 * i, 1, B, &m->s_mid, il ? 7 : 0);
        float *tmp = dcur;
        dcur = dnext;
        dnext = tmp;
    }
    conv_bwd(m, dz ? m->dx0 : NULL, dcur, x0, m->i_in, 0, B, &m->s_in, il ? 2 : 0);   // x0 and dx0: NCHW
    if (!dz) return;
    const size_t ho = (size_t)(m->cfg.channels + m->cfg.n_actions) * HW;
    OMP_FOR_IF(par)   // the z planes of x0 and z's share of the difference planes; not the action planes
    for (int b = 0; b < B; b++) {
        const float *g = m->dx0 + (size_t)b * XS;
        for (int k = 0; k < Z; k++) {
            float acc = g[k];
            for (int j = 0; j < N; j++) acc += g[ho + (size_t)j * Z + k];
            dz[(size_t)b * Z + k] += acc;
        }
    }
}

size_t cdyn_bytes(const ConvDyn *m) {
    return 4 * floats_bytes(m->arena.n) + floats_bytes(m->acts_floats) + floats_bytes(m->work_floats);
}

void cdyn_print_table(const ConvDyn *m, FILE *f) {
    const ConvDynConfig *c = &m->cfg;
    const int Hc = c->hidden;
    fprintf(f, "conv dynamics on a %dx%dx%d latent grid + %d action planes + %d history planes, hidden %d, %d blocks, "
               "%s head, max batch %d, max steps %d\n", c->channels, c->height, c->width, c->n_actions,
            c->history * c->channels, Hc, c->blocks,
            c->vae ? "vae (mean, log-variance)" : c->hyp > 1 ? "hypotheses (deltas, logit planes)" : "delta", m->max_B,
            c->max_steps);
    if (!dyn_hist_offsets_dense(c->hist_off, c->history)) {
        char buf[DYN_HIST_MAX * 5];
        dyn_hist_offsets_text(c->hist_off, c->history, buf, sizeof buf);
        fprintf(f, "  history: the latents %s steps before\n", buf);
    }
    fprintf(f, "  %-22s %-16s    %-16s %10s %10s\n", "layer", "in", "out", "params", "MFLOP/smp");
    char in[32], out[32], name[32];
    double hw = m->HW, total = 0;
    snprintf(in, sizeof in, "%dx%dx%d", m->IN, c->height, c->width);
    snprintf(out, sizeof out, "%dx%dx%d", Hc, c->height, c->width);
    double fl = 2.0 * hw * Hc * m->IN * 9;
    total += fl;
    fprintf(f, "  %-22s %-16s -> %-16s %10zu %10.2f\n", "conv_in+relu", in, out, (size_t)Hc * m->IN * 9 + Hc, fl / 1e6);
    fprintf(f, "  %-22s %-16d -> %-16d %10zu %10.2f\n", "ctx (pooled)", Hc, Hc, (size_t)Hc * Hc + Hc,
            2.0 * Hc * Hc / 1e6);
    for (int i = 0; i < c->blocks; i++) {
        snprintf(name, sizeof name, "blocks.%d+%srelu", i, i == 0 ? "ctx+" : "");
        fl = 2.0 * hw * Hc * Hc * 9;
        total += fl;
        fprintf(f, "  %-22s %-16s -> %-16s %10zu %10.2f\n", name, out, out, (size_t)Hc * Hc * 9 + Hc, fl / 1e6);
    }
    snprintf(in, sizeof in, "%dx%dx%d", m->OC, c->height, c->width);
    fl = 2.0 * hw * Hc * m->OC * 9;
    total += fl;
    fprintf(f, "  %-22s %-16s -> %-16s %10zu %10.2f\n", c->hyp > 1 ? "conv_out (1e-2 init)" : "conv_out (zero-init)",
            out, in, (size_t)m->OC * Hc * 9 + m->OC, fl / 1e6);
    fprintf(f, "  total params %zu, forward %.1f MFLOP/sample, memory %.1f MiB (params+grads+adam %.1f, activations "
               "%.1f, workspace %.1f)\n", m->arena.n, total / 1e6, cdyn_bytes(m) / 1048576.0,
            16.0 * m->arena.n / 1048576.0, 4.0 * m->acts_floats / 1048576.0, 4.0 * m->work_floats / 1048576.0);
}

// ---------------------------------------------------------------- DynOps, checkpoints

static void ops_forward(void *m, int t, const float *z, const float *hist, const float *a, int B) {
    ((ConvDyn *)m)->hist = hist;
    cdyn_forward_step(m, t, z, a, B);
}
static void ops_backward(void *m, int t, const float *dh, const float *dzn, float *dz, int B) {
    cdyn_backward_step(m, t, dh, dzn, dz, B);
}
static float *ops_head(void *m, int t) { return cdyn_head(m, t); }
static float *ops_znext(void *m, int t) { return cdyn_znext(m, t); }
static ParamArena *ops_arena(void *m) { return &((ConvDyn *)m)->arena; }
static void ops_free(void *m) { cdyn_free(m); free(m); }
static void ops_print(const void *m, FILE *f) { cdyn_print_table(m, f); }
static size_t ops_bytes(const void *m) { return cdyn_bytes(m); }

const DynOps DYN_CONV_OPS = {"conv", ops_forward, ops_backward, ops_head, ops_znext,
                             ops_arena, ops_free, ops_print, ops_bytes};

int dynm_conv_init(DynModel *m, const ConvDynConfig *cfg, int max_B, Rng *rng, Err *err) {
    memset(m, 0, sizeof *m);
    ConvDyn *d = xmalloc(sizeof *d);
    if (cdyn_init(d, cfg, max_B, rng, err) < 0) {
        free(d);
        return -1;
    }
    if (dynm_init(m, &DYN_CONV_OPS, d, d->Z, cfg->n_actions, max_B, cfg->max_steps, cfg->vae, d->cfg.hyp, d->HW,
                  cfg->history, cfg->hist_off, err) < 0)
        return -1;
    m->choice_cell = cfg->hyp_cell;
    return 0;
}

void ckpt_meta_conv_dyn(CkptMeta *meta, const ConvDynConfig *c) {
    snprintf(meta->model, sizeof meta->model, "dynamics");
    ckpt_set_str(meta, "family", "conv");
    ckpt_set_i64(meta, "latent_dim", (int64_t)c->channels * c->height * c->width);
    ckpt_set_i64(meta, "latent_channels", c->channels);
    ckpt_set_i64(meta, "grid_height", c->height);
    ckpt_set_i64(meta, "grid_width", c->width);
    ckpt_set_i64(meta, "n_actions", c->n_actions);
    ckpt_set_i64(meta, "hidden", c->hidden);
    ckpt_set_i64(meta, "blocks", c->blocks);
    if (c->vae) ckpt_set_i64(meta, "vae", 1);
    if (c->hyp > 1) ckpt_set_i64(meta, "hypotheses", c->hyp);
    if (c->hyp_cell) ckpt_set_str(meta, "hyp_choice", "cell");   // absent: frame (checkpoints as before)
    if (c->history > 0) ckpt_set_i64(meta, "history", c->history);
    if (!dyn_hist_offsets_dense(c->hist_off, c->history)) {   // checkpoints of 1..N as before
        char buf[DYN_HIST_MAX * 5];
        dyn_hist_offsets_text(c->hist_off, c->history, buf, sizeof buf);
        ckpt_set_str(meta, "history_offsets", buf);
    }
}

int ckpt_meta_is_conv_dyn(const CkptMeta *meta) {
    const CkptAttr *a = ckpt_get(meta, "family");
    return a && a->type == CKPT_STR && strcmp(a->s, "conv") == 0;
}

static int get_int(const CkptMeta *meta, const char *name, int *out, Err *err) {
    const CkptAttr *a = ckpt_get(meta, name);
    if (!a) return err_set(err, "conv dynamics checkpoint: attribute '%s' is missing", name);
    if (a->type == CKPT_I64) *out = (int)a->i;
    else if (a->type == CKPT_F64) *out = (int)a->f;
    else return err_set(err, "conv dynamics checkpoint: attribute '%s' should be a number", name);
    return 0;
}

int ckpt_meta_to_conv_dyn_config(const CkptMeta *meta, ConvDynConfig *c, Err *err) {
    memset(c, 0, sizeof *c);
    if (strcmp(meta->model, "dynamics") != 0 || !ckpt_meta_is_conv_dyn(meta))
        return err_set(err, "checkpoint holds a '%s' model, expected conv dynamics (family = conv)", meta->model);
    if (get_int(meta, "latent_channels", &c->channels, err) < 0 || get_int(meta, "grid_height", &c->height, err) < 0 ||
        get_int(meta, "grid_width", &c->width, err) < 0 || get_int(meta, "n_actions", &c->n_actions, err) < 0 ||
        get_int(meta, "hidden", &c->hidden, err) < 0 || get_int(meta, "blocks", &c->blocks, err) < 0)
        return -1;
    if (ckpt_get(meta, "vae") && get_int(meta, "vae", &c->vae, err) < 0) return -1;
    c->hyp = 1;
    if (ckpt_get(meta, "hypotheses") && get_int(meta, "hypotheses", &c->hyp, err) < 0) return -1;
    if (ckpt_get(meta, "history") && get_int(meta, "history", &c->history, err) < 0) return -1;
    const CkptAttr *hc = ckpt_get(meta, "hyp_choice");
    c->hyp_cell = 0;
    if (hc && (hc->type != CKPT_STR || (strcmp(hc->s, "frame") && strcmp(hc->s, "cell"))))
        return err_set(err, "conv dynamics checkpoint: attribute 'hyp_choice' should be 'frame' or 'cell'");
    if (hc) c->hyp_cell = strcmp(hc->s, "cell") == 0;
    const CkptAttr *ho = ckpt_get(meta, "history_offsets");
    if (ho) {
        if (ho->type != CKPT_STR)
            return err_set(err, "conv dynamics checkpoint: attribute 'history_offsets' should be a string");
        int n = dyn_hist_offsets_parse(ho->s, c->hist_off, err);
        if (n < 0) return -1;
        if (n != c->history)
            return err_set(err, "conv dynamics checkpoint: history_offsets '%s' lists %d steps, history is %d", ho->s,
                           n, c->history);
    }
    c->max_steps = 1;
    return cdyn_config_check(c, err);
}

// ---------------------------------------------------------------- either family

int dynm_init_for_ae(DynModel *m, const AEConfig *ae, const DynConfig *dc, int blocks, int hyp, int hyp_cell,
                     int history, const int *hist_off, int max_B, Rng *rng, Err *err) {
    if (!ae->latent_channels && (hyp > 1 || history > 0))
        return err_set(err, "dynamics: %s need the conv dynamics of a spatial latent (model.latent = spatial)",
                       hyp > 1 ? "hypotheses" : "a history");
    if (!ae->latent_channels) return dynm_flat_init(m, dc, max_B, rng, err);
    ConvDynConfig c = cdyn_config_for(ae, dc->n_actions, dc->hidden, blocks, dc->max_steps, dc->vae, hyp, history);
    for (int k = 0; hist_off && k < history && k < CDYN_MAX_HISTORY; k++) c.hist_off[k] = hist_off[k];
    c.hyp_cell = hyp_cell;
    return dynm_conv_init(m, &c, max_B, rng, err);
}

int dynm_init_from_meta(DynModel *m, const CkptMeta *meta, int max_B, int max_steps, Rng *rng, int *latent_dim_out,
                        int *vae_out, Err *err) {
    memset(m, 0, sizeof *m);
    if (ckpt_meta_is_conv_dyn(meta)) {
        ConvDynConfig c;
        if (ckpt_meta_to_conv_dyn_config(meta, &c, err) < 0) return -1;
        c.max_steps = max_steps;
        if (latent_dim_out) *latent_dim_out = c.channels * c.height * c.width;
        if (vae_out) *vae_out = c.vae;
        return dynm_conv_init(m, &c, max_B, rng, err);
    }
    DynConfig dc;
    if (ckpt_meta_to_dyn_config(meta, &dc, err) < 0) return -1;
    dc.max_steps = max_steps;
    if (latent_dim_out) *latent_dim_out = dc.latent_dim;
    if (vae_out) *vae_out = dc.vae;
    return dynm_flat_init(m, &dc, max_B, rng, err);
}

void ckpt_meta_dynm(CkptMeta *meta, const DynModel *m) {
    if (m->ops == &DYN_CONV_OPS) ckpt_meta_conv_dyn(meta, &((const ConvDyn *)m->impl)->cfg);
    else ckpt_meta_dyn(meta, &((const Dyn *)m->impl)->cfg);
}
