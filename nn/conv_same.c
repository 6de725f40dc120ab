/*
 * conv_same.c - Conv2d "same" (stride 1, odd K, padding K/2: the output grid is the input
 * grid) on small grids by shifted GEMMs, for the spatial latent's 1x1 convs and the conv
 * dynamics' 3x3 layers (10x10 to 30x32 grids). See conv_same.h.
 *
 * The batch is laid out channel-major on padded grids that share their zeros: xp [C][M + B*P2 + M],
 * sample b's plane at M + b*P2, its H rows Wp = W + P floats apart (P zeros after each row), then
 * P rows of zeros (Hp = H + P rows, P2 = Hp*Wp), zeros in the margins M (>= the largest tap
 * offset). A tap left of column 0 reads the row before's trailing zeros, one above row 0 the
 * sample before's trailing rows (or the margin): P zeros between neighbours serve both sides.
 * With the output computed at every position q of the planes (the padding ones are junk,
 * never read), tap (kh, kw) reads the input at q + off, off = (kh-P)*Wp + (kw-P): a column
 * offset of the whole row. So the conv is a sum of K*K GEMMs
 *     yp [OC, N] += Wt[tap] [OC, C] x xp[:, M+off : M+off+N]      (N = B*P2, ld = row length)
 * with no im2col at all; the cost is the padding ((Hp*Wp)/(H*W) = 1.21 at 10x10 with K = 3,
 * 1.44 with a border of its own around each sample; 1 for K = 1).
 * Backward: dp = dL/d(pre-activation) on the same padded layout (zeros outside the interior),
 *     dWt[tap] = dp [OC, N] x xp_tap^T,  dxp [C, N] = sum_tap Wt[tap]^T x dp[:, M-off : M-off+N]
 * then the interior of dxp goes to dinp (set or add, with the ReLU mask of the layer before).
 * Weights are repacked per call as Wt[tap][OC][C] (K*K*OC*C floats).
 * Column blocks: the GEMMs run per block of whole samples (about SAME_BLOCK_COLS columns; 6
 * samples at 10x10, one at 30x32), all K*K taps of a block before the next, so that the block's
 * output [OC, cols] and the input columns it reads stay in L2 (one [OC, N] output pass per tap
 * went to memory: 9 x 4.7 MB each way for 64 channels at batch 128). The blocks are OpenMP's,
 * each thread a fixed contiguous run with single-threaded BLAS and its own block buffer and
 * weight-gradient partial (summed in thread order: deterministic for a thread count; the forward
 * and the input gradient do not depend on the split at all). A call of one block (a batch-1
 * frame) runs on the calling thread: its GEMMs are too small to share. The pad and gradient
 * layout loops are OpenMP loops over channels.
 */
#include "nn/conv_same.h"

#include <stdlib.h>
#include <string.h>

#include "nn/fastmath.h"
#include "nn/gemm.h"
#include "base/threads.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define SAME_MAX_GRID 4096   // H*W up to this (small grids; the AE's big layers keep their paths)

int conv_same_fits(const ConvShape *s) {
    return s->S == 1 && (s->K & 1) && s->P == s->K / 2 && s->OH == s->H && s->OW == s->W &&
           (long)s->H * s->W <= SAME_MAX_GRID;
}

typedef struct {
    int Hp, Wp, P2, M;     // padded grid, its size, the margin
    size_t N, ld;          // B*P2 columns; row length M + N + M
    int spb, nblk, T;      // samples a column block, blocks, threads the workspace is laid out for
    size_t cols;           // spb*P2: a block's columns
    size_t wt, xp, dp, thr, thr_floats, total;   // offsets (floats); thr: T per-thread areas
} SameLayout;

static size_t r16(size_t n) { return (n + 15) & ~(size_t)15; }

// Columns a block aims at: its GEMM outputs ([OC, cols]) and the input columns they read stay in
// L2 across the K*K taps (9 passes over one [64, 18432] output at batch 128 went to memory).
#define SAME_BLOCK_COLS 768

