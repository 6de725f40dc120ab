/*
 * conv.h - Conv2d and ConvTranspose2d, forward and backward (nn/conv.c), and the plan that
 * says which path runs each of them.
 *
 * Layout and contract as nn/ops.h: NCHW, forward overwrites `out`, backward ACCUMULATES into
 * every d-buffer it is given (dinp overwritten instead with CONV_DINP_SET), a NULL d-buffer
 * is skipped, workspaces are caller-owned (no malloc in here).
 */
#ifndef NEMU_CONV_H
#define NEMU_CONV_H

#include <stddef.h>

// ---- Conv2d (PyTorch nn.Conv2d): weight [OC,C,K,K], bias [OC]
// out [B,OC,OH,OW], OH = (H + 2P - K)/S + 1
// ---- ConvTranspose2d (PyTorch nn.ConvTranspose2d, output_padding 0): weight [C,OC,K,K], bias [OC]
// out [B,OC,OH,OW], OH = (H - 1)*S - 2P + K
typedef struct {
    int C, H, W;      // input
    int OC, OH, OW;   // output
    int K, S, P;
} ConvShape;

ConvShape conv2d_shape(int C, int H, int W, int OC, int K, int S, int P);
ConvShape convt2d_shape(int C, int H, int W, int OC, int K, int S, int P);
// The *_shape functions CHECK their arguments (positive sizes, kernel fits the padded input).
// Floats of workspace one call needs for a batch of B (im2col / col2im buffers, the direct
// kernels' padded inputs and raw sums, a packed weight), whichever path runs; the same
// size serves forward and backward. Each thread (up to the processor count) works on one
// sample, or a small chunk of samples, at a time in its own slice, sized to stay in L2.
size_t conv2d_workspace(const ConvShape *s, int B);
size_t convt2d_workspace(const ConvShape *s, int B);

void conv2d_forward(float *out, const float *inp, const float *w, const float *b,
                    int B, const ConvShape *s, float *work);
void conv2d_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                     const float *w, int B, const ConvShape *s, float *work);
void convt2d_forward(float *out, const float *inp, const float *w, const float *b,
                     int B, const ConvShape *s, float *work);
void convt2d_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                      const float *w, int B, const ConvShape *s, float *work);

// Bias and activation fused into the output pass: out = act(conv(inp) + b).
enum { CONV_ACT_NONE = 0, CONV_ACT_RELU = 1, CONV_ACT_SIGMOID = 2 };
void conv2d_forward_act(float *out, const float *inp, const float *w, const float *b, int act,
                        int B, const ConvShape *s, float *work);
void convt2d_forward_act(float *out, const float *inp, const float *w, const float *b, int act,
                         int B, const ConvShape *s, float *work);
// Backward through act and the conv: dout = dL/dy for y = act(conv + b) (y [B,OC,OH,OW], the
// forward output; unused for CONV_ACT_NONE). dinp_flags: CONV_DINP_RELU: inp is a ReLU output
// and dinp gets dL/dinp * (inp > 0), the gradient of the pre-activation of the layer before;
// CONV_DINP_SET: dinp is overwritten (its contents before are ignored: no zeroing pass)
// instead of accumulated. dw and db always accumulate.
enum { CONV_DINP_RELU = 1, CONV_DINP_SET = 2 };
void conv2d_backward_act(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                         int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s,
                         float *work);
void convt2d_backward_act(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                          int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s,
                          float *work);

// Direct loops, the references the fast paths are tested against.
void conv2d_forward_naive(float *out, const float *inp, const float *w, const float *b,
                          int B, const ConvShape *s);
void convt2d_forward_naive(float *out, const float *inp, const float *w, const float *b,
                           int B, const ConvShape *s);

// ---- Paths. Each of the three products of a layer (the forward pass, the input gradient
// dinp, the weight gradient dw) runs on one of:
//   CONV_GEMM      im2col / col2im + GEMM (any shape)
//   CONV_DIRECT    the direct kernels of conv_direct.c (K4 S2 P1, 2+ channels in, 8+ out)
//   CONV_WINOGRAD  Winograd F(2x2, 2x2) (conv_wino.c: K4 S2 P1 from 16+ to 32+ channels, 25+
//                  tiles of 2x2 outputs a sample, at most 2 MB of transformed weight); for a
//                  3x3 stride-1 "same" conv2d on a grid of <= 1024 cells, Winograd F(4x4, 3x3)
//                  over groups of 16 samples (conv_wino3.c: the conv dynamics' layers)
//   CONV_FEW       convT forward towards 2-4 channels, all output parities at once
//   CONV_SHIFT     conv2d "same" (stride 1, odd K, padding K/2) on grids of <= 4096 cells:
//                  K*K shifted GEMMs over the whole batch on padded grids (conv_same.c), for
//                  the spatial latent's 1x1 convs and the conv dynamics' 3x3 layers
// (the weight gradient: CONV_GEMM, CONV_WINOGRAD or CONV_SHIFT).
typedef enum { CONV_GEMM = 0, CONV_DIRECT, CONV_WINOGRAD, CONV_FEW, CONV_SHIFT } ConvPath;
typedef struct { ConvPath forward, dinp, dw; } ConvPlan;

// The paths a call of `batch` samples on `threads` threads takes (threads <= 0: the count the
// convolutions run on now), the fastest measured (bench/README.md) among those the shape can
// take: Winograd where a call has 400+ tiles (a forward pass: also a sample per thread),
// else the direct kernels, else GEMM. transposed: 0 conv2d, 1 convt2d. The environment can
// only turn paths off, for A/B runs: NEMU_CONV_DIRECT=0 (everything on GEMM),
// NEMU_CONV_WINOGRAD=0 (the direct kernels where Winograd would run), NEMU_CONV_SHIFT=0
// (im2col + GEMM where the shifted GEMMs would run); read once. A "same" conv2d that fits
// takes CONV_SHIFT for all three products; a 3x3 one at a batch of 16 or more takes
// CONV_WINOGRAD (F(4x4, 3x3)) for all three instead (NEMU_CONV_WINOGRAD=0: CONV_SHIFT).
ConvPlan conv_plan(const ConvShape *s, int transposed, int batch, int threads);
// Whether the shape can take every path of p (any batch, any thread count).
int conv_plan_ok(const ConvShape *s, int transposed, const ConvPlan *p);
const char *conv_path_name(ConvPath p);   // "gemm", "direct", "winograd", "few", "shift"
// "forward/dinp/dw", e.g. "winograd/direct/winograd", into buf; returns buf.
const char *conv_plan_str(const ConvPlan *p, char *buf, size_t cap);

// The *_act calls above with the plan given instead of conv_plan's (tests, benchmarks): every
// path of it must be one the shape can take (conv_plan_ok; checked).
void conv2d_forward_plan(float *out, const float *inp, const float *w, const float *b, int act, int B,
                         const ConvShape *s, float *work, const ConvPlan *plan);
void convt2d_forward_plan(float *out, const float *inp, const float *w, const float *b, int act, int B,
                          const ConvShape *s, float *work, const ConvPlan *plan);
void conv2d_backward_plan(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                          int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s, float *work,
                          const ConvPlan *plan);
void convt2d_backward_plan(float *dinp, float *dw, float *db, const float *dout, const float *y, int act,
                           int dinp_flags, const float *inp, const float *w, int B, const ConvShape *s, float *work,
                           const ConvPlan *plan);

#endif
