/*
 * optim.h - Adam and AdamW with PyTorch's semantics, and global gradient-norm clipping.
 *
 * torch.optim.Adam:  g += wd * p (L2); m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *                    p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps),  bc_i = 1 - b_i^t
 * torch.optim.AdamW: p *= 1 - lr*wd first, then the same update without the L2 term.
 * Parameters, grads, m, v are flat arrays of n floats (one arena each, see model.h).
 */
#ifndef NEMU_OPTIM_H
#define NEMU_OPTIM_H

#include <stddef.h>

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    int decoupled;        // 0: Adam (L2 into the gradient), 1: AdamW
    long t;               // steps taken so far (checkpointed)
} Adam;

Adam adam_default(float lr);     // betas (0.9, 0.999), eps 1e-8, wd 0, Adam
// One step over the whole arena: t += 1, then update p, m, v in place.
void adam_step(Adam *opt, float *p, const float *g, float *m, float *v, size_t n);

// Global L2 norm of the gradient (double accumulation).
float grad_norm(const float *g, size_t n);
// torch.nn.utils.clip_grad_norm_: if norm > max_norm, scale g by max_norm/(norm + 1e-6).
// Returns the norm before clipping. max_norm <= 0 means no clipping.
float clip_grad_norm(float *g, size_t n, float max_norm);

#endif
