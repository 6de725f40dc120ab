/*
 * conv_gemm.c - the im2col / col2im building blocks of the GEMM path (conv_internal.h), and the
 * epilogue every path finishes its output rows with.
 */
#include "nn/conv_internal.h"
#include "nn/fastmath.h"
#include "nn/gemm.h"

#include <string.h>

// One sample: col rows r = (c*K + kh)*K + kw, row stride ld, columns [Hs*Ws] of the small
// grid = img [Cb, Hb, Wb] under the window; 0 where it hits padding.
// unfold_rows: small-grid rows [oh0, oh1) only, into columns from 0.
void unfold_rows(float *restrict col, size_t ld, const float *restrict img, const Grids *g, int oh0, int oh1) {
    const int Hb = g->Hb, Wb = g->Wb, Ws = g->Ws, K = g->K, S = g->S, P = g->P;
    if (g->fast) {
        for (int c = 0; c < g->Cb; c++)
            for (int kh = 0; kh < 4; kh++) {
                float *d0 = col + (size_t)((c * 4 + kh) * 4) * ld, *d1 = d0 + ld, *d2 = d1 + ld, *d3 = d2 + ld;
                for (int oh = oh0; oh < oh1; oh++) {
                    int ih = 2 * oh - 1 + kh;
                    float *e0 = d0 + (size_t)(oh - oh0) * Ws, *e1 = d1 + (size_t)(oh - oh0) * Ws;
                    float *e2 = d2 + (size_t)(oh - oh0) * Ws, *e3 = d3 + (size_t)(oh - oh0) * Ws;
                    if (ih < 0 || ih >= Hb) {
                        memset(e0, 0, sizeof(float) * Ws), memset(e1, 0, sizeof(float) * Ws);
                        memset(e2, 0, sizeof(float) * Ws), memset(e3, 0, sizeof(float) * Ws);
                        continue;
                    }
                    const float *restrict src = img + ((size_t)c * Hb + ih) * Wb;
                    // iw = 2 ow + kw - 1
                    for (int j = 0; j < Ws; j++) { e1[j] = src[2 * j]; e2[j] = src[2 * j + 1]; }
                    e0[0] = 0.0f;
                    for (int j = 1; j < Ws; j++) e0[j] = src[2 * j - 1];
                    for (int j = 0; j < Ws - 1; j++) e3[j] = src[2 * j + 2];
                    e3[Ws - 1] = 0.0f;
                }
            }
        return;
    }
    for (int r = 0; r < g->R; r++) {
        int c = r / (K * K), kh = (r / K) % K, kw = r % K;
        const float *plane = img + (size_t)c * Hb * Wb;
        float *row = col + (size_t)r * ld;
        for (int oh = oh0; oh < oh1; oh++) {
            int ih = oh * S - P + kh;
            float *d = row + (size_t)(oh - oh0) * Ws;
            if (ih < 0 || ih >= Hb) { memset(d, 0, sizeof(float) * Ws); continue; }
            const float *src = plane + (size_t)ih * Wb;
            for (int ow = 0; ow < Ws; ow++) {
                int iw = ow * S - P + kw;
                d[ow] = (iw >= 0 && iw < Wb) ? src[iw] : 0.0f;
            }
        }
    }
}

void unfold(float *restrict col, size_t ld, const float *restrict img, const Grids *g) {
    unfold_rows(col, ld, img, g, 0, g->Hs);
}

// Weight gradient of one sample too large for one cache-sized column buffer (chunks of one
// sample with R*L > CONV_CACHE_FLOATS, e.g. 240x256 frames): blocks of small-grid rows, each
// unfolded and multiplied while in L2. dwT [R, M] += unfold(img) x a^T, a [M, L] (row stride
// lda).
void dw_row_blocks(float *dwT, const float *a, size_t lda, int M, const float *img, const Grids *g,
                   float *col) {
    int rows = (int)(CONV_CACHE_FLOATS / ((size_t)g->R * g->Ws));
    if (rows < 1) rows = 1;
    for (int r0 = 0; r0 < g->Hs; r0 += rows) {
        int r1 = r0 + rows < g->Hs ? r0 + rows : g->Hs, n = (r1 - r0) * g->Ws;
        unfold_rows(col, (size_t)n, img, g, r0, r1);
        gemm(0, 1, g->R, M, n, 1.0f, col, n, a + (size_t)r0 * g->Ws, (int)lda, 1.0f, dwT, M);
    }
}

// Whether a one-sample chunk takes dw_row_blocks.
int dw_blocked(const Grids *g, int nb) { return nb == 1 && (size_t)g->R * g->L > CONV_CACHE_FLOATS; }

