/*
 * conv_direct.h - internal to nn/conv.c: direct kernels for kernel 4 / stride 2 / padding 1,
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

// Winograd F(2x2, 2x2) on the conv2d geometry's 2x2 sub-convolutions (4C parity planes of the
// big grid, from direct_conv_prep): 9 GEMMs of [M, 4C] x [4C, tiles] in place of 16 products
// per 2x2 output tile. Tile t covers rows 2i, 2i+1 and columns 2j, 2j+1 of the small grid
// (t = i * TW + j). conv2d backward-data and convT forward are its adjoint, the weight
// gradients its third product (conv.c).
// The run of tiles from tile t (at most `left` of them) within its tile row: row *i, first
// column *j0; returns the run's length.
static inline int wino_run(int t, int left, int TW, int *i, int *j0) {
    *i = t / TW, *j0 = t % TW;
    return TW - *j0 < left ? TW - *j0 : left;
}
// V [9][M][4C] from the weight w [M][C][4][4] (a conv2d's, or the convT's [C_in][C_out][4][4]).
void wino_weights(float *V, const float *w, int M, int C);
// U [9][K][nt] = B^T X B for tiles [t0, t0 + nt) of K planes xs floats apart, Wp wide, whose
// windows start at row 2i, column 2j; rows from `rows` on are read from zrow (at least
// Wp + 64 zeros).
void wino_input(float *U, const float *x, size_t xs, int K, int Wp, int rows, int TW, int t0, int nt,
                const float *zrow);
// Its adjoint: planes x += B Q B^T of tiles [t0, t0 + nt), Q [9][K][nt]; positions past
// `rows` x Wp are dropped. tmp: 3 wino_adj_row_floats(TW) floats.
static inline size_t wino_adj_row_floats(int TW) { return 2 * (size_t)TW + 48; }
void wino_input_adj(float *x, size_t xs, int K, int Wp, int rows, int TW, int t0, int nt, const float *Q,
                    float *tmp);
// The inverse of direct_conv_prep for one row: dst [W] = row r of channel c of the [C, H, W]
// input whose parity planes x holds.
void direct_conv_row(float *dst, const float *x, const DirectGeom *g, int c, int r, int W);
// Y = A^T P A of n consecutive tiles, products P [9] ps floats apart: the tiles' two output
// rows, 2n floats each (written up to the next multiple of 32; P read up to the next of 16).
void wino_rows_down(float *r0, float *r1, const float *P, size_t ps, int n);
// Z [9][M][nt] = A dY A^T of the tiles of dy (M planes ldc floats apart, Hs x Ws, zero past
// the edges): the adjoint's input transform and the weight gradient's, dV [9][M][K] +=
// Z x U^T; wino_dw_add adds G^T dV G into the transposed weight gradient [C*16][M].
void wino_grad_z(float *Z, const float *dy, size_t ldc, int M, int Hs, int Ws, int TW, int t0, int nt);
void wino_dw_add(float *dwT, const float *dV, int M, int C);

#endif
