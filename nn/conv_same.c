/*
 * conv_same.c - Conv2d "same" (stride 1, odd K, padding K/2: the output grid is the input
 * grid) on small grids by shifted GEMMs, for the spatial latent's 1x1 convs and the conv
 * dynamics' 3x3 layers (10x10 to 30x32 grids). See conv_same.h.
 *
 * The batch is laid out channel-major on padded grids: xp [C][M + B*Hp*Wp + M], sample b's
 * padded plane at M + b*Hp*Wp, zeros on its border and in the margins M (>= the largest tap
 * offset). With the output computed at every padded position q (the border ones are junk,
 * never read), tap (kh, kw) reads the input at q + off, off = (kh-P)*Wp + (kw-P): a column
 * offset of the whole row. So the conv is a sum of K*K GEMMs
 *     yp [OC, N] += Wt[tap] [OC, C] x xp[:, M+off : M+off+N]      (N = B*Hp*Wp, ld = row length)
 * with N in the thousands at batch 128 (OpenBLAS near its peak) and no im2col at all; the
 * cost is the padded border ((Hp*Wp)/(H*W) = 1.44 at 10x10 with K = 3; 1 for K = 1).
 * Backward: dp = dL/d(pre-activation) on the same padded layout (zeros outside the interior),
 *     dWt[tap] = dp [OC, N] x xp_tap^T,  dxp [C, N] = sum_tap Wt[tap]^T x dp[:, M-off : M-off+N]
 * then the interior of dxp goes to dinp (set or add, with the ReLU mask of the layer before).
 * Weights are repacked per call as Wt[tap][OC][C] (K*K*OC*C floats). The GEMMs run at the top
 * level (OpenBLAS threads them); the pad and unpad loops are OpenMP loops over channels.
 */
#include "nn/conv_same.h"

#include <stdlib.h>
#include <string.h>

#include "nn/fastmath.h"
#include "nn/gemm.h"
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
    size_t wt, dwt, xp, dp, dx, total;   // offsets (floats)
} SameLayout;

static size_t r16(size_t n) { return (n + 15) & ~(size_t)15; }

static SameLayout layout(const ConvShape *s, int B) {
    SameLayout l;
    const int P = s->P, KK = s->K * s->K;
    l.Hp = s->H + 2 * P, l.Wp = s->W + 2 * P, l.P2 = l.Hp * l.Wp;
    l.M = (int)r16((size_t)P * l.Wp + P);
    l.N = (size_t)B * l.P2;
    l.ld = l.N + 2 * (size_t)l.M;
    size_t o = 0;
    l.wt = o;  o += r16((size_t)KK * s->OC * s->C);
    l.dwt = o; o += r16((size_t)KK * s->OC * s->C);
    l.xp = o;  o += r16((size_t)s->C * l.ld);
    l.dp = o;  o += r16((size_t)s->OC * l.ld);
    l.dx = o;  o += r16((size_t)s->C * l.N);
    l.total = o;
    return l;
}

size_t conv_same_workspace(const ConvShape *s, int B) { return layout(s, B).total; }

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
            memset(pl, 0, sizeof(float) * P * l->Wp);
            for (int i = 0; i < H; i++) {
                float *d = pl + (size_t)(i + P) * l->Wp;
                for (int k = 0; k < P; k++) d[k] = 0.0f, d[P + W + k] = 0.0f;
                memcpy(d + P, src + (size_t)i * W, sizeof(float) * W);
            }
            memset(pl + (size_t)(H + P) * l->Wp, 0, sizeof(float) * P * l->Wp);
        }
    }
}

static int tap_off(const ConvShape *s, const SameLayout *l, int t) {
    int kh = t / s->K, kw = t % s->K;
    return (kh - s->P) * l->Wp + (kw - s->P);
}