static SameLayout layout(const ConvShape *s, int B) {
    SameLayout l;
    const int P = s->P, KK = s->K * s->K;
    l.Hp = s->H + P, l.Wp = s->W + P, l.P2 = l.Hp * l.Wp;   // padding shared with the neighbours
    l.M = (int)r16((size_t)P * l.Wp + P);
    l.N = (size_t)B * l.P2;
    l.ld = l.N + 2 * (size_t)l.M;
    l.T = threads_cap();
    int spb = SAME_BLOCK_COLS / l.P2, per_thread = (B + l.T - 1) / l.T;
    if (spb > per_thread) spb = per_thread;   // a block for every thread when the batch allows
    l.spb = spb < 1 ? 1 : spb;
    l.nblk = (B + l.spb - 1) / l.spb;
    l.cols = (size_t)l.spb * l.P2;
    const int CM = s->C > s->OC ? s->C : s->OC;
    l.thr_floats = r16((size_t)CM * l.cols) + r16((size_t)KK * s->OC * s->C);   // block buffer, dWt partial
    size_t o = 0;
    l.wt = o;  o += r16((size_t)KK * s->OC * s->C);
    l.xp = o;  o += r16((size_t)s->C * l.ld);
    l.dp = o;  o += r16((size_t)s->OC * l.ld);
    l.thr = o; o += (size_t)l.T * l.thr_floats;
    l.total = o;
    return l;
}

size_t conv_same_workspace(const ConvShape *s, int B) { return layout(s, B).total; }

// Threads for the blocks of a call: one block (a batch-1 frame) runs on the calling thread.
static int block_threads(const SameLayout *l) {
    int t = omp_threads();
    if (t > l->T) t = l->T;
    return t < l->nblk ? t : l->nblk;
}

// Wt[tap][oc][c] = w[oc][c][tap]
static void pack_weights(float *wt, const float *w, const ConvShape *s) {
    const int KK = s->K * s->K, OC = s->OC, C = s->C;
    for (int oc = 0; oc < OC; oc++)
        for (int c = 0; c < C; c++)
            for (int t = 0; t < KK; t++) wt[((size_t)t * OC + oc) * C + c] = w[((size_t)oc * C + c) * KK + t];
}

// rows [C][ld] of the padded layout from img [B][C][H][W] (each element written once, zeros
// on borders and margins). Parallel over channels.
static void pad_in(float *xp, const float *img, const ConvShape *s, const SameLayout *l, int B, int C) {
    const int H = s->H, W = s->W, P = s->P;
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static) if(C > 1 && (size_t)C * l->ld > 65536)
    #endif
    for (int c = 0; c < C; c++) {
        float *row = xp + (size_t)c * l->ld;
        memset(row, 0, sizeof(float) * l->M);
        memset(row + l->M + l->N, 0, sizeof(float) * l->M);
        for (int b = 0; b < B; b++) {
            float *pl = row + l->M + (size_t)b * l->P2;
            const float *src = img + ((size_t)b * C + c) * H * W;
            if (P == 0) { memcpy(pl, src, sizeof(float) * H * W); continue; }
            for (int i = 0; i < H; i++) {   // rows of 10-32 floats: a loop, not a memcpy call each
                float *d = pl + (size_t)i * l->Wp;
                const float *r = src + (size_t)i * W;
                for (int j = 0; j < W; j++) d[j] = r[j];
                for (int k = 0; k < P; k++) d[W + k] = 0.0f;
            }
            memset(pl + (size_t)H * l->Wp, 0, sizeof(float) * P * l->Wp);
        }
    }
}

static int tap_off(const ConvShape *s, const SameLayout *l, int t) {
    int kh = t / s->K, kw = t % s->K;
    return (kh - s->P) * l->Wp + (kw - s->P);
}

// One block's forward: samples [b0, b0 + ns) of the padded input through the K*K tap GEMMs
// into yb [OC][ns*P2] (the thread's block buffer), then bias and activation into out.
static void forward_block(float *out, const float *xp, const float *wt, const float *b, int act, int b0, int ns,
                          const ConvShape *s, const SameLayout *l, float *yb) {
    const int KK = s->K * s->K, OC = s->OC, C = s->C, H = s->H, W = s->W;
    const int cols = ns * l->P2;
    const float *x0 = xp + l->M + (size_t)b0 * l->P2;
    for (int t = 0; t < KK; t++)
        gemm(0, 0, OC, cols, C, 1.0f, wt + (size_t)t * OC * C, C, x0 + tap_off(s, l, t), (int)l->ld, t ? 1.0f : 0.0f,
             yb, cols);
    for (int oc = 0; oc < OC; oc++) {
        const float bias = b ? b[oc] : 0.0f;
        for (int bb = 0; bb < ns; bb++) {
            const float *src = yb + (size_t)oc * cols + (size_t)bb * l->P2;
            float *dst = out + ((size_t)(b0 + bb) * OC + oc) * H * W;
            for (int i = 0; i < H; i++) {
                const float *sr = src + (size_t)i * l->Wp;
                float *dr = dst + (size_t)i * W;
                if (act == CONV_ACT_RELU)
                    for (int j = 0; j < W; j++) { float v = sr[j] + bias; dr[j] = v > 0.0f ? v : 0.0f; }
                else if (act == CONV_ACT_SIGMOID)
                    for (int j = 0; j < W; j++) dr[j] = sigmoid1(sr[j] + bias);
                else
                    for (int j = 0; j < W; j++) dr[j] = sr[j] + bias;
            }
        }
    }
}

