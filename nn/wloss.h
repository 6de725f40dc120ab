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
 *
 * A weight map (train.weight_map) weighs fixed places of the frame instead, e.g. a game's
 * score digits: w_i = 1 + gain x map_i / 255 from a grey map already resized to the frames
 * (src/train_weight_map.c). Both weightings compose by product: a changed pixel of the map
 * weighs (1 + alpha)(1 + gain x map / 255). Tested against PyTorch with Pillow's resize of
 * the map (tests/make_weightmap_fixtures.py).
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
// w [C,H,W] = 1 + gain * map / 255, map uint8 [H,W] (the same weight in every channel).
void weight_map_weights(const uint8_t *map, int C, int H, int W, float gain, float *w);
// w[i] *= m[i] (i < n): two weightings composed.
void weights_mul(float *w, const float *m, size_t n);

#endif
