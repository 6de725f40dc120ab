/*
 * conv.c - Conv2d and ConvTranspose2d forward and backward (see conv.h), and conv_plan.
 *
 * Work is split per sample: each OpenMP thread takes whole samples (or, with fewer samples
 * than threads, groups of output channels or output row parities) and runs single-threaded
 * kernels on them in its own slice of the workspace (the OpenMP build of OpenBLAS runs one
 * thread inside our parallel regions).
 *  - Kernel 4 / stride 2 / padding 1, the only conv the models use: forward and
 *    backward-data by the direct kernels of conv_direct.c ("down": big grid to small grid,
 *    conv2d forward and convT backward-data; "up": the other way), except towards fewer than
 *    8 channels or from a single one. With 16+ and 32+ channels and enough 2x2 output tiles,
 *    Winograd F(2x2, 2x2) instead, for the weight gradients too (conv_wino.c).
 *  - Everything else, and the other weight gradients: unfold (im2col) into a column buffer that
 *    stays in L2 + GEMM, fold (col2im) for the transposed direction; branch-free loops for
 *    K4 S2 P1.
 * Bias and the activation are applied while the sample's output is in cache; the backward
 * pass folds the activation's derivative into its first read of dout and the previous
 * layer's ReLU mask into its write of dinp. Weight gradients are accumulated per thread and
 * summed in thread order, so results are deterministic for a given thread count.
 * Which path runs is conv_plan's choice (conv_plan.c), the one place that decides it.
 */
#include "nn/conv_internal.h"
#include "nn/conv_same.h"
#include "nn/conv_wino3.h"
#include "nn/fastmath.h"
#include "nn/gemm.h"
#include "base/err.h"
#include "base/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif


// Backward chunks gather samples until the GEMMs' sample dimension reaches this many columns.
#define CONV_MIN_COLS 256

// ---------------------------------------------------------------- shapes and workspaces

// Samples per backward chunk: enough columns for the weight-gradient GEMM, while the
// chunk's column and gradient buffers stay within CONV_CACHE_FLOATS.
static int conv_chunk(const Grids *g, int B) {
    size_t per = ((size_t)g->R + g->Cs) * g->L;
    size_t want = (CONV_MIN_COLS + g->L - 1) / g->L;
    size_t fit = per ? CONV_CACHE_FLOATS / per : want;
    size_t c = want < fit ? want : fit;
    if (c < 1) c = 1;
    if (c > (size_t)B) c = (size_t)B;
    return (int)c;
}

// Per-thread layout (floats, each part 64-byte aligned):
//   db accumulators (2*Cout: doubles) | col [R, c*L] | dW [Cs*R] (conv2d) or [Cs*R] (convT) |
//   t1: conv2d [Cs, c*L] gradient chunk; convT [Cs, c*L] input chunk, [Cb*Lb] act'(dout) |
//   plane: one big-grid plane (generic fold), or [Cs, L] (convT masked dinp)
//   wdv: the Winograd weight gradient [9][Cs][4 Cb] (when it applies)
typedef struct { size_t db, col, dw, t1, t2, plane, direct, wdv, total; } ThreadLayout;

static size_t direct_floats(const Grids *g);

static ThreadLayout thread_layout(const Grids *g, int transposed, int c) {
    ThreadLayout l;
    size_t cout = transposed ? (size_t)g->Cb : (size_t)g->Cs;
    size_t o = 0;
    l.db = o;    o += round16(2 * cout);
    l.col = o;   o += round16((size_t)g->R * c * g->L);
    l.dw = o;    o += round16((size_t)g->Cs * g->R);
    l.t1 = o;    o += round16((size_t)g->Cs * c * g->L);
    l.t2 = o;    o += transposed ? round16((size_t)g->Cb * g->Lb) : 0;
    l.plane = o; o += round16(g->Lb > g->Cs * g->L ? g->Lb : (size_t)g->Cs * g->L);
    l.direct = o; o += g->fast ? direct_floats(g) : 0;
    l.wdv = o;   o += wino_fits(g) ? round16(9 * 4 * (size_t)g->Cs * g->Cb) : 0;
    l.total = o;
    return l;
}

static size_t conv_workspace(const ConvShape *s, int transposed, int B) {
    CHECK(B > 0, "conv workspace: B=%d", B);
    Grids g = grids(s, transposed);
    // direct_down's packed weight, or Winograd's transformed one (9 x 4 per weight pair)
    size_t packed = g.fast ? round16((size_t)g.Cs * g.Cb * (wino_fits(&g) ? 36 : 16)) : 0;
    return (size_t)threads_cap() * thread_layout(&g, transposed, conv_chunk(&g, B)).total + packed;
}

size_t conv2d_workspace(const ConvShape *s, int B) {
    size_t n = conv_workspace(s, 0, B);
    if (conv_same_fits(s)) {   // whichever path runs: CONV_SHIFT's layout may be the larger
        size_t m = conv_same_workspace(s, B);
        if (m > n) n = m;
    }
    if (wino3_fits(s)) {   // and Winograd F(4x4, 3x3)'s
        size_t m = wino3_workspace(s, B);
        if (m > n) n = m;
    }
    return n;
}
size_t convt2d_workspace(const ConvShape *s, int B) { return conv_workspace(s, 1, B); }