// The blocks of a call, each thread a contiguous run of them (static: the same split every call),
// block_fn(thread index, first sample, samples). One block runs on the calling thread with BLAS
// single-threaded: a batch-1 frame's GEMMs are far too small to split.
#define FOR_BLOCKS(l, B, id, b0, ns, BODY)                                                   \
    do {                                                                                     \
        const int nt_ = block_threads(l);                                                    \
        if (nt_ <= 1) {                                                                      \
            const int saved_ = threads_serial_begin();                                       \
            for (int k_ = 0; k_ < (l)->nblk; k_++) {                                         \
                const int id = 0, b0 = k_ * (l)->spb;                                        \
                const int ns = (B) - b0 < (l)->spb ? (B) - b0 : (l)->spb;                    \
                BODY;                                                                        \
            }                                                                                \
            threads_serial_end(saved_);                                                      \
            break;                                                                           \
        }                                                                                    \
        _Pragma("omp parallel num_threads(nt_)")                                             \
        {                                                                                    \
            const int id = omp_thread_id();                                                  \
            const int k0_ = (int)((long)(l)->nblk * id / nt_), k1_ = (int)((long)(l)->nblk * (id + 1) / nt_); \
            for (int k_ = k0_; k_ < k1_; k_++) {                                             \
                const int b0 = k_ * (l)->spb;                                                \
                const int ns = (B) - b0 < (l)->spb ? (B) - b0 : (l)->spb;                    \
                BODY;                                                                        \
            }                                                                                \
        }                                                                                    \
    } while (0)

void conv_same_forward(float *out, const float *inp, const float *w, const float *b, int act, int B,
                       const ConvShape *s, float *work) {
    const SameLayout l = layout(s, B);
    float *wt = work + l.wt, *xp = work + l.xp;
    pack_weights(wt, w, s);
    pad_in(xp, inp, s, &l, B, s->C);
    FOR_BLOCKS(&l, B, id, b0, ns, forward_block(out, xp, wt, b, act, b0, ns, s, &l, work + l.thr + (size_t)id * l.thr_floats));
}

// dp = dL/d(pre-activation) of one output channel on the padded layout (zero outside the
// interior, each element written once); returns its sum (db), a float sum per row added in double.
static double grad_row(float *row, const float *dout, const float *y, int act, int oc, int B, const ConvShape *s,
                       const SameLayout *l) {
    const int OC = s->OC, H = s->H, W = s->W, P = s->P, Wp = l->Wp;
    memset(row, 0, sizeof(float) * l->M);
    memset(row + l->M + l->N, 0, sizeof(float) * l->M);
    double acc = 0;
    for (int bb = 0; bb < B; bb++) {
        float *pl = row + l->M + (size_t)bb * l->P2;
        const size_t off = ((size_t)bb * OC + oc) * H * W;
        memset(pl + (size_t)H * Wp, 0, sizeof(float) * P * Wp);
        for (int i = 0; i < H; i++) {
            float *d = pl + (size_t)i * Wp;
            for (int k = 0; k < P; k++) d[W + k] = 0.0f;
            const float *g = dout + off + (size_t)i * W, *yr = y ? y + off + (size_t)i * W : NULL;
            float r = 0.0f;
            if (act == CONV_ACT_RELU) {
                #pragma omp simd reduction(+ : r)
                for (int j = 0; j < W; j++) { float v = yr[j] > 0.0f ? g[j] : 0.0f; d[j] = v; r += v; }
            } else if (act == CONV_ACT_SIGMOID) {
                #pragma omp simd reduction(+ : r)
                for (int j = 0; j < W; j++) { float v = g[j] * (yr[j] * (1.0f - yr[j])); d[j] = v; r += v; }
            } else {
                #pragma omp simd reduction(+ : r)
                for (int j = 0; j < W; j++) { d[j] = g[j]; r += g[j]; }
            }
            acc += r;
        }
    }
    return acc;
}

