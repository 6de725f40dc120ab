/*
 * metrics.c - L1, MSE, PSNR and Gaussian SSIM (see metrics.h for the exact definitions).
 *
 * SSIM: for each kept output column x in [5, w-5) the horizontal pass computes, for every
 * row, the 11-tap weighted sums of a, b, a*a, b*b, a*b; the vertical pass then combines 11
 * rows of those for each kept row y in [5, h-5) and evaluates the SSIM formula.
 * Cost: 5 * 11 * 2 multiply-adds per pixel, in double.
 */
#include "evaluation/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "base/alloc.h"


static const double SSIM_SIGMA = 1.5, SSIM_C1 = 0.01 * 0.01, SSIM_C2 = 0.03 * 0.03;

void ssim_work_init(SsimWork *wk, int max_h, int max_w) {
    CHECK(max_h >= SSIM_MIN_SIDE && max_w >= SSIM_MIN_SIDE, "ssim workspace %dx%d", max_h, max_w);
    wk->max_h = max_h;
    wk->max_w = max_w;
    // scipy.ndimage._gaussian_kernel1d: exp(-x^2 / (2 sigma^2)) for x in [-r, r], normalised.
    double sum = 0;
    for (int i = 0; i < SSIM_TAPS; i++) {
        double x = i - SSIM_RADIUS;
        wk->wt[i] = exp(-0.5 * x * x / (SSIM_SIGMA * SSIM_SIGMA));
        sum += wk->wt[i];
    }
    for (int i = 0; i < SSIM_TAPS; i++) wk->wt[i] /= sum;
    wk->buf = xmalloc(sizeof(double) * 5 * (size_t)max_h * (max_w - 2 * SSIM_RADIUS));
}

void ssim_work_free(SsimWork *wk) {
    free(wk->buf);
    wk->buf = NULL;
}

double metric_l1(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs((double)a[i] - (double)b[i]);
    return n ? s / n : 0;
}

double metric_mse(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        s += d * d;
    }
    return n ? s / n : 0;
}

double psnr_from_mse(double mse) {
    if (!(mse >= 1e-10)) return mse >= 0 ? PSNR_MAX_DB : NAN;   // 0 -> cap; NaN stays NaN
    double p = 10.0 * log10(1.0 / mse);
    return p > PSNR_MAX_DB ? PSNR_MAX_DB : p;
}

double metric_psnr(const float *a, const float *b, size_t n) { return psnr_from_mse(metric_mse(a, b, n)); }

double metric_ssim_plane(const float *a, int stride_a, const float *b, int stride_b, int h,
                         int w, SsimWork *wk) {
    CHECK(h >= SSIM_MIN_SIDE && w >= SSIM_MIN_SIDE, "ssim needs images >= 11x11, got %dx%d", h, w);
    CHECK(h <= wk->max_h && w <= wk->max_w, "ssim %dx%d exceeds workspace %dx%d", h, w, wk->max_h,
          wk->max_w);
    const int R = SSIM_RADIUS, ow = w - 2 * R, oh = h - 2 * R;
    const double *wt = wk->wt;
    const size_t plane = (size_t)h * ow;
    double *ha = wk->buf, *hb = ha + plane, *haa = hb + plane, *hbb = haa + plane, *hab = hbb + plane;
    // horizontal pass: every row, kept columns only. Five accumulators per output value in
    // registers (measured ~1.8x faster than x-innermost vectorised loops over row buffers).
    for (int y = 0; y < h; y++) {
        const float *ra = a + (size_t)y * stride_a, *rb = b + (size_t)y * stride_b;
        size_t o = (size_t)y * ow;
        for (int x = 0; x < ow; x++) {
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
            for (int k = 0; k < SSIM_TAPS; k++) {
                double va = ra[x + k], vb = rb[x + k], g = wt[k];
                sa += g * va;
                sb += g * vb;
                saa += g * (va * va);
                sbb += g * (vb * vb);
                sab += g * (va * vb);
            }
            ha[o + x] = sa; hb[o + x] = sb; haa[o + x] = saa; hbb[o + x] = sbb; hab[o + x] = sab;
        }
    }
    // vertical pass on kept rows, then the SSIM map, summed
    double total = 0;
    for (int y = 0; y < oh; y++) {
        double row_sum = 0;
        for (int x = 0; x < ow; x++) {
            double ux = 0, uy = 0, uxx = 0, uyy = 0, uxy = 0;
            for (int k = 0; k < SSIM_TAPS; k++) {
                size_t o = (size_t)(y + k) * ow + x;
                double g = wt[k];
                ux += g * ha[o];
                uy += g * hb[o];
                uxx += g * haa[o];
                uyy += g * hbb[o];
                uxy += g * hab[o];
            }
            double vx = uxx - ux * ux, vy = uyy - uy * uy, vxy = uxy - ux * uy;
            double a1 = 2 * ux * uy + SSIM_C1, a2 = 2 * vxy + SSIM_C2;
            double b1 = ux * ux + uy * uy + SSIM_C1, b2 = vx + vy + SSIM_C2;
            row_sum += (a1 * a2) / (b1 * b2);
        }
        total += row_sum;
    }
    return total / ((double)oh * ow);
}

double metric_ssim(const float *a, const float *b, int c, int h, int w, SsimWork *wk) {
    double s = 0;
    size_t hw = (size_t)h * w;
    for (int k = 0; k < c; k++) s += metric_ssim_plane(a + k * hw, w, b + k * hw, w, h, w, wk);
    return s / c;
}

Metrics metrics_image(const float *a, const float *b, int c, int h, int w, SsimWork *wk) {
    size_t n = (size_t)c * h * w;
    Metrics m;
    m.l1 = metric_l1(a, b, n);
    m.mse = metric_mse(a, b, n);
    m.psnr = psnr_from_mse(m.mse);
    m.ssim = metric_ssim(a, b, c, h, w, wk);
    return m;
}

void metrics_batch(const float *a, const float *b, int n, int c, int h, int w, Metrics *out) {
    size_t sz = (size_t)c * h * w;
#ifdef _OPENMP
#pragma omp parallel if (n > 1)
#endif
    {
        SsimWork wk;
        ssim_work_init(&wk, h, w);
#ifdef _OPENMP
#pragma omp for schedule(static)
#endif
        for (int i = 0; i < n; i++) out[i] = metrics_image(a + i * sz, b + i * sz, c, h, w, &wk);
        ssim_work_free(&wk);
    }
}
