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
 * frame) runs on the calling thread: its GEMMs are too small to share. Each thread also lays out
 * its own blocks' samples (the padded input; in the backward the gradient dp and its sums for db,
 * per-thread partials too), reading them in memory order, then waits for the others (a tap
 * reads its neighbours' zeros) before its GEMMs.
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
    // block buffer, dWt partial, db partial (OC doubles)
    l.thr_floats = r16((size_t)CM * l.cols) + r16((size_t)KK * s->OC * s->C) + r16(2 * (size_t)s->OC);
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

// The margins of `rows` rows of the padded layout (the planes' own zeros are written with them).
static void zero_margins(float *buf, int rows, const SameLayout *l) {
    for (int c = 0; c < rows; c++) {
        float *row = buf + (size_t)c * l->ld;
        memset(row, 0, sizeof(float) * l->M);
        memset(row + l->M + l->N, 0, sizeof(float) * l->M);
    }
}

// Samples [b0, b0 + ns) of img [B][C][H][W] into their planes of the padded layout, every channel
// (each element written once, with the planes' zeros); reads img in order.
static void pad_samples(float *xp, const float *img, const ConvShape *s, const SameLayout *l, int b0, int ns) {
    const int C = s->C, H = s->H, W = s->W, P = s->P;
    for (int b = b0; b < b0 + ns; b++)
        for (int c = 0; c < C; c++) {
            float *pl = xp + (size_t)c * l->ld + l->M + (size_t)b * l->P2;
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

// One call's arguments, for the threads.
typedef struct {
    const ConvShape *s;
    const SameLayout *l;
    int B, act, dinp_flags, nt;   // nt: the threads that ran (thread 0 sets it)
    float *out, *dinp, *dw, *work;
    const float *inp, *w, *b, *dout, *y;
} SameCall;

// Each thread a fixed contiguous run of the blocks (the same split every call): blocks [*k0, *k1).
static void thread_blocks(const SameLayout *l, int id, int nt, int *k0, int *k1) {
    *k0 = (int)((long)l->nblk * id / nt), *k1 = (int)((long)l->nblk * (id + 1) / nt);
}

static int block_samples(const SameCall *c, int k) {   // samples of block k (the last may be short)
    const int left = c->B - k * c->l->spb;
    return left < c->l->spb ? left : c->l->spb;
}

// fn(call, thread, threads) on block_threads threads (threads_run); one block (a batch-1 frame)
// runs on the calling thread with BLAS single-threaded: its GEMMs are far too small to split.
static void run_threads(SameCall *c, void (*fn)(void *, int, int)) { threads_run(block_threads(c->l), fn, c); }

// A thread's blocks: their samples padded, then (once every thread's are: a tap reads its
// neighbours' zeros) their GEMMs.
static void forward_thread(void *arg, int id, int nt) {
    SameCall *c = arg;
    const SameLayout *l = c->l;
    float *xp = c->work + l->xp, *wt = c->work + l->wt, *yb = c->work + l->thr + (size_t)id * l->thr_floats;
    int k0, k1;
    thread_blocks(l, id, nt, &k0, &k1);
    for (int k = k0; k < k1; k++) pad_samples(xp, c->inp, c->s, l, k * l->spb, block_samples(c, k));
    #ifdef _OPENMP
    #pragma omp barrier
    #endif
    for (int k = k0; k < k1; k++)
        forward_block(c->out, xp, wt, c->b, c->act, k * l->spb, block_samples(c, k), c->s, l, yb);
}

void conv_same_forward(float *out, const float *inp, const float *w, const float *b, int act, int B,
                       const ConvShape *s, float *work) {
    const SameLayout l = layout(s, B);
    SameCall c = {.s = s, .l = &l, .B = B, .act = act, .out = out, .work = work, .inp = inp, .w = w, .b = b};
    pack_weights(work + l.wt, w, s);
    zero_margins(work + l.xp, s->C, &l);
    run_threads(&c, forward_thread);
}

// dp = dL/d(pre-activation) of samples [b0, b0 + ns) on the padded layout, every output channel
// (zero outside the interior, each element written once; dout and y read in order); dbp[oc] +=
// its sums, kept per column in double so that the row loops vectorise.
static void grad_samples(float *dp, const float *dout, const float *y, int act, int b0, int ns, const ConvShape *s,
                         const SameLayout *l, double *dbp) {
    const int OC = s->OC, H = s->H, W = s->W, P = s->P, Wp = l->Wp;
    double part[SAME_MAX_GRID];   // W <= SAME_MAX_GRID
    for (int bb = b0; bb < b0 + ns; bb++)
        for (int oc = 0; oc < OC; oc++) {
            float *pl = dp + (size_t)oc * l->ld + l->M + (size_t)bb * l->P2;
            const size_t off = ((size_t)bb * OC + oc) * H * W;
            for (int j = 0; j < W; j++) part[j] = 0.0;
            for (int i = 0; i < H; i++) {
                float *restrict d = pl + (size_t)i * Wp;
                const float *restrict g = dout + off + (size_t)i * W, *restrict yr = y ? y + off + (size_t)i * W : NULL;
                if (act == CONV_ACT_RELU)
                    for (int j = 0; j < W; j++) d[j] = yr[j] > 0.0f ? g[j] : 0.0f;
                else if (act == CONV_ACT_SIGMOID)
                    for (int j = 0; j < W; j++) d[j] = g[j] * (yr[j] * (1.0f - yr[j]));
                else
                    for (int j = 0; j < W; j++) d[j] = g[j];
                for (int j = 0; j < W; j++) part[j] += d[j];
                for (int k = 0; k < P; k++) d[W + k] = 0.0f;
            }
            memset(pl + (size_t)H * Wp, 0, sizeof(float) * P * Wp);
            double a = 0;
            for (int j = 0; j < W; j++) a += part[j];
            dbp[oc] += a;
        }
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

// The thread area: block buffer, dWt partial, db partial.
static size_t area_dw(const ConvShape *s, const SameLayout *l) {
    return r16((size_t)(s->C > s->OC ? s->C : s->OC) * l->cols);
}
static size_t area_db(const ConvShape *s, const SameLayout *l) {
    return area_dw(s, l) + r16((size_t)s->K * s->K * s->OC * s->C);
}

// A thread's blocks: their dp (and, for dw, padded input), then (once every thread's are) their
// GEMMs; the partials are this thread's.
static void backward_thread(void *arg, int id, int nt) {
    SameCall *c = arg;
    const ConvShape *s = c->s;
    const SameLayout *l = c->l;
    float *area = c->work + l->thr + (size_t)id * l->thr_floats, *xp = c->work + l->xp, *dp = c->work + l->dp;
    float *dwp = c->dw ? area + area_dw(s, l) : NULL;
    double *dbp = (double *)(area + area_db(s, l));
    if (id == 0) c->nt = nt;
    for (int oc = 0; oc < s->OC; oc++) dbp[oc] = 0.0;
    if (dwp) memset(dwp, 0, sizeof(float) * s->K * s->K * s->OC * s->C);
    int k0, k1;
    thread_blocks(l, id, nt, &k0, &k1);
    for (int k = k0; k < k1; k++) {
        grad_samples(dp, c->dout, c->y, c->act, k * l->spb, block_samples(c, k), s, l, dbp);
        if (dwp) pad_samples(xp, c->inp, s, l, k * l->spb, block_samples(c, k));
    }
    if (!c->dw && !c->dinp) return;
    #ifdef _OPENMP
    #pragma omp barrier
    #endif
    for (int k = k0; k < k1; k++)
        backward_block(c->dinp, dwp, c->dinp_flags, c->inp, xp, dp, c->work + l->wt, k * l->spb, block_samples(c, k), s,
                       l, area);
}

void conv_same_backward(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                        int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s, float *work) {
    const SameLayout l = layout(s, B);
    const int KK = s->K * s->K, OC = s->OC, C = s->C;
    SameCall c = {.s = s, .l = &l, .B = B, .act = act, .dinp_flags = dinp_flags, .nt = 1, .dinp = dinp, .dw = dw,
                  .work = work, .inp = inp, .w = w, .dout = dout, .y = y};
    zero_margins(work + l.dp, OC, &l);
    if (dw) zero_margins(work + l.xp, C, &l);
    if (dinp) pack_weights(work + l.wt, w, s);
    run_threads(&c, backward_thread);
    // the threads' partials in thread order: deterministic for a thread count
    const float *area0 = work + l.thr;
    if (db)
        for (int oc = 0; oc < OC; oc++) {
            double a = 0;
            for (int i = 0; i < c.nt; i++)
                a += ((const double *)(area0 + (size_t)i * l.thr_floats + area_db(s, &l)))[oc];
            db[oc] += (float)a;
        }
    if (!dw) return;
    for (int i = 0; i < c.nt; i++) {
        const float *dwt = area0 + (size_t)i * l.thr_floats + area_dw(s, &l);
        for (int oc = 0; oc < OC; oc++)
            for (int cc = 0; cc < C; cc++)
                for (int t = 0; t < KK; t++) dw[((size_t)oc * C + cc) * KK + t] += dwt[((size_t)t * OC + oc) * C + cc];
    }
}