// The epilogues (conv_internal.h): bias and activation, or the masked / accumulated dinp.
void conv_epilogue(float *out, const float *s, size_t n, int mode, float bias, int act, const float *restrict mask) {
    if (mode == EPI_ADD) {
        OMP_SIMD
        for (size_t i = 0; i < n; i++) out[i] += s[i];
    } else if (mode == EPI_ADD_MASK) {
        OMP_SIMD
        for (size_t i = 0; i < n; i++) out[i] += mask[i] > 0.0f ? s[i] : 0.0f;
    } else if (mode == EPI_SET_MASK) {
        OMP_SIMD
        for (size_t i = 0; i < n; i++) out[i] = mask[i] > 0.0f ? s[i] : 0.0f;
    } else if (act == CONV_ACT_RELU) {
        OMP_SIMD
        for (size_t i = 0; i < n; i++) { float v = s[i] + bias; out[i] = v > 0.0f ? v : 0.0f; }
    } else if (act == CONV_ACT_SIGMOID) {
        OMP_SIMD
        for (size_t i = 0; i < n; i++) out[i] = sigmoid1(s[i] + bias);
    } else {
        OMP_SIMD
        for (size_t i = 0; i < n; i++) out[i] = s[i] + bias;
    }
}

// Adjoint of unfold for big-grid channels [c0, c1) of one sample: plane c of out [Cb, Hb, Wb]
// gets the epilogue of (col2im of col rows of channel c); col row stride ld, channel c0's
// rows first. scratch: Lb floats (generic shapes).
void fold(float *out, const float *col, size_t ld, const Grids *g, int c0, int c1, int mode,
          const float *bias, int act, const float *mask, float *scratch) {
    const int Hb = g->Hb, Wb = g->Wb, Hs = g->Hs, Ws = g->Ws, K = g->K, S = g->S, P = g->P;
    for (int c = c0; c < c1; c++) {
        const float *cc = col + (size_t)(c - c0) * K * K * ld;
        float *plane = out + (size_t)c * g->Lb;
        const float *mplane = mask ? mask + (size_t)c * g->Lb : NULL;
        float bv = bias ? bias[c] : 0.0f;
        if (g->fast) {
            // big row ih = 2m gets (kh 1, oh m) and (kh 3, oh m-1); ih = 2m+1 gets (kh 2, oh m)
            // and (kh 0, oh m+1). Within a row: even iw = 2j gets kw 1 at j and kw 3 at j-1,
            // odd iw = 2j+1 gets kw 2 at j and kw 0 at j+1.
            float ev[1024], od[1024], srow[2048];
            for (int ih = 0; ih < Hb; ih++) {
                int m = ih >> 1, odd = ih & 1;
                int kha = odd ? 2 : 1, oha = m, khb = odd ? 0 : 3, ohb = odd ? m + 1 : m - 1;
                const float *a0 = cc + (size_t)(kha * 4) * ld + (size_t)oha * Ws;
                const float *a1 = a0 + ld, *a2 = a1 + ld, *a3 = a2 + ld;
                for (int j = 0; j < Ws; j++) { ev[j] = a1[j]; od[j] = a2[j]; }
                for (int j = 1; j < Ws; j++) ev[j] += a3[j - 1];
                for (int j = 0; j < Ws - 1; j++) od[j] += a0[j + 1];
                if (ohb >= 0 && ohb < Hs) {
                    const float *b0 = cc + (size_t)(khb * 4) * ld + (size_t)ohb * Ws;
                    const float *b1 = b0 + ld, *b2 = b1 + ld, *b3 = b2 + ld;
                    for (int j = 0; j < Ws; j++) { ev[j] += b1[j]; od[j] += b2[j]; }
                    for (int j = 1; j < Ws; j++) ev[j] += b3[j - 1];
                    for (int j = 0; j < Ws - 1; j++) od[j] += b0[j + 1];
                }
                for (int j = 0; j < Ws; j++) { srow[2 * j] = ev[j]; srow[2 * j + 1] = od[j]; }
                conv_epilogue(plane + (size_t)ih * Wb, srow, (size_t)Wb, mode, bv, act,
                         mplane ? mplane + (size_t)ih * Wb : NULL);
            }
            continue;
        }
        memset(scratch, 0, sizeof(float) * g->Lb);
        for (int kh = 0; kh < K; kh++)
            for (int kw = 0; kw < K; kw++) {
                const float *src = cc + (size_t)(kh * K + kw) * ld;
                for (int oh = 0; oh < Hs; oh++) {
                    int ih = oh * S - P + kh;
                    if (ih < 0 || ih >= Hb) continue;
                    float *d = scratch + (size_t)ih * Wb;
                    const float *sr = src + (size_t)oh * Ws;
                    for (int ow = 0; ow < Ws; ow++) {
                        int iw = ow * S - P + kw;
                        if (iw >= 0 && iw < Wb) d[iw] += sr[ow];
                    }
                }
            }
        conv_epilogue(plane, scratch, g->Lb, mode, bv, act, mplane);
    }
}
