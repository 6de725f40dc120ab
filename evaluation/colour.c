/* colour.c - hue error and colour bleeding on the falling piece (colour.h). */
#include "evaluation/colour.h"

#include <math.h>
#include <stddef.h>

double colour_hue(float r, float g, float b) {
    const float v = fmaxf(r, fmaxf(g, b)), delta = v - fminf(r, fminf(g, b));
    if (delta == 0.f) return 0;
    double h;   // scikit-image assigns r, then g, then b: the last channel equal to the max wins
    if (b == v) h = 4.0 + ((double)r - g) / delta;
    else if (g == v) h = 2.0 + ((double)b - r) / delta;
    else h = ((double)g - b) / delta;
    h = fmod(h / 6.0, 1.0);
    if (h < 0) h += 1.0;
    return h * 360.0;
}

double colour_hue_diff(double h1, double h2) {
    double d = fabs(h1 - h2);
    d = fmod(d, 360.0);
    return d > 180.0 ? 360.0 - d : d;
}

// 1 when some 8-neighbour of (y, x) (inside the frame) has mask value v.
static int neighbour_is(const uint8_t *mask, int H, int W, int y, int x, int v) {
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            const int yy = y + dy, xx = x + dx;
            if ((dy || dx) && yy >= 0 && yy < H && xx >= 0 && xx < W && mask[yy * W + xx] == v) return 1;
        }
    return 0;
}

static double pixel_l1(const float *a, const float *b, int C, size_t HW, size_t i) {
    double s = 0;
    for (int c = 0; c < C; c++) s += fabs((double)a[c * HW + i] - b[c * HW + i]);
    return s / C;
}

void colour_frame(ColourAcc *a, const float *truth, const float *hidden, const float *pred, int C, int H, int W,
                  int palette, uint8_t *mask) {
    const size_t HW = (size_t)H * W;
    int64_t n = 0;
    for (size_t i = 0; i < HW; i++) {
        mask[i] = 0;
        for (int c = 0; c < C; c++) mask[i] |= fabsf(truth[c * HW + i] - hidden[c * HW + i]) > 0.5f / 255.f;
        n += mask[i];
    }
    if (!n) return;
    a->frames++;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            const size_t i = (size_t)y * W + x;
            if (mask[i] ? neighbour_is(mask, H, W, y, x, 0) : neighbour_is(mask, H, W, y, x, 1))
                a->band_sum += pixel_l1(truth, pred, C, HW, i), a->band_n++;
            else if (mask[i])
                a->interior_sum += pixel_l1(truth, pred, C, HW, i), a->interior_n++;
            if (!mask[i] || C != 3 || palette < 0 || palette >= COLOUR_PALETTES) continue;
            const float r = truth[i], g = truth[HW + i], b = truth[2 * HW + i];
            const float v = fmaxf(r, fmaxf(g, b)), s = v > 0 ? (v - fminf(r, fminf(g, b))) / v : 0;
            if (s < COLOUR_MIN_SAT || v < COLOUR_MIN_VAL) continue;
            a->hue_sum[palette] += colour_hue_diff(colour_hue(r, g, b), colour_hue(pred[i], pred[HW + i], pred[2 * HW + i]));
            a->hue_n[palette]++;
        }
}

void colour_add(ColourAcc *into, const ColourAcc *a) {
    for (int p = 0; p < COLOUR_PALETTES; p++) into->hue_sum[p] += a->hue_sum[p], into->hue_n[p] += a->hue_n[p];
    into->band_sum += a->band_sum, into->interior_sum += a->interior_sum;
    into->band_n += a->band_n, into->interior_n += a->interior_n, into->frames += a->frames;
}
