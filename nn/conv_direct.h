/*
 * conv_direct.h - internal to nn/conv.c (and nn/conv_wino.c): direct kernels for kernel 4 / stride 2 / padding 1,
 * the one convolution shape the models use, without im2col, col2im or packing.
 *
 * Both directions become 2x2 stride-1 convolutions over zero-padded planes read as flat
 * arrays: output position p = row*Wp + col of a plane Wp floats wide (the columns at
 * col >= the output width are junk and are never copied out), and tap t of input channel c
 * is x[c*xs + p + xoff[t]], so 16 consecutive positions are one vector load.
 *   conv2d:  the input is split into its 4 (row, col) parity planes (space to depth): the
 *            4x4 window of stride 2 is 4 planes x 2x2 taps = 16 taps per channel.
 *   convT2d: each of the 4 output parities (py, px) is a 2x2 conv of the padded input.
 * Each tap broadcasts one weight per output channel; convT reads the weight where it is
 * (the interactive loop decodes one frame at a time), conv packs it per call (16 taps x Q
 * channels in a row). The register tile is P vectors of 16 positions x Q output channels.
 */
#ifndef NEMU_CONV_DIRECT_H
#define NEMU_CONV_DIRECT_H

#include <stddef.h>

typedef struct {
    int C;            // input channels
    int up;           // 1: convT parity (weight [C][OC][4][4] in place); 0: conv (packed weight)
    int Wp, NP;       // plane width; positions (rows x Wp) that hold the output
    size_t xs;        // x stride between input channels
    size_t sub_xs;    // conv: stride between a channel's 4 parity planes
    int x0, w0;       // convT: offset of the parity's first tap in x and in a weight kernel
    size_t ws;        // convT: weight stride between input channels (OC*16)
    size_t wpacked;   // conv: packed weight floats per output channel (16*C)
    size_t xfloats;   // floats of the padded input buffer (with the read-over tail)
} DirectGeom;

// conv2d k4 s2 p1 from [C, H, W] (H, W even) with weight [OC, C, 4, 4]: output row y, col x
// at position y*Wp + x, Wp = W/2 + 1. The weight is packed first (OC*16*C floats).
DirectGeom direct_conv_geom(int C, int H, int W);
// x [C][4 parity planes] from in [C, H, W] whose channels are ldc floats apart.
void direct_conv_prep(float *x, const float *in, size_t ldc, const DirectGeom *g, int H, int W);
void direct_conv_pack(float *wp, const float *w, int OC, int C);

// convT2d k4 s2 p1 from [C, H, W] with weight [C, OC, 4, 4], output parity (py, px): output
// row 2i+py, col 2j+px at position i*Wp + j, Wp = W + 1. The four parities share one
// padded input (the geometry differs only in x0 and w0).
DirectGeom direct_convt_geom(int C, int OC, int H, int W, int py, int px);
void direct_convt_prep(float *x, const float *in, size_t ldc, const DirectGeom *g, int H, int W);
// The same for channels [c0, c1) only, without the zeroed tail after the last channel (for
// threads that share one padded input).
void direct_convt_prep_range(float *x, const float *in, size_t ldc, const DirectGeom *g, int H, int W, int c0,
                             int c1);
// Zeroes the read-over tail after the last channel (what direct_convt_prep adds to the range).
void direct_convt_tail(float *x, const DirectGeom *g);

// out [m * ldo + p] = the sum over input channels and taps for output channels m in [0, M)
// and positions p in [p0, p1); w is the weight at output channel 0 (convT) or the packed
// weight (conv: output channel 0's tile).
void direct_run(float *out, size_t ldo, int M, int p0, int p1, const float *x, const float *w,
                const DirectGeom *g);

// convT with few output channels (M <= 4): raw sums of input rows [i0, i1) for all four output
// parities, written to out [M] planes of ldo floats, rows of 2W ([2H, 2W] per channel); x
// from direct_convt_prep with the geometry of parity (0, 0); w the weight [C][M][4][4].
void direct_up_few(float *out, size_t ldo, int M, int i0, int i1, const float *x, const float *w,
                   const DirectGeom *g, int W);

// The inverse of direct_conv_prep for one row: dst [W] = row r of channel c of the [C, H, W]
// input whose parity planes x holds.
void direct_conv_row(float *dst, const float *x, const DirectGeom *g, int c, int r, int W);

#endif
