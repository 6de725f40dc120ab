/*
 * emulation.c - per-frame emulation measures (see emulation.h). Sums in double.
 */
#include "evaluation/emulation.h"

#include <math.h>
#include <stddef.h>

double emu_l1(const float *a, const float *b, int c, int h, int w) {
    size_t n = (size_t)c * h * w;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)a[i] - b[i]);
    return n ? s / n : NAN;
}

double emu_changed_l1(const float *img, const float *truth, const float *start, int c, int h, int w,
                      int *n_changed) {
    size_t P = (size_t)h * w;
    double s = 0;
    int n = 0;
    for (size_t p = 0; p < P; p++) {
        int changed = 0;
        for (int k = 0; k < c; k++) changed |= fabs((double)truth[k * P + p] - start[k * P + p]) > EMU_CHANGE_EPS;
        if (!changed) continue;
        n++;
        for (int k = 0; k < c; k++) s += fabs((double)img[k * P + p] - truth[k * P + p]);
    }
    if (n_changed) *n_changed = n;
    return n ? s / ((double)n * c) : NAN;
}

void emu_compose(float *pred, const float *x0, const float *d0, int c, int h, int w, float tau) {
    const size_t P = (size_t)h * w;
    for (size_t i = 0; i < P; i++) {
        float d = 0;
        for (int k = 0; k < c; k++) d = fmaxf(d, fabsf(pred[k * P + i] - d0[k * P + i]));
        if (d <= tau)
            for (int k = 0; k < c; k++) pred[k * P + i] = x0[k * P + i];
    }
}

double emu_masked_l1(const float *a, const float *b, const uint8_t *mask, int c, int h, int w) {
    size_t P = (size_t)h * w;
    double s = 0;
    size_t n = 0;
    for (size_t p = 0; p < P; p++) {
        if (!mask[p]) continue;
        n++;
        for (int k = 0; k < c; k++) s += fabs((double)a[k * P + p] - b[k * P + p]);
    }
    return n ? s / ((double)n * c) : NAN;
}

PieceScore emu_piece_score(const float *img, const float *truth, const float *no_piece, const uint8_t *mask,
                           int c, int h, int w) {
    PieceScore r = {NAN, emu_masked_l1(no_piece, truth, mask, c, h, w), -1};
    if (!(r.contrast >= EMU_PIECE_MIN_CONTRAST)) return r;
    r.l1 = emu_masked_l1(img, truth, mask, c, h, w);
    r.drawn = r.l1 < EMU_PIECE_DRAWN_FRACTION * r.contrast;
    return r;
}

int emu_change_motion(const float *after, const float *before, const uint8_t *region, int c, int h, int w,
                      double *dx, double *dy) {
    size_t P = (size_t)h * w;
    double wa = 0, xa = 0, ya = 0, wl = 0, xl = 0, yl = 0;
    int na = 0, nl = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t p = (size_t)y * w + x;
            if (region && !region[p]) continue;
            double d = 0;
            for (int k = 0; k < c; k++) d += (double)after[k * P + p] - before[k * P + p];
            if (d > EMU_MOVE_EPS) na++, wa += d, xa += d * x, ya += d * y;
            else if (d < -EMU_MOVE_EPS) nl++, wl -= d, xl -= d * x, yl -= d * y;
        }
    *dx = *dy = 0;
    if (!na || !nl) return 0;
    *dx = xa / wa - xl / wl;
    *dy = ya / wa - yl / wl;
    return na < nl ? na : nl;
}

int emu_object_centroid(const float *frame, const float *bg, const uint8_t *region, int c, int h, int w, double *x,
                        double *y) {
    const size_t P = (size_t)h * w;
    double sw = 0, sx = 0, sy = 0;
    int n = 0;
    for (int py = 0; py < h; py++)
        for (int px = 0; px < w; px++) {
            const size_t p = (size_t)py * w + px;
            if (region && !region[p]) continue;
            double d = 0;
            for (int k = 0; k < c; k++) d += fabs((double)frame[k * P + p] - bg[k * P + p]);
            if (d <= EMU_OBJECT_EPS) continue;
            n++, sw += d, sx += d * px, sy += d * py;
        }
    *x = n ? sx / sw : 0, *y = n ? sy / sw : 0;
    return n;
}

const char *emu_direction_name(EmuDirection d) {
    return d == EMU_LEFT ? "left" : d == EMU_RIGHT ? "right" : d == EMU_DOWN ? "down" : "?";
}

int emu_direction_ok(EmuDirection d, int n, double dx, double dy, double cw, double ch) {
    if (n <= 0) return 0;
    switch (d) {
    case EMU_LEFT: return dx <= -EMU_MOVE_CELLS * cw;
    case EMU_RIGHT: return dx >= EMU_MOVE_CELLS * cw;
    case EMU_DOWN: return dy >= EMU_MOVE_CELLS * ch && fabs(dx) < EMU_MOVE_CELLS * cw;
    default: return 0;
    }
}
