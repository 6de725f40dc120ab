/*
 * conv_internal.h - what nn/conv.c shares with nn/conv_wino.c (internal to nn/): the pair of
 * grids every convolution is seen as, the epilogue that finishes an output row, and the
 * Winograd paths.
 */
#ifndef NEMU_CONV_INTERNAL_H
#define NEMU_CONV_INTERNAL_H

#include "nn/conv.h"
#include "nn/conv_direct.h"
#include "base/threads.h"

#include <stddef.h>

// Every conv is seen as a pair of grids: the "big" image grid [Cb, Hb, Wb] that im2col
// unfolds and col2im folds, and the "small" grid [Cs, Hs, Ws] of the GEMM's columns.
// conv2d: big = input, small = output; convt2d: big = output, small = input.
typedef struct {
    int Cb, Hb, Wb, Cs, Hs, Ws, K, S, P;
    int R;          // Cb*K*K rows of the column matrix
    size_t L, Lb;   // Hs*Ws, Hb*Wb
    int fast;       // K4 S2 P1 with Hb = 2 Hs, Wb = 2 Ws: branch-free unfold/fold, direct kernels
} Grids;

// The pair of grids (conv_internal.h) of a conv2d or convt2d shape.
static inline Grids grids(const ConvShape *s, int transposed) {
    Grids g;
    if (!transposed) {
        g.Cb = s->C, g.Hb = s->H, g.Wb = s->W, g.Cs = s->OC, g.Hs = s->OH, g.Ws = s->OW;
    } else {
        g.Cb = s->OC, g.Hb = s->OH, g.Wb = s->OW, g.Cs = s->C, g.Hs = s->H, g.Ws = s->W;
    }
    g.K = s->K, g.S = s->S, g.P = s->P;
    g.R = g.Cb * g.K * g.K;
    g.L = (size_t)g.Hs * g.Ws;
    g.Lb = (size_t)g.Hb * g.Wb;
    g.fast = g.K == 4 && g.S == 2 && g.P == 1 && g.Hb == 2 * g.Hs && g.Wb == 2 * g.Ws && g.Ws <= 1024;
    return g;
}

static inline size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

// The direct kernels' geometry of the "down" direction (big grid to small grid).
static inline DirectGeom geom_down(const Grids *g) { return direct_conv_geom(g->Cb, g->Hb, g->Wb); }

// Whether the direct kernels can take this shape from K to M channels: fewer than 8 output
// channels (the decoder's last layer) leave the register tile mostly empty, and one input
// channel gives each tile too little work; GEMM is faster there (measured, bench/README.md).
static inline int direct_fits(const Grids *g, int K, int M) { return g->fast && M >= 8 && K >= 2; }
// Whether a convT can take CONV_FEW: K4 S2 P1 towards 2-4 channels from 2 or more.
static inline int few_fits(const Grids *g) { return direct_fits(g, g->Cs, 8) && g->Cb >= 2 && g->Cb <= 4; }

// Threads a conv runs on: OpenMP's count, at most what the workspaces are sized for.
static inline int conv_threads(void) {
    int t = omp_threads(), cap = threads_cap();
    return t < cap ? t : cap;
}

// Every path of p possible for the shape (conv_plan_ok), else an internal error (conv_plan.c).
void conv_check_plan(const ConvShape *s, int transposed, const ConvPlan *p);

// Floats of cache one thread's conv working set (column buffer + gradient chunk) aims at.
#define CONV_CACHE_FLOATS ((size_t)1 << 18)

// ---- im2col / col2im (conv_gemm.c). One sample: col rows r = (c*K + kh)*K + kw, row stride
// ld, columns [Hs*Ws] of the small grid = img [Cb, Hb, Wb] under the window; 0 where it hits
// padding. unfold_rows: small-grid rows [oh0, oh1) only, into columns from 0.
void unfold_rows(float *restrict col, size_t ld, const float *restrict img, const Grids *g, int oh0, int oh1);
void unfold(float *restrict col, size_t ld, const float *restrict img, const Grids *g);
// dwT [R, M] += unfold(img) x a^T (a [M, L], row stride lda) by blocks of small-grid rows that
// stay in L2, for one sample too large for one column buffer (dw_blocked).
void dw_row_blocks(float *dwT, const float *a, size_t lda, int M, const float *img, const Grids *g, float *col);
int dw_blocked(const Grids *g, int nb);
// Adjoint of unfold for big-grid channels [c0, c1) of one sample, with the epilogue (mode,
// bias, act, mask as conv_epilogue); scratch: Lb floats.
void fold(float *out, const float *col, size_t ld, const Grids *g, int c0, int c1, int mode, const float *bias,
          int act, const float *mask, float *scratch);

// Epilogues of an output row: out[i] = act(s[i] + bias) (EPI_SET), out[i] += s[i] (EPI_ADD),
// out[i] += mask[i] > 0 ? s[i] : 0 (EPI_ADD_MASK), out[i] = mask[i] > 0 ? s[i] : 0 (EPI_SET_MASK).
enum { EPI_SET, EPI_ADD, EPI_ADD_MASK, EPI_SET_MASK };
void conv_epilogue(float *out, const float *s, size_t n, int mode, float bias, int act, const float *restrict mask);

// ---- Winograd F(2x2, 2x2) (conv_wino.c), in the "down" geometry of the 4 Cb parity planes
// of the big grid and 2x2 tiles of the small one, for K4 S2 P1 with enough channels.
// Tiles of a call (samples x tiles a sample) that win back its weight transform, made per
// call: break-even measured at 200-250 (one thread, the 80x80 decoder's layers at batch 1-16),
// so a batch-1 frame of the interactive loop keeps the direct kernel (conv_plan).
#define WINO_CALL_TILES 400
int wino_tiles(const Grids *g);                   // 2x2 tiles of a small-grid plane
int wino_fits(const Grids *g);                    // whether the shape can take it
size_t wino_floats(const Grids *g);               // scratch floats of one thread
// V [9][M][4C] from the weight w [M][C][4][4] (a conv2d's, or the convT's [C_in][C_out][4][4]).
void wino_weights(float *V, const float *w, int M, int C);
// big [Cb, Hb, Wb] (channels ldc floats apart) -> out [Cs, Hs, Ws] with the epilogue (conv2d
// forward, convT backward-data); buf: wino_floats of this thread's scratch.
void wino_down(float *out, const float *in, size_t ldc, const float *V, const Grids *g, int mode,
               const float *bias, int act, const float *mask, float *buf);
// Its adjoint, small [Cs, Hs, Ws] -> out [Cb, Hb, Wb] (convT forward, conv2d backward-data).
void wino_adj(float *out, const float *in, size_t ldc, const float *V, const Grids *g, int mode,
              const float *bias, int act, const float *mask, float *buf);
// dV [9][Cs][4 Cb] += the weight gradient of one sample (big grid in, small grid's gradient
// side dy); wino_dw_add adds G^T dV G into the transposed weight gradient dwT [Cb*16][M].
void wino_dw(float *dV, const float *in, size_t ldc, const float *dy, size_t ldd, const Grids *g,
             float *buf);
void wino_dw_add(float *dwT, const float *dV, int M, int C);
// A whole forward pass (conv2d: transposed 0; convT: 1) on T threads, whole samples each:
// the weight transform into V, then thread t's scratch at buf + t * stride.
void wino_forward(float *out, const float *inp, const float *w, const float *b, int act, int B, const Grids *g,
                  int transposed, float *V, float *buf, size_t stride, int T);

#endif
