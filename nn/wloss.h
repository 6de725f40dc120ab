/*
 * wloss.h - the changed-pixel-weighted L1 loss of the autoencoder (train.changed_weight):
 *
 *   loss = (1/n) sum_i w_i |pred_i - target_i|,   w_i = 1 + alpha where the pixel changed
 *
 * A pixel of frame t has changed when any channel differs from frame t-1 of its episode
 * (frame 1 for an episode's first frame). alpha = train.changed_weight; the loss is the
 * plain L1 when alpha = 0. The weights put the loss where the game moves (the falling
 * piece, the digits), which a uniform L1 lets a blurry model ignore. The gradient is
 * w_i sign(pred_i - target_i) / n (sign(0) = 0, as PyTorch). Tested against PyTorch's
 * (w * (pred - target).abs()).mean() (tests/make_wloss_fixtures.py).
 */
#ifndef NEMU_WLOSS_H
#define NEMU_WLOSS_H

#include <stddef.h>
#include <stdint.h>

float wl1_loss_forward(const float *pred, const float *target, const float *w, size_t n);
// dpred += scale * w * sign(pred - target) / n
void wl1_loss_backward(float *dpred, const float *pred, const float *target, const float *w, size_t n, float scale);
// w [C,H,W] = 1 + alpha where frame and other (uint8 [C,H,W]) differ in any channel, else 1.
void changed_weights(const uint8_t *frame, const uint8_t *other, int C, int H, int W, float alpha, float *w);

#endif
