/*
 * conv_same.h - Conv2d with stride 1, odd kernel K and padding K/2 (the output grid is the
 * input grid) on small grids (H*W <= 4096) by K*K shifted GEMMs over the batch laid out on
 * padded grids: no im2col (conv_same.c says how). conv_plan (nn/conv.h) gives such shapes the
 * path CONV_SHIFT (the spatial latent's 1x1 convs, the conv dynamics' 3x3 layers);
 * NEMU_CONV_SHIFT=0 sends them back to im2col + GEMM (A/B runs and tests). Same contracts as
 * conv.h's conv2d_*_act (the backward's dinp_flags; dinp, dw or db NULL is skipped; dw and db
 * accumulate).
 */
#ifndef NEMU_CONV_SAME_H
#define NEMU_CONV_SAME_H

#include <stddef.h>
#include "nn/conv.h"

int conv_same_fits(const ConvShape *s);                 // whether this path can take the shape
size_t conv_same_workspace(const ConvShape *s, int B);  // floats
void conv_same_forward(float *out, const float *inp, const float *w, const float *b, int act, int B,
                       const ConvShape *s, float *work);
void conv_same_backward(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                        int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s, float *work);

#endif
