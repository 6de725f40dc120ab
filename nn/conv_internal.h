/*
 * conv_internal.h - what nn/conv.c shares with nn/conv_wino.c (internal to nn/): the pair of
 * grids every convolution is seen as, the epilogue that finishes an output row, and the
 * Winograd paths.
 */
#ifndef NEMU_CONV_INTERNAL_H
#define NEMU_CONV_INTERNAL_H

#include "nn/conv.h"
#include "nn/conv_direct.h"

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

static inline size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

// The direct kernels' geometry of the "down" direction (big grid to small grid).
static inline DirectGeom geom_down(const Grids *g) { return direct_conv_geom(g->Cb, g->Hb, g->Wb); }

// Whether the direct kernels can take this shape from K to M channels: fewer than 8 output
// channels (the decoder's last layer) leave the register tile mostly empty, and one input
// channel gives each tile too little work; GEMM is faster there (measured, bench/README.md).
static inline int direct_fits(const Grids *g, int K, int M) { return g->fast && M >= 8 && K >= 2; }

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
