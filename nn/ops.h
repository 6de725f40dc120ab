/*
 * ops.h - layer kernels: forward and backward pairs on raw float pointers (llm.c style).
 *
 * Layout: NCHW row-major, PyTorch's. Dimension letters: B batch, C/OC channels, H/W size,
 * K kernel, S stride, P padding, N features.
 * Contract: forward overwrites `out`. Backward ACCUMULATES (+=) into every d-buffer it is
 * given (dinp, dw, db; the conv backward's dinp overwrites instead with CONV_DINP_SET); a
 * NULL d-buffer is skipped (e.g. dinp of the first layer). The
 * training step zeroes all grads once. Workspaces are caller-owned (no malloc in here).
 */
#ifndef NEMU_OPS_H
#define NEMU_OPS_H

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
// kernels' padded inputs and raw sums, a packed weight); the same
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

// Runs the calls between begin and end on the calling thread only: no OpenMP team for
// our loops and single-threaded BLAS (for small ops, where a fork/join costs more than it
// saves). begin returns the thread count to give back to end. Nests.
int ops_serial_begin(void);
void ops_serial_end(int saved);

// Direct loops, the references the fast paths are tested against.
void conv2d_forward_naive(float *out, const float *inp, const float *w, const float *b,
                          int B, const ConvShape *s);
void convt2d_forward_naive(float *out, const float *inp, const float *w, const float *b,
                           int B, const ConvShape *s);

// ---- Linear (nn.Linear): inp [B,IN], w [OUT,IN], b [OUT] (may be NULL), out [B,OUT]
void linear_forward(float *out, const float *inp, const float *w, const float *b,
                    int B, int IN, int OUT);
void linear_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                     const float *w, int B, int IN, int OUT);
// dinp = beta_dinp * dinp + dout w (beta 0: dinp need not be zeroed); dw, db += as above
void linear_backward_beta(float *dinp, float beta_dinp, float *dw, float *db, const float *dout,
                          const float *inp, const float *w, int B, int IN, int OUT);

// ---- LayerNorm over the last N features, eps 1e-5, affine (nn.LayerNorm(N))
// inp/out [B,N]; mean, rstd [B] are saved for backward; w, b [N]
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp,
                       const float *w, const float *b, int B, int N);
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                        const float *mean, const float *rstd, const float *w, int B, int N);

// ---- Element-wise activations over n floats. out may equal inp (in place) for forward.
void relu_forward(float *out, const float *inp, size_t n);
void relu_backward(float *dinp, const float *dout, const float *out, size_t n);      // uses out
void gelu_forward(float *out, const float *inp, size_t n);                           // Phi to < 7.5e-7 relative, |x| < 5
void gelu_backward(float *dinp, const float *dout, const float *inp, size_t n);      // uses inp
// GELU forward that also saves its derivative dgelu [n]; b [N] (may be NULL) is first added
// in place to inp viewed as [n/N, N]. gelu_backward_saved writes dinp = dout * dgelu.
void gelu_forward_saved(float *out, float *dgelu, float *inp, const float *b, size_t n, int N);
void gelu_backward_saved(float *dinp, const float *dout, const float *dgelu, size_t n);
void sigmoid_forward(float *out, const float *inp, size_t n);
void sigmoid_backward(float *dinp, const float *dout, const float *out, size_t n);   // uses out

// ---- Losses, mean reduction (as PyTorch). forward returns the loss.
// backward ACCUMULATES scale * dLoss/dpred into dpred (scale = upstream gradient, usually 1).
float l1_loss_forward(const float *pred, const float *target, size_t n);
void l1_loss_backward(float *dpred, const float *pred, const float *target, size_t n, float scale);
float mse_loss_forward(const float *pred, const float *target, size_t n);
void mse_loss_backward(float *dpred, const float *pred, const float *target, size_t n, float scale);

#endif
