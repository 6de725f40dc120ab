/*
 * ops.h - layer kernels: forward and backward pairs on raw float pointers (llm.c style).
 *
 * Layout: NCHW row-major, PyTorch's. Dimension letters: B batch, C/OC channels, H/W size,
 * K kernel, S stride, P padding, N features.
 * Contract: forward overwrites `out`. Backward ACCUMULATES (+=) into every d-buffer it is
 * given (dinp, dw, db; the conv backward's dinp overwrites instead with CONV_DINP_SET); a
 * NULL d-buffer is skipped (e.g. dinp of the first layer). The convolutions: nn/conv.h. The
 * training step zeroes all grads once. Workspaces are caller-owned (no malloc in here).
 */
#ifndef NEMU_OPS_H
#define NEMU_OPS_H

#include "nn/conv.h"   // the convolutions (their own header; here for the files that use both)

#include <stddef.h>

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