// The epilogue that writes dinp for dinp_flags (ops.h).
static int dinp_mode(int flags) {
    if (flags & CONV_DINP_SET) return flags & CONV_DINP_RELU ? EPI_SET_MASK : EPI_SET;
    return flags & CONV_DINP_RELU ? EPI_ADD_MASK : EPI_ADD;
}

// sum(x) in double (the bias gradients: a chain of dependent adds was ~2% of a 240x256
// training step)
static double row_sum(const float *x, size_t n) { return sum_double(x, n, 0); }

// g [n] = dL/d(pre-activation) from dout = dL/dy and y = act(pre-activation); returns sum(g).
static double act_grad(float *restrict gout, const float *restrict dout, const float *restrict y, size_t n,
                       int act) {
    if (act == CONV_ACT_RELU) {
        OMP_SIMD
        for (size_t i = 0; i < n; i++) gout[i] = y[i] > 0.0f ? dout[i] : 0.0f;
    } else if (act == CONV_ACT_SIGMOID) {
        OMP_SIMD
        for (size_t i = 0; i < n; i++) gout[i] = dout[i] * y[i] * (1.0f - y[i]);
    } else {
        memcpy(gout, dout, n * sizeof(float));
    }
    return row_sum(gout, n);
}




// ---------------------------------------------------------------- direct K4 S2 P1 (conv_direct.h)
// Both directions between the big grid [Cb, Hb, Wb] and the small grid [Cs, Hs, Ws] with the
// weight [Cs, Cb, 4, 4]: "down" (big -> small) is conv2d forward and convT backward-data,
// "up" (small -> big) is convT forward and conv2d backward-data.

static DirectGeom geom_up(const Grids *g, int py, int px) {
    return direct_convt_geom(g->Cs, g->Cb, g->Hs, g->Ws, py, px);
}

// Floats one thread needs: padded input + raw sums (+ two parities and a row for "up"; +
// the transformed input and products of a block of tiles and a zero row for Winograd).
static size_t direct_floats(const Grids *g) {
    DirectGeom d = geom_down(g), u = geom_up(g, 0, 0);
    size_t down = round16(d.xfloats) + (size_t)g->Cs * d.NP;
    size_t up = round16(u.xfloats) + 2 * round16((size_t)g->Cb * u.NP) + (size_t)g->Wb;
    size_t n = down > up ? down : up;
    if (wino_fits(g) && wino_floats(g) > n) n = wino_floats(g);
    return round16(n);
}

// Floats of raw sums per block of rows: direct_up keeps two parities of this size (128 KB
// each), direct_down one of twice the size.
#define DIRECT_UP_BLOCK_FLOATS (1 << 15)

// small [Cs, Hs, Ws] -> out [Cb, Hb, Wb] with its epilogue, for big channels [m0, m1) and
// output row parities [py0, py1); the small input's channels are ldc floats apart.
static void direct_up(float *out, const float *in, size_t ldc, const float *w, const Grids *g, int m0, int m1,
                      int py0, int py1, int mode, const float *bias, int act, const float *mask, float *buf) {
    DirectGeom u[2][2];
    for (int py = 0; py < 2; py++)
        for (int px = 0; px < 2; px++) u[py][px] = geom_up(g, py, px);
    const int NP = u[0][0].NP, Wp = u[0][0].Wp, Ws = g->Ws, Wb = g->Wb, M = m1 - m0;
    float *x = buf, *t0 = x + round16(u[0][0].xfloats), *t1 = t0 + round16((size_t)g->Cb * NP);
    float *srow = t1 + round16((size_t)g->Cb * NP);
    direct_convt_prep(x, in, ldc, &u[0][0], g->Hs, Ws);
    // blocks of rows: both parities' raw sums of a block are interleaved into the output
    // while they are still in L2
    int rows = (int)(DIRECT_UP_BLOCK_FLOATS / ((size_t)M * Wp));
    if (rows < 1) rows = 1;
    for (int py = py0; py < py1; py++)
        for (int i0 = 0; i0 < g->Hs; i0 += rows) {
            const int i1 = i0 + rows < g->Hs ? i0 + rows : g->Hs;
            direct_run(t0, NP, M, i0 * Wp, i1 * Wp, x, w + (size_t)m0 * 16, &u[py][0]);
            direct_run(t1, NP, M, i0 * Wp, i1 * Wp, x, w + (size_t)m0 * 16, &u[py][1]);
            for (int m = 0; m < M; m++) {
                const float *r0 = t0 + (size_t)m * NP, *r1 = t1 + (size_t)m * NP;
                const size_t plane = (size_t)(m0 + m) * g->Lb;
                for (int i = i0; i < i1; i++) {
                    for (int j = 0; j < Ws; j++) srow[2 * j] = r0[i * Wp + j], srow[2 * j + 1] = r1[i * Wp + j];
                    size_t row = plane + (size_t)(2 * i + py) * Wb;
                    conv_epilogue(out + row, srow, (size_t)Wb, mode, bias ? bias[m0 + m] : 0.0f, act, mask ? mask + row : NULL);
                }
            }
        }
}

