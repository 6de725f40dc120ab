/*
 * metrics.h - image similarity metrics on float images in [0,1], planar [C, H, W]
 * (C = 1 or 3, as the models output them). All sums are done in double.
 *
 *   metric_l1    mean |a - b| over all C*H*W values
 *   metric_mse   mean (a - b)^2
 *   metric_psnr  10 log10(1 / mse) (data range 1), capped at PSNR_MAX_DB: identical images
 *                (mse = 0) and any mse below 1e-10 give exactly 100 dB, never Inf.
 *   metric_ssim  SSIM of Wang et al. 2004 exactly as scikit-image 0.19's
 *                structural_similarity(gaussian_weights=True, sigma=1.5,
 *                use_sample_covariance=False, data_range=1): Gaussian window of 11 taps
 *                (truncate 3.5, radius 5), C1 = 0.01^2, C2 = 0.03^2, population
 *                covariance, mean of the SSIM map after cropping 5 pixels from each
 *                border; RGB = mean over channels. H and W must be >= 11 (as in skimage).
 *                Because the crop equals the filter radius, every kept map value only
 *                sees pixels inside the image, so scipy's 'reflect' border never matters
 *                and the filter is a 'valid' separable correlation.
 * SSIM needs a workspace (no allocation per call): SsimWork, sized for the largest H, W.
 * A workspace serves one thread at a time.
 */
#ifndef NEMU_METRICS_H
#define NEMU_METRICS_H

#include <stddef.h>

#define PSNR_MAX_DB 100.0
#define SSIM_RADIUS 5
#define SSIM_TAPS (2 * SSIM_RADIUS + 1)
#define SSIM_MIN_SIDE SSIM_TAPS

typedef struct {
    int max_h, max_w;
    double wt[SSIM_TAPS];   // normalised Gaussian weights, sigma 1.5
    double *buf;            // 5 horizontally filtered maps of max_h x (max_w - 10)
} SsimWork;

typedef struct { double l1, mse, psnr, ssim; } Metrics;

void ssim_work_init(SsimWork *wk, int max_h, int max_w);   // max_h, max_w >= 11
void ssim_work_free(SsimWork *wk);

// a, b: [c, h, w]
double metric_l1(const float *a, const float *b, size_t n);
double metric_mse(const float *a, const float *b, size_t n);
double psnr_from_mse(double mse);
double metric_psnr(const float *a, const float *b, size_t n);
double metric_ssim(const float *a, const float *b, int c, int h, int w, SsimWork *wk);
// One channel, h x w, with row strides in floats (so crops of larger images work too).
double metric_ssim_plane(const float *a, int stride_a, const float *b, int stride_b, int h,
                         int w, SsimWork *wk);

// All four metrics of one pair [c, h, w].
Metrics metrics_image(const float *a, const float *b, int c, int h, int w, SsimWork *wk);
// n pairs a[i], b[i], each [c, h, w] (so a, b: [n, c, h, w]); out[n]. Parallel over images
// with OpenMP when built with it (one workspace per thread); results do not depend on the
// thread count.
void metrics_batch(const float *a, const float *b, int n, int c, int h, int w, Metrics *out);

#endif