void conv_same_forward(float *out, const float *inp, const float *w, const float *b, int act, int B,
                       const ConvShape *s, float *work) {
    const SameLayout l = layout(s, B);
    const int KK = s->K * s->K, OC = s->OC, C = s->C, H = s->H, W = s->W, P = s->P;
    float *wt = work + l.wt, *xp = work + l.xp, *yp = work + l.dp;
    pack_weights(wt, w, s);
    pad_in(xp, inp, s, &l, B, C);
    for (int t = 0; t < KK; t++)
        gemm(0, 0, OC, (int)l.N, C, 1.0f, wt + (size_t)t * OC * C, C, xp + l.M + tap_off(s, &l, t), (int)l.ld,
             t ? 1.0f : 0.0f, yp, (int)l.N);
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static) if(OC > 1 && l.N * OC > 65536)
    #endif
    for (int oc = 0; oc < OC; oc++) {
        const float bias = b ? b[oc] : 0.0f;
        for (int bb = 0; bb < B; bb++) {
            const float *src = yp + (size_t)oc * l.N + (size_t)bb * l.P2 + (size_t)P * l.Wp + P;
            float *dst = out + ((size_t)bb * OC + oc) * H * W;
            for (int i = 0; i < H; i++) {
                const float *sr = src + (size_t)i * l.Wp;
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

void conv_same_backward(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                        int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s, float *work) {
    const SameLayout l = layout(s, B);
    const int KK = s->K * s->K, OC = s->OC, C = s->C, H = s->H, W = s->W, P = s->P;
    float *wt = work + l.wt, *dwt = work + l.dwt, *xp = work + l.xp, *dp = work + l.dp, *dx = work + l.dx;
    // dp = dL/d(pre-activation) on the padded layout, zero outside the interior; db
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static) if(OC > 1 && l.N * OC > 65536)
    #endif
    for (int oc = 0; oc < OC; oc++) {
        float *row = dp + (size_t)oc * l.ld;
        memset(row, 0, sizeof(float) * l.ld);
        double acc = 0;
        for (int bb = 0; bb < B; bb++) {
            float *d = row + l.M + (size_t)bb * l.P2 + (size_t)P * l.Wp + P;
            const size_t off = ((size_t)bb * OC + oc) * H * W;
            const float *go = dout + off, *yy = y ? y + off : NULL;
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    float g = go[i * W + j];
                    if (act == CONV_ACT_RELU && !(yy[i * W + j] > 0.0f)) g = 0.0f;
                    if (act == CONV_ACT_SIGMOID) g *= yy[i * W + j] * (1.0f - yy[i * W + j]);
                    d[(size_t)i * l.Wp + j] = g;
                    acc += g;
                }
        }
        if (db) db[oc] += (float)acc;
    }
    if (dw) {
        pad_in(xp, inp, s, &l, B, C);
        for (int t = 0; t < KK; t++)   // dWt[t] [OC, C] = dp [OC, N] x xp_t^T [N, C]
            gemm(0, 1, OC, C, (int)l.N, 1.0f, dp + l.M, (int)l.ld, xp + l.M + tap_off(s, &l, t), (int)l.ld, 0.0f,
                 dwt + (size_t)t * OC * C, C);
        for (int oc = 0; oc < OC; oc++)
            for (int c = 0; c < C; c++)
                for (int t = 0; t < KK; t++) dw[((size_t)oc * C + c) * KK + t] += dwt[((size_t)t * OC + oc) * C + c];
    }
    if (!dinp) return;
    pack_weights(wt, w, s);
    for (int t = 0; t < KK; t++)   // dx [C, N] += Wt[t]^T [C, OC] x dp shifted by -off
        gemm(1, 0, C, (int)l.N, OC, 1.0f, wt + (size_t)t * OC * C, C, dp + l.M - tap_off(s, &l, t), (int)l.ld,
             t ? 1.0f : 0.0f, dx, (int)l.N);
    const int set = dinp_flags & CONV_DINP_SET, relu = dinp_flags & CONV_DINP_RELU;
    #ifdef _OPENMP
    #pragma omp parallel for schedule(static) if(C > 1 && l.N * C > 65536)
    #endif
    for (int c = 0; c < C; c++)
        for (int bb = 0; bb < B; bb++) {
            const float *src = dx + (size_t)c * l.N + (size_t)bb * l.P2 + (size_t)P * l.Wp + P;
            const size_t off = ((size_t)bb * C + c) * H * W;
            float *dst = dinp + off;
            const float *m = inp + off;
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    float v = src[(size_t)i * l.Wp + j];
                    if (relu && !(m[i * W + j] > 0.0f)) v = 0.0f;
                    if (set) dst[i * W + j] = v;
                    else dst[i * W + j] += v;
                }
        }
}