// big [Cb, Hb, Wb] (channels ldc floats apart) -> out [Cs, Hs, Ws] with its epilogue, for
// small channels [m0, m1) (m0 a multiple of 8); wp: the weight packed by direct_conv_pack.
static void direct_down(float *out, const float *in, size_t ldc, const float *wp, const Grids *g, int m0, int m1,
                        int mode, const float *bias, int act, const float *mask, float *buf) {
    DirectGeom d = geom_down(g);
    float *x = buf, *t = x + round16(d.xfloats);
    direct_conv_prep(x, in, ldc, &d, g->Hb, g->Wb);
    // blocks of rows, each finished by its epilogue while its raw sums are in L2
    int rows = (int)(2 * DIRECT_UP_BLOCK_FLOATS / ((size_t)(m1 - m0) * d.Wp));
    if (rows < 1) rows = 1;
    for (int y0 = 0; y0 < g->Hs; y0 += rows) {
        const int y1 = y0 + rows < g->Hs ? y0 + rows : g->Hs;
        direct_run(t, d.NP, m1 - m0, y0 * d.Wp, y1 * d.Wp, x, wp + (size_t)m0 * d.wpacked, &d);
        for (int m = m0; m < m1; m++)
            for (int y = y0; y < y1; y++) {
                size_t row = (size_t)m * g->L + (size_t)y * g->Ws;
                conv_epilogue(out + row, t + (size_t)(m - m0) * d.NP + (size_t)y * d.Wp, (size_t)g->Ws, mode,
                         bias ? bias[m] : 0.0f, act, mask ? mask + row : NULL);
            }
    }
}

// ConvT towards 2 to 4 channels (the RGB decoder's last layer): direct_up_few, all output
// parities at once, then the epilogue in place. Whole samples per thread, or with fewer
// samples than threads, all threads on each sample: the padded input prepared once, by
// channel ranges, then rows split. Measured against GEMM + col2im (240x256x3 output, 32
// input channels): the same at batch 16, 0.47 -> 0.34 ms at batch 1; towards 1 channel
// (80x80 grey) GEMM stays faster (2.2 vs 3.8 ms at batch 128), so it keeps that case.

static void few_epilogue(float *o, const Grids *g, int r0, int r1, const float *b, int act) {
    for (int m = 0; m < g->Cb; m++)
        for (int r = r0; r < r1; r++) {
            float *row = o + (size_t)m * g->Lb + (size_t)r * g->Wb;
            conv_epilogue(row, row, (size_t)g->Wb, EPI_SET, b ? b[m] : 0.0f, act, NULL);
        }
}

static void convt_few(float *out, const float *inp, const float *w, const float *b, int act, int B, const Grids *g,
                      float *work, const ThreadLayout *tl, int T) {
    const DirectGeom u = geom_up(g, 0, 0);
    const size_t in_sz = (size_t)g->Cs * g->L, out_sz = (size_t)g->Cb * g->Lb;
    if (B >= T || T == 1) {
        #ifdef _OPENMP
        #pragma omp parallel for schedule(static) num_threads(T) if(T > 1 && B > 1)
        #endif
        for (int n = 0; n < B; n++) {
            float *x = work + (size_t)omp_thread_id() * tl->total + tl->direct, *o = out + (size_t)n * out_sz;
            direct_convt_prep(x, inp + (size_t)n * in_sz, g->L, &u, g->Hs, g->Ws);
            direct_up_few(o, g->Lb, g->Cb, 0, g->Hs, x, w, &u, g->Ws);
            few_epilogue(o, g, 0, g->Hb, b, act);
        }
        return;
    }
    float *x = work + tl->direct;   // thread 0's slice, shared
    #ifdef _OPENMP
    #pragma omp parallel num_threads(T)
    #endif
    {
        const int k = omp_thread_id();
        const int c0 = g->Cs * k / T, c1 = g->Cs * (k + 1) / T, i0 = g->Hs * k / T, i1 = g->Hs * (k + 1) / T;
        for (int n = 0; n < B; n++) {
            float *o = out + (size_t)n * out_sz;
            direct_convt_prep_range(x, inp + (size_t)n * in_sz, g->L, &u, g->Hs, g->Ws, c0, c1);
            if (k == 0) direct_convt_tail(x, &u);
            #ifdef _OPENMP
            #pragma omp barrier
            #endif
            direct_up_few(o, g->Lb, g->Cb, i0, i1, x, w, &u, g->Ws);
            few_epilogue(o, g, 2 * i0, 2 * i1, b, act);
            #ifdef _OPENMP
            #pragma omp barrier
            #endif
        }
    }
}

// Output channel range k of n groups of whole 8-channel tiles.
static void channel_group(int C, int k, int n, int *c0, int *c1) {
    int tiles = (C + 7) / 8;
    *c0 = (int)((long)k * tiles / n) * 8;
    *c1 = (int)((long)(k + 1) * tiles / n) * 8;
    if (*c1 > C) *c1 = C;
}

// Channel groups per sample so that a batch smaller than the thread count still feeds every
// thread (at most one group per 8-channel tile).
static int direct_groups(int B, int T, int C, int per_sample) {
    int items = B * per_sample;
    int ng = items < T ? (T + items - 1) / items : 1;
    int tiles = (C + 7) / 8;
    return ng < tiles ? ng : tiles;
}

