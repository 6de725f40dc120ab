/*
 * conv_wino3.h - Conv2d 3x3, stride 1, padding 1 (the conv dynamics' layers, issue #23) by
 * Winograd F(4x4, 3x3) over groups of 16 samples: forward, input gradient and weight gradient
 * (conv_wino3.c says how). conv_plan (nn/conv.h) gives such shapes the path CONV_WINOGRAD at
 * batches of 16 and more; NEMU_CONV_WINOGRAD=0 sends them back to CONV_SHIFT. Same contracts
 * as conv.h's conv2d_*_act (the backward's dinp_flags; dinp, dw or db NULL is skipped; dw and
 * db accumulate). Each output is a sum in another order than the direct one's, through
 * transforms with constants up to 8 and 1/24: close to it (relative ~1e-6 of the output's
 * scale), not bit-equal.
 */
#ifndef NEMU_CONV_WINO3_H
#define NEMU_CONV_WINO3_H

#include <stddef.h>
#include "nn/conv.h"

// conv_plan takes this path from this batch on (a group of 16 samples fills the vectors; below
// it the lanes left empty cost more than the fewer multiplications save).
#define WINO3_MIN_BATCH 16

int wino3_fits(const ConvShape *s);                 // 3x3 S1 P1, same grid, H*W <= 1024
size_t wino3_workspace(const ConvShape *s, int B);  // floats
void wino3_forward(float *out, const float *inp, const float *w, const float *b, int act, int B, const ConvShape *s,
                   float *work);
void wino3_backward(float *dinp, float *dw, float *db, const float *dout, const float *y, int act, int dinp_flags,
                    const float *inp, const float *w, int B, const ConvShape *s, float *work);

// The same with inp (in_il), out (out_il), dout (dout_il) or dinp (dinp_il) in the interleaved
// layout the kernels work in, which a caller that chains these layers keeps between them
// (nn/dyn_conv.c): sample b = 16g + l, channel c, grid position p at ((g*C + c)*H*W + p)*16 + l,
// whole groups of 16 (ceil(B/16)*16 samples of room), the lanes past B zero (an interleaved out
// or dinp writes them as zero). It spares the 16x16 transposes, and the reads of 16 samples'
// planes far apart, on each side of the layer. Forward act: ReLU or none with out_il; backward:
// act none with in_il or dout_il; dinp_il: CONV_DINP_SET, its ReLU mask from an interleaved inp.
// Results are bit for bit those of the NCHW calls, but for db with dout_il (summed by sample
// instead of by position: the same numbers in another order).
void wino3_forward_il(float *out, const float *inp, const float *w, const float *b, int act, int B,
                      const ConvShape *s, float *work, int in_il, int out_il);
void wino3_backward_il(float *dinp, float *dw, float *db, const float *dout, const float *y, int act, int dinp_flags,
                       const float *inp, const float *w, int B, const ConvShape *s, float *work, int in_il, int dout_il,
                       int dinp_il);

#endif
