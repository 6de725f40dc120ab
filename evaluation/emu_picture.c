/*
 * emu_picture.c - rollouts.png with the start frame and the changed pixels (see emu_picture.h).
 */
#include "evaluation/emu_picture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluation/emulation.h"
#include "evaluation/picture.h"
#include "base/err.h"
#include "base/alloc.h"

// [c,h,w] -> [3,h,w]
static void to_rgb(const float *in, int c, int h, int w, float *out) {
    size_t P = (size_t)h * w;
    for (int k = 0; k < 3; k++) memcpy(out + k * P, in + (c == 3 ? k : 0) * P, P * sizeof(float));
}

void change_map(const float *start, const float *truth, const float *pred0, const float *pred, int c, int h,
                int w, float *out) {
    size_t P = (size_t)h * w;
    for (size_t p = 0; p < P; p++) {
        double g = 0, dt = 0, dp = 0;
        int tc = 0;
        for (int k = 0; k < c; k++) {
            g += truth[k * P + p] / c;
            dt = fabs((double)truth[k * P + p] - start[k * P + p]);
            tc |= dt > EMU_CHANGE_EPS;
            dp += fabs((double)pred[k * P + p] - pred0[k * P + p]);
        }
        int pc = dp > EMU_MOVE_EPS;
        float base = (float)(0.3 * g);
        out[p] = tc ? 1.0f : base;
        out[P + p] = pc ? 1.0f : base;
        out[2 * P + p] = tc || pc ? 0.0f : base;
    }
}

int picture_rollouts_marked(const char *path, const float *start, const float *pred0, const float *truth,
                            const float *pred, int n, int n_steps, const int *steps, int c, int h, int w,
                            Err *err) {
    CHECK(n >= 1 && n_steps >= 1, "picture_rollouts_marked: %d starts, %d steps", n, n_steps);
    const int rows = 3 * n, cols = n_steps + 1;
    const size_t F = (size_t)c * h * w, F3 = (size_t)3 * h * w;
    float *rgb = xmalloc_floats((size_t)rows * cols * F3);
    const float **imgs = xcalloc((size_t)rows * cols, sizeof *imgs);
    const char **clab = xmalloc(sizeof *clab * cols), **rlab = xmalloc(sizeof *rlab * rows);
    char *names = xmalloc((size_t)cols * 16);
    snprintf(names, 16, "start");
    clab[0] = names;
    for (int k = 0; k < n_steps; k++) {
        snprintf(names + 16 * (k + 1), 16, "t+%d", steps[k]);
        clab[k + 1] = names + 16 * (k + 1);
    }
    for (int s = 0; s < n; s++) {
        rlab[3 * s] = "true", rlab[3 * s + 1] = "pred", rlab[3 * s + 2] = "change";
        const float *x0 = start + s * F, *p0 = pred0 + s * F;
        float *cell = rgb + (size_t)(3 * s) * cols * F3;
        to_rgb(x0, c, h, w, cell);
        imgs[(3 * s) * cols] = cell;
        cell = rgb + (size_t)(3 * s + 1) * cols * F3;
        to_rgb(p0, c, h, w, cell);
        imgs[(3 * s + 1) * cols] = cell;
        for (int k = 0; k < n_steps; k++) {
            const float *t = truth + ((size_t)s * n_steps + k) * F, *p = pred + ((size_t)s * n_steps + k) * F;
            float *ct = rgb + ((size_t)(3 * s) * cols + k + 1) * F3;
            float *cp = rgb + ((size_t)(3 * s + 1) * cols + k + 1) * F3;
            float *cc = rgb + ((size_t)(3 * s + 2) * cols + k + 1) * F3;
            to_rgb(t, c, h, w, ct), to_rgb(p, c, h, w, cp);
            change_map(x0, t, p0, p, c, h, w, cc);
            imgs[(3 * s) * cols + k + 1] = ct, imgs[(3 * s + 1) * cols + k + 1] = cp;
            imgs[(3 * s + 2) * cols + k + 1] = cc;
        }
    }
    GridSpec g = {.rows = rows, .cols = cols, .c = 3, .h = h, .w = w,
                  .title = "open-loop rollouts; change: red = true frame changed vs start, green = prediction "
                           "changed vs its step 0, yellow = both",
                  .col_labels = clab, .row_labels = rlab, .row_group = 3};
    Canvas cv;
    picture_grid(&cv, &g, imgs);
    int rc = canvas_write_png(&cv, path, err);
    canvas_free(&cv);
    free(rgb), free(imgs), free(clab), free(rlab), free(names);
    return rc;
}