// ---------------------------------------------------------------- conv2d

// out [B,OC,OH,OW] = act(conv(inp [B,C,H,W], w [OC,C,K,K]) + b [OC]) (b may be NULL)
// Work items are samples; with fewer samples than threads, samples x blocks of output channels.
void conv2d_forward_act(float *out, const float *inp, const float *w, const float *b, int act,
                        int B, const ConvShape *s, float *work) {
    const ConvPlan plan = conv_plan(s, 0, B, 0);
    conv2d_forward_plan(out, inp, w, b, act, B, s, work, &plan);
}

void conv2d_forward_plan(float *out, const float *inp, const float *w, const float *b, int act, int B,
                         const ConvShape *s, float *work, const ConvPlan *plan) {
    conv_check_plan(s, 0, plan);
    if (plan->forward == CONV_SHIFT) {
        conv_same_forward(out, inp, w, b, act, B, s, work);
        return;
    }
    if (plan->forward == CONV_WINOGRAD && wino3_fits(s)) {
        wino3_forward(out, inp, w, b, act, B, s, work);
        return;
    }
    const Grids g = grids(s, 0);
    const ThreadLayout tl = thread_layout(&g, 0, conv_chunk(&g, B));
    const size_t in_sz = (size_t)s->C * g.Lb, out_sz = (size_t)s->OC * g.L;
    const int T = conv_threads();
    if (plan->forward == CONV_WINOGRAD) {
        wino_forward(out, inp, w, b, act, B, &g, 0, work + (size_t)threads_cap() * tl.total, work + tl.direct,
                     tl.total, T);
        return;
    }
    if (plan->forward == CONV_DIRECT) {
        float *wp = work + (size_t)threads_cap() * tl.total;
        direct_conv_pack(wp, w, s->OC, s->C);
        const int ng = direct_groups(B, T, s->OC, 1), items = B * ng;
        #ifdef _OPENMP
        #pragma omp parallel for schedule(static) num_threads(T) if(T > 1 && items > 1)
        #endif
        for (int it = 0; it < items; it++) {
            int n = it / ng, m0, m1;
            channel_group(s->OC, it % ng, ng, &m0, &m1);
            direct_down(out + (size_t)n * out_sz, inp + (size_t)n * in_sz, g.Lb, wp, &g, m0, m1, EPI_SET, b, act,
                        NULL, work + (size_t)omp_thread_id() * tl.total + tl.direct);
        }
        return;
    }
    int nblk = B < T ? (T + B - 1) / B : 1;
    if (nblk > s->OC) nblk = s->OC;
    const int items = B * nblk;
    #ifdef _OPENMP
    #pragma omp parallel num_threads(T) if(T > 1 && items > 1)
    #endif
    {
        float *base = work + (size_t)omp_thread_id() * tl.total, *col = base + tl.col;
        #ifdef _OPENMP
        #pragma omp for schedule(static)
        #endif
        for (int it = 0; it < items; it++) {
            int n = it / nblk, k = it % nblk;
            int oc0 = (int)((long)k * s->OC / nblk), oc1 = (int)((long)(k + 1) * s->OC / nblk);
            unfold(col, g.L, inp + (size_t)n * in_sz, &g);
            float *o = out + (size_t)n * out_sz;
            // o [oc0:oc1, L] = w [oc0:oc1, R] x col [R, L]
            gemm(0, 0, oc1 - oc0, (int)g.L, g.R, 1.0f, w + (size_t)oc0 * g.R, g.R, col, (int)g.L, 0.0f,
                 o + (size_t)oc0 * g.L, (int)g.L);
            for (int oc = oc0; oc < oc1; oc++)
                conv_epilogue(o + (size_t)oc * g.L, o + (size_t)oc * g.L, g.L, EPI_SET, b ? b[oc] : 0.0f, act, NULL);
        }
    }
}

void conv2d_forward(float *out, const float *inp, const float *w, const float *b,
                    int B, const ConvShape *s, float *work) {
    conv2d_forward_act(out, inp, w, b, CONV_ACT_NONE, B, s, work);
}

// Adds the per-thread weight gradients, each accumulated transposed as [R, M] (col x a^T:
// OpenBLAS runs that orientation 5-20% faster for these thin shapes, bench/README.md), to
// dw [M, R], and the per-thread bias sums to db [nb], in thread order. Called by every
// thread of the region.
static void reduce_grads(float *dw, float *db, float *work, const ThreadLayout *tl, int nt, int M, int R, int nb) {
    // every thread's buffers are complete before any thread reads them (a thread may add to
    // its own after the work-sharing loop, as the Winograd weight gradient does)
    #ifdef _OPENMP
    #pragma omp barrier
    #endif
    if (dw) {
        #ifdef _OPENMP
        #pragma omp for schedule(static)
        #endif
        for (int m = 0; m < M; m++)
            for (int r = 0; r < R; r++) {
                float v = 0.0f;
                for (int t = 0; t < nt; t++) v += work[(size_t)t * tl->total + tl->dw + (size_t)r * M + m];
                dw[(size_t)m * R + r] += v;
            }
    }
    if (db) {
        #ifdef _OPENMP
        #pragma omp single
        #endif
        for (int c = 0; c < nb; c++) {
            double acc = 0.0;
            for (int t = 0; t < nt; t++) acc += ((const double *)(work + (size_t)t * tl->total + tl->db))[c];
            db[c] += (float)acc;
        }
    }
}