// One block's backward: dWt partial += dp x xp_tap^T per tap (dwp, the thread's), and the input
// gradient of samples [b0, b0 + ns) through dxb [C][ns*P2] into dinp.
static void backward_block(float *dinp, float *dwp, int dinp_flags, const float *inp, const float *xp,
                           const float *dp, const float *wt, int b0, int ns, const ConvShape *s, const SameLayout *l,
                           float *dxb) {
    const int KK = s->K * s->K, OC = s->OC, C = s->C, H = s->H, W = s->W;
    const int cols = ns * l->P2;
    const float *d0 = dp + l->M + (size_t)b0 * l->P2, *x0 = xp + l->M + (size_t)b0 * l->P2;
    if (dwp)
        for (int t = 0; t < KK; t++)   // dWt[t] [OC, C] += dp [OC, cols] x xp_t^T [cols, C]
            gemm(0, 1, OC, C, cols, 1.0f, d0, (int)l->ld, x0 + tap_off(s, l, t), (int)l->ld, 1.0f,
                 dwp + (size_t)t * OC * C, C);
    if (!dinp) return;
    for (int t = 0; t < KK; t++)   // dx [C, cols] += Wt[t]^T [C, OC] x dp shifted by -off
        gemm(1, 0, C, cols, OC, 1.0f, wt + (size_t)t * OC * C, C, d0 - tap_off(s, l, t), (int)l->ld, t ? 1.0f : 0.0f,
             dxb, cols);
    const int set = dinp_flags & CONV_DINP_SET, relu = dinp_flags & CONV_DINP_RELU;
    for (int c = 0; c < C; c++)
        for (int bb = 0; bb < ns; bb++) {
            const float *src = dxb + (size_t)c * cols + (size_t)bb * l->P2;
            const size_t off = ((size_t)(b0 + bb) * C + c) * H * W;
            float *dst = dinp + off;
            const float *m = inp + off;
            for (int i = 0; i < H; i++) {
                const float *sr = src + (size_t)i * l->Wp;
                float *dr = dst + (size_t)i * W;
                const float *mr = m + (size_t)i * W;
                if (set && relu)
                    for (int j = 0; j < W; j++) dr[j] = mr[j] > 0.0f ? sr[j] : 0.0f;
                else if (set)
                    for (int j = 0; j < W; j++) dr[j] = sr[j];
                else if (relu)
                    for (int j = 0; j < W; j++) dr[j] += mr[j] > 0.0f ? sr[j] : 0.0f;
                else
                    for (int j = 0; j < W; j++) dr[j] += sr[j];
            }
        }
}

void conv_same_backward(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                        int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s, float *work) {
    const SameLayout l = layout(s, B);
    const int KK = s->K * s->K, OC = s->OC, C = s->C;
    float *wt = work + l.wt, *xp = work + l.xp, *dp = work + l.dp;
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static) if(OC > 1 && l.N * OC > 65536)
    #endif
    for (int oc = 0; oc < OC; oc++) {
        double acc = grad_row(dp + (size_t)oc * l.ld, dout, y, act, oc, B, s, &l);
        if (db) db[oc] += (float)acc;
    }
    if (!dw && !dinp) return;
    const size_t nwt = (size_t)KK * OC * C, dxo = r16((size_t)(C > OC ? C : OC) * l.cols);
    if (dw) pad_in(xp, inp, s, &l, B, C);
    if (dinp) pack_weights(wt, w, s);
    const int nt = block_threads(&l) > 1 ? block_threads(&l) : 1;
    if (dw)
        for (int i = 0; i < nt; i++) memset(work + l.thr + (size_t)i * l.thr_floats + dxo, 0, nwt * sizeof(float));
    FOR_BLOCKS(&l, B, id, b0, ns,
               backward_block(dinp, dw ? work + l.thr + (size_t)id * l.thr_floats + dxo : NULL, dinp_flags, inp, xp, dp,
                              wt, b0, ns, s, &l, work + l.thr + (size_t)id * l.thr_floats));
    if (!dw) return;
    for (int i = 0; i < nt; i++) {   // the threads' partials in thread order: deterministic for a thread count
        const float *dwt = work + l.thr + (size_t)i * l.thr_floats + dxo;
        for (int oc = 0; oc < OC; oc++)
            for (int c = 0; c < C; c++)
                for (int t = 0; t < KK; t++) dw[((size_t)oc * C + c) * KK + t] += dwt[((size_t)t * OC + oc) * C + c];
    }
}
