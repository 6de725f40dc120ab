/*
 * compare.c - metrics between two PNG files (see compare.h).
 */
#include "evaluation/compare.h"

#include <stdlib.h>

#include "data/png.h"
#include "base/err.h"
#include "base/alloc.h"

int compare_png_files(const char *path_a, const char *path_b, CompareResult *out, Err *err) {
    Image a, b;
    if (png_read(path_a, &a, err) < 0) return -1;
    if (png_read(path_b, &b, err) < 0) { image_free(&a); return -1; }
    int rc = 0;
    if (a.w != b.w || a.h != b.h) {
        rc = err_set(err, "%s is %dx%d but %s is %dx%d: images must have the same size", path_a,
                     a.w, a.h, path_b, b.w, b.h);
    } else if (a.w < SSIM_MIN_SIDE || a.h < SSIM_MIN_SIDE) {
        rc = err_set(err, "%s: %dx%d is too small, SSIM needs at least %dx%d pixels", path_a, a.w,
                     a.h, SSIM_MIN_SIDE, SSIM_MIN_SIDE);
    } else {
        int c = (a.c == 1 && b.c == 1) ? 1 : 3;
        size_t n = (size_t)c * a.w * a.h;
        float *fa = xmalloc_floats(n), *fb = xmalloc_floats(n);
        image_to_planar(&a, c, fa);
        image_to_planar(&b, c, fb);
        SsimWork wk;
        ssim_work_init(&wk, a.h, a.w);
        out->w = a.w;
        out->h = a.h;
        out->c = c;
        out->m = metrics_image(fa, fb, c, a.h, a.w, &wk);
        ssim_work_free(&wk);
        free(fa);
        free(fb);
    }
    image_free(&a);
    image_free(&b);
    return rc;
}

void compare_print(FILE *f, const char *path_a, const char *path_b, const CompareResult *r) {
    fprintf(f, "%s vs %s: %dx%d %s\n", path_a, path_b, r->w, r->h, r->c == 1 ? "grey" : "RGB");
    fprintf(f, "L1    %.8f\n", r->m.l1);
    fprintf(f, "SSIM  %.8f\n", r->m.ssim);
    fprintf(f, "PSNR  %.6f dB%s\n", r->m.psnr, r->m.mse < 1e-10 ? " (identical: capped)" : "");
}