// dinp [B,C,H,W] += (= with CONV_DINP_SET), dw [OC,C,K,K] +=, db [OC] += ; dout = dL/dy
// [B,OC,OH,OW] with y = act(conv + b) the forward output (unused for CONV_ACT_NONE).
// dinp_flags (ops.h): CONV_DINP_RELU masks dinp by inp > 0 (the gradient of the layer
// before's pre-activation).
void conv2d_backward_act(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                         int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s,
                         float *work) {
    const ConvPlan plan = conv_plan(s, 0, B, 0);
    conv2d_backward_plan(dinp, dw, db, dout, y, act, dinp_flags, inp, w, B, s, work, &plan);
}

void conv2d_backward_plan(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                          int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s, float *work,
                          const ConvPlan *plan) {
    conv_check_plan(s, 0, plan);
    if (plan->dinp == CONV_SHIFT || plan->dw == CONV_SHIFT) {   // those parts (and db) here, the rest below
        const int sd = plan->dinp == CONV_SHIFT, sw = plan->dw == CONV_SHIFT;
        conv_same_backward(sd ? dinp : NULL, sw ? dw : NULL, db, dout, y, act, dinp_flags, inp, w, B, s, work);
        if ((sd || !dinp) && (sw || !dw)) return;
        if (sd) dinp = NULL;
        if (sw) dw = NULL;
        db = NULL;
    }
    if (wino3_fits(s) && ((dinp && plan->dinp == CONV_WINOGRAD) || (dw && plan->dw == CONV_WINOGRAD))) {
        const int wd = plan->dinp == CONV_WINOGRAD, ww = plan->dw == CONV_WINOGRAD;   // those parts (and db) here
        wino3_backward(wd ? dinp : NULL, ww ? dw : NULL, db, dout, y, act, dinp_flags, inp, w, B, s, work);
        if ((wd || !dinp) && (ww || !dw)) return;
        if (wd) dinp = NULL;
        if (ww) dw = NULL;
        db = NULL;
    }
    const Grids g = grids(s, 0);
    const int inp_relu = dinp_flags & CONV_DINP_RELU, dmode = dinp_mode(dinp_flags);
    const int c = conv_chunk(&g, B), nch = (B + c - 1) / c;
    const ThreadLayout tl = thread_layout(&g, 0, c);
    const size_t in_sz = (size_t)s->C * g.Lb, out_sz = (size_t)s->OC * g.L;
    int T = conv_threads();
    if (T > nch) T = nch;
    const int direct = dinp && plan->dinp != CONV_GEMM;   // dinp: "up" from the output grid
    const int wino = dinp && plan->dinp == CONV_WINOGRAD, wdw = dw && plan->dw == CONV_WINOGRAD;
    float *V = work + (size_t)threads_cap() * tl.total;
    if (wino) wino_weights(V, w, s->OC, s->C);
    #ifdef _OPENMP
    #pragma omp parallel num_threads(T) if(T > 1)
    #endif
    {
        const int tid = omp_thread_id();
        float *base = work + (size_t)tid * tl.total;
        double *dbt = (double *)(base + tl.db);
        float *col = base + tl.col, *gch = base + tl.t1, *plane = base + tl.plane, *dbuf = base + tl.direct;
        float *dwt = base + tl.dw;   // [R, OC]
        float *dV = base + tl.wdv;   // Winograd's [9][OC][4C]
        for (int oc = 0; oc < s->OC; oc++) dbt[oc] = 0.0;
        if (dw) memset(dwt, 0, sizeof(float) * (size_t)s->OC * g.R);
        if (wdw) memset(dV, 0, sizeof(float) * 9 * 4 * (size_t)s->OC * s->C);
        #ifdef _OPENMP
        #pragma omp for schedule(static)
        #endif
        for (int ch = 0; ch < nch; ch++) {
            const int b0 = ch * c, nb = B - b0 < c ? B - b0 : c;
            const size_t N = (size_t)nb * g.L;
            // gm [OC, N]: dL/d(pre-activation), sample j in columns j*L
            const float *gm;
            if (act == CONV_ACT_NONE && nb == 1) {
                gm = dout + (size_t)b0 * out_sz;
                for (int oc = 0; oc < s->OC; oc++) dbt[oc] += row_sum(gm + (size_t)oc * g.L, g.L);
            } else {
                for (int j = 0; j < nb; j++)
                    for (int oc = 0; oc < s->OC; oc++) {
                        size_t off = (size_t)(b0 + j) * out_sz + (size_t)oc * g.L;
                        dbt[oc] += act_grad(gch + (size_t)oc * N + (size_t)j * g.L, dout + off,
                                            y ? y + off : NULL, g.L, act);
                    }
                gm = gch;
            }
            if (wdw) {
                for (int j = 0; j < nb; j++)
                    wino_dw(dV, inp + (size_t)(b0 + j) * in_sz, g.Lb, gm + (size_t)j * g.L, N, &g, dbuf);
            } else if (dw && dw_blocked(&g, nb)) {
                dw_row_blocks(dwt, gm, N, s->OC, inp + (size_t)b0 * in_sz, &g, col);
            } else if (dw) {
                for (int j = 0; j < nb; j++) unfold(col + (size_t)j * g.L, N, inp + (size_t)(b0 + j) * in_sz, &g);
                // dw [OC, R] += gm [OC, N] x col^T [N, R]
                gemm(0, 1, g.R, s->OC, (int)N, 1.0f, col, (int)N, gm, (int)N, 1.0f, dwt, s->OC);
            }
            if (direct) {
                for (int j = 0; j < nb; j++) {
                    size_t off = (size_t)(b0 + j) * in_sz;
                    if (wino)
                        wino_adj(dinp + off, gm + (size_t)j * g.L, N, V, &g, dmode, NULL, CONV_ACT_NONE,
                                inp_relu ? inp + off : NULL, dbuf);
                    else
                        direct_up(dinp + off, gm + (size_t)j * g.L, N, w, &g, 0, g.Cb, 0, 2, dmode, NULL,
                                  CONV_ACT_NONE, inp_relu ? inp + off : NULL, dbuf);
                }
            } else if (dinp) {
                // col [R, N] = w^T [R, OC] x gm [OC, N]; fold each sample onto dinp
                gemm(1, 0, g.R, (int)N, s->OC, 1.0f, w, g.R, gm, (int)N, 0.0f, col, (int)N);
                for (int j = 0; j < nb; j++) {
                    size_t off = (size_t)(b0 + j) * in_sz;
                    fold(dinp + off, col + (size_t)j * g.L, N, &g, 0, g.Cb, dmode, NULL, CONV_ACT_NONE,
                         inp_relu ? inp + off : NULL, plane);
                }
            }
        }
        if (wdw) wino_dw_add(dwt, dV, s->OC, s->C);   // into this thread's transposed gradient
        reduce_grads(dw, db, work, &tl, T, s->OC, g.R, s->OC);
    }
}

