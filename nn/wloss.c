/*
 * wloss.c - changed-pixel-weighted L1 (see wloss.h). Sums in double, as the other losses.
 */
#include "nn/wloss.h"

#include <math.h>

#include "base/err.h"

float wl1_loss_forward(const float *pred, const float *target, const float *w, size_t n) {
    CHECK(n > 0, "wl1_loss_forward: n = 0");
    double acc = 0.0;
    for (size_t i = 0; i < n; i++) acc += (double)w[i] * fabs((double)pred[i] - target[i]);
    return (float)(acc / (double)n);
}

void wl1_loss_backward(float *dpred, const float *pred, const float *target, const float *w, size_t n, float scale) {
    CHECK(n > 0, "wl1_loss_backward: n = 0");
    float g = (float)((double)scale / (double)n);
    for (size_t i = 0; i < n; i++) {
        float d = pred[i] - target[i];
        dpred[i] += d > 0.0f ? g * w[i] : d < 0.0f ? -g * w[i] : 0.0f;
    }
}

void changed_weights(const uint8_t *frame, const uint8_t *other, int C, int H, int W, float alpha, float *w) {
    const size_t P = (size_t)H * W;
    for (size_t p = 0; p < P; p++) {
        int changed = 0;
        for (int c = 0; c < C; c++) changed |= frame[c * P + p] != other[c * P + p];
        for (int c = 0; c < C; c++) w[c * P + p] = changed ? 1.0f + alpha : 1.0f;
    }
}

void weight_map_weights(const uint8_t *map, int C, int H, int W, float gain, float *w) {
    const size_t P = (size_t)H * W;
    for (int c = 0; c < C; c++)
        for (size_t p = 0; p < P; p++) w[c * P + p] = 1.0f + gain * (float)map[p] / 255.0f;
}

void weights_mul(float *w, const float *m, size_t n) {
    for (size_t i = 0; i < n; i++) w[i] *= m[i];
}