void conv2d_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                     const float *w, int B, const ConvShape *s, float *work) {
    conv2d_backward_act(dinp, dw, db, dout, NULL, CONV_ACT_NONE, 0, inp, w, B, s, work);
}

// ---------------------------------------------------------------- conv-transpose2d
// ConvTranspose2d is the adjoint of a Conv2d from [OC,OH,OW] to [C,H,W] with the same
// weight viewed as [C, OC*K*K]: forward = W^T x inp then fold; backward = unfold + gemm.

// out [B,OC,OH,OW] = act(convT(inp [B,C,H,W], w [C,OC,K,K]) + b [OC]) (b may be NULL)
void convt2d_forward_act(float *out, const float *inp, const float *w, const float *b, int act,
                         int B, const ConvShape *s, float *work) {
    const ConvPlan plan = conv_plan(s, 1, B, 0);
    convt2d_forward_plan(out, inp, w, b, act, B, s, work, &plan);
}

void convt2d_forward_plan(float *out, const float *inp, const float *w, const float *b, int act, int B,
                          const ConvShape *s, float *work, const ConvPlan *plan) {
    conv_check_plan(s, 1, plan);
    const Grids g = grids(s, 1);
    const ThreadLayout tl = thread_layout(&g, 1, conv_chunk(&g, B));
    const int KK = s->K * s->K;
    const size_t in_sz = (size_t)s->C * g.L, out_sz = (size_t)s->OC * g.Lb;
    const int T = conv_threads();
    if (plan->forward == CONV_FEW) {
        convt_few(out, inp, w, b, act, B, &g, work, &tl, T);
        return;
    }
    if (plan->forward == CONV_WINOGRAD) {
        wino_forward(out, inp, w, b, act, B, &g, 1, work + (size_t)threads_cap() * tl.total, work + tl.direct,
                     tl.total, T);
        return;
    }
    if (plan->forward == CONV_DIRECT) {
        // items: samples x (both row parities, or one each when samples are fewer than
        // threads) x channel groups
        const int npy = B < T ? 2 : 1, ng = direct_groups(B, T, s->OC, npy), items = B * npy * ng;
        #ifdef _OPENMP
        #pragma omp parallel for schedule(static) num_threads(T) if(T > 1 && items > 1)
        #endif
        for (int it = 0; it < items; it++) {
            int n = it / (npy * ng), r = it % (npy * ng), py = r / ng, m0, m1;
            channel_group(s->OC, r % ng, ng, &m0, &m1);
            direct_up(out + (size_t)n * out_sz, inp + (size_t)n * in_sz, g.L, w, &g, m0, m1, npy == 2 ? py : 0,
                      npy == 2 ? py + 1 : 2, EPI_SET, b, act, NULL,
                      work + (size_t)omp_thread_id() * tl.total + tl.direct);
        }
        return;
    }
    int nblk = B < T ? (T + B - 1) / B : 1;
    if (nblk > s->OC) nblk = s->OC;
    const int items = B * nblk;
    #ifdef _OPENMP
    #pragma omp parallel num_threads(T) if(T > 1 && items > 1)
    #endif
    {
        float *base = work + (size_t)omp_thread_id() * tl.total, *col = base + tl.col, *plane = base + tl.plane;
        #ifdef _OPENMP
        #pragma omp for schedule(static)
        #endif
        for (int it = 0; it < items; it++) {
            int n = it / nblk, k = it % nblk;
            int oc0 = (int)((long)k * s->OC / nblk), oc1 = (int)((long)(k + 1) * s->OC / nblk);
            // col [(oc1-oc0)*KK, L] = (w [C, R] columns oc0*KK..)^T x inp [C, L]
            gemm(1, 0, (oc1 - oc0) * KK, (int)g.L, s->C, 1.0f, w + (size_t)oc0 * KK, g.R,
                 inp + (size_t)n * in_sz, (int)g.L, 0.0f, col, (int)g.L);
            fold(out + (size_t)n * out_sz, col, g.L, &g, oc0, oc1, EPI_SET, b, act, NULL, plane);
        }
    }
}

void convt2d_forward(float *out, const float *inp, const float *w, const float *b,
                     int B, const ConvShape *s, float *work) {
    convt2d_forward_act(out, inp, w, b, CONV_ACT_NONE, B, s, work);
}

// dinp [B,C,H,W] += (= with CONV_DINP_SET), dw [C,OC,K,K] +=, db [OC] += ; dout = dL/dy
// [B,OC,OH,OW]; y, act and dinp_flags as conv2d_backward_act.
void convt2d_backward_act(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                          int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s,
                          float *work) {
    const ConvPlan plan = conv_plan(s, 1, B, 0);
    convt2d_backward_plan(dinp, dw, db, dout, y, act, dinp_flags, inp, w, B, s, work, &plan);
}

void convt2d_backward_plan(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                           int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s, float *work,
                           const ConvPlan *plan) {
    conv_check_plan(s, 1, plan);
    const Grids g = grids(s, 1);
    const int inp_relu = dinp_flags & CONV_DINP_RELU, dmode = dinp_mode(dinp_flags);
    const int c = conv_chunk(&g, B), nch = (B + c - 1) / c;
    const ThreadLayout tl = thread_layout(&g, 1, c);
    const size_t in_sz = (size_t)s->C * g.L, out_sz = (size_t)s->OC * g.Lb;
    int T = conv_threads();
    if (T > nch) T = nch;
    const int direct = dinp && plan->dinp != CONV_GEMM;   // dinp: "down" from the output grid
    float *wp = work + (size_t)threads_cap() * tl.total;
    const int wino = dinp && plan->dinp == CONV_WINOGRAD, wdw = dw && plan->dw == CONV_WINOGRAD;
    if (wino) wino_weights(wp, w, g.Cs, g.Cb);
    else if (direct) direct_conv_pack(wp, w, g.Cs, g.Cb);
    #ifdef _OPENMP
    #pragma omp parallel num_threads(T) if(T > 1)
    #endif
    {
        const int tid = omp_thread_id();
        float *base = work + (size_t)tid * tl.total;
        double *dbt = (double *)(base + tl.db);
        float *col = base + tl.col, *tin = base + tl.t1, *gs = base + tl.t2, *tmp = base + tl.plane;
        float *dbuf = base + tl.direct;
        float *dwt = base + tl.dw;   // [R, C]
        float *dV = base + tl.wdv;   // Winograd's [9][C][4 OC]
        for (int oc = 0; oc < s->OC; oc++) dbt[oc] = 0.0;
        if (dw) memset(dwt, 0, sizeof(float) * (size_t)s->C * g.R);
        if (wdw) memset(dV, 0, sizeof(float) * 36 * (size_t)s->OC * s->C);
        #ifdef _OPENMP
        #pragma omp for schedule(static)
        #endif
        for (int ch = 0; ch < nch; ch++) {
            const int b0 = ch * c, nb = B - b0 < c ? B - b0 : c, blocked = dw_blocked(&g, nb);
            const size_t N = (size_t)nb * g.L;
            for (int j = 0; j < nb; j++) {
                const size_t off = (size_t)(b0 + j) * out_sz;
                const float *gsmp = dout + off;    // dL/d(pre-activation) [OC, OH, OW]
                if (act != CONV_ACT_NONE) {
                    for (int oc = 0; oc < s->OC; oc++)
                        dbt[oc] += act_grad(gs + (size_t)oc * g.Lb, dout + off + (size_t)oc * g.Lb,
                                            y + off + (size_t)oc * g.Lb, g.Lb, act);
                    gsmp = gs;
                } else {
                    for (int oc = 0; oc < s->OC; oc++) dbt[oc] += row_sum(gsmp + (size_t)oc * g.Lb, g.Lb);
                }
                if (wdw)
                    wino_dw(dV, gsmp, g.Lb, inp + (size_t)(b0 + j) * in_sz, g.L, &g, dbuf);
                else if (dw && blocked)   // col is its scratch: before the unfold for dinp
                    dw_row_blocks(dwt, inp + (size_t)(b0 + j) * in_sz, g.L, s->C, gsmp, &g, col);
                if ((dw && !blocked && !wdw) || (dinp && !direct)) unfold(col + (size_t)j * g.L, N, gsmp, &g);
                if (direct) {
                    const size_t ioff = (size_t)(b0 + j) * in_sz;
                    if (wino)
                        wino_down(dinp + ioff, gsmp, g.Lb, wp, &g, dmode, NULL, CONV_ACT_NONE,
                                  inp_relu ? inp + ioff : NULL, dbuf);
                    else
                        direct_down(dinp + ioff, gsmp, g.Lb, wp, &g, 0, g.Cs, dmode, NULL, CONV_ACT_NONE,
                                    inp_relu ? inp + ioff : NULL, dbuf);
                }
            }
            if (dw && !blocked && !wdw) {
                const float *xin = inp + (size_t)b0 * in_sz;
                if (nb > 1) {   // tin [C, N] = inp [nb, C, L] channel-major
                    for (int ci = 0; ci < s->C; ci++)
                        for (int j = 0; j < nb; j++)
                            memcpy(tin + (size_t)ci * N + (size_t)j * g.L, xin + (size_t)j * in_sz + (size_t)ci * g.L,
                                   sizeof(float) * g.L);
                    xin = tin;
                }
                // dw [C, R] += xin [C, N] x col^T [N, R]
                gemm(0, 1, g.R, s->C, (int)N, 1.0f, col, (int)N, xin, (int)N, 1.0f, dwt, s->C);
            }
            if (dinp && !direct) {
                for (int j = 0; j < nb; j++) {
                    const size_t off = (size_t)(b0 + j) * in_sz;
                    // dinp [C, L] (+)= w [C, R] x col [R, L] (masked by inp > 0 when inp_relu)
                    if (!inp_relu) {
                        gemm(0, 0, s->C, (int)g.L, g.R, 1.0f, w, g.R, col + (size_t)j * g.L, (int)N,
                             dmode == EPI_SET ? 0.0f : 1.0f, dinp + off, (int)g.L);
                    } else {
                        gemm(0, 0, s->C, (int)g.L, g.R, 1.0f, w, g.R, col + (size_t)j * g.L, (int)N, 0.0f,
                             tmp, (int)g.L);
                        conv_epilogue(dinp + off, tmp, (size_t)s->C * g.L, dmode, 0.0f, CONV_ACT_NONE, inp + off);
                    }
                }
            }
        }
        if (wdw) wino_dw_add(dwt, dV, s->C, s->OC);   // into this thread's transposed gradient
        reduce_grads(dw, db, work, &tl, T, s->C, g.R, s->OC);
    }
}

void convt2d_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                      const float *w, int B, const ConvShape *s, float *work) {
    convt2d_backward_act(dinp, dw, db, dout, NULL, CONV_ACT_NONE, 0, inp, w, B, s, work);
}

// ---------------------------------------------------------------- naive references

void conv2d_forward_naive(float *out, const float *inp, const float *w, const float *b,
                          int B, const ConvShape *s) {
    for (int n = 0; n < B; n++)
        for (int oc = 0; oc < s->OC; oc++)
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    double acc = b ? b[oc] : 0.0;
                    for (int c = 0; c < s->C; c++)
                        for (int kh = 0; kh < s->K; kh++)
                            for (int kw = 0; kw < s->K; kw++) {
                                int ih = oh * s->S - s->P + kh, iw = ow * s->S - s->P + kw;
                                if (ih < 0 || ih >= s->H || iw < 0 || iw >= s->W) continue;
                                acc += (double)inp[(((size_t)n * s->C + c) * s->H + ih) * s->W + iw] *
                                       w[(((size_t)oc * s->C + c) * s->K + kh) * s->K + kw];
                            }
                    out[(((size_t)n * s->OC + oc) * s->OH + oh) * s->OW + ow] = (float)acc;
                }
}

// Gather form: out[oh,ow] sums inp[ih,iw] * w[c,oc,kh,kw] over oh = ih*S - P + kh.
void convt2d_forward_naive(float *out, const float *inp, const float *w, const float *b,
                           int B, const ConvShape *s) {
    for (int n = 0; n < B; n++)
        for (int oc = 0; oc < s->OC; oc++)
            for (int oh = 0; oh < s->OH; oh++)
                for (int ow = 0; ow < s->OW; ow++) {
                    double acc = b ? b[oc] : 0.0;
                    for (int c = 0; c < s->C; c++)
                        for (int kh = 0; kh < s->K; kh++)
                            for (int kw = 0; kw < s->K; kw++) {
                                int th = oh + s->P - kh, tw = ow + s->P - kw;
                                if (th < 0 || tw < 0 || th % s->S || tw % s->S) continue;
                                int ih = th / s->S, iw = tw / s->S;
                                if (ih >= s->H || iw >= s->W) continue;
                                acc += (double)inp[(((size_t)n * s->C + c) * s->H + ih) * s->W + iw] *
                                       w[(((size_t)c * s->OC + oc) * s->K + kh) * s->K + kw];
                            }
                    out[(((size_t)n * s->OC + oc) * s->OH + oh) * s->OW + ow] = (float)acc;
                }
}
