/*
 * preprocess.c - Pillow-exact luma and BILINEAR resize (see preprocess.h).
 * The resampler follows the algorithm of Pillow's libImaging/Resample.c (9.x): per output
 * sample, center = (i + 0.5) * scale, support = max(scale, 1), taps from
 * (int)(center - support + 0.5) to (int)(center + support + 0.5) clipped to the input,
 * weights tri((j - center + 0.5) / max(scale,1)) normalised to sum 1, then rounded to
 * 22-bit fixed point; each pass accumulates from 1 << 21 and clips (acc >> 22) to 0..255.
 */
#include "data/preprocess.h"
#include "base/err.h"
#include "base/alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PRECISION_BITS (32 - 8 - 2)

void rgb_to_luma(const uint8_t *rgb, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t v = rgb[3 * i] * 19595u + rgb[3 * i + 1] * 38470u + rgb[3 * i + 2] * 7471u + 0x8000u;
        out[i] = (uint8_t)(v >> 16);
    }
}

static double tri(double x) {
    if (x < 0) x = -x;
    return x < 1.0 ? 1.0 - x : 0.0;
}

static void axis_init(ResizeAxis *a, int in, int out) {
    double scale = (double)in / out, fscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * fscale;
    a->in = in, a->out = out;
    a->ksize = (int)ceil(support) * 2 + 1;
    a->bounds = xmalloc((size_t)out * 2 * sizeof(int));
    a->k = xcalloc((size_t)out * a->ksize, sizeof(int32_t));
    double *w = xmalloc((size_t)a->ksize * sizeof(double));
    for (int i = 0; i < out; i++) {
        double center = (i + 0.5) * scale, ss = 1.0 / fscale, sum = 0;
        int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        int n = hi - lo;
        CHECK(n >= 1 && n <= a->ksize, "resize taps %d of %d", n, a->ksize);
        for (int j = 0; j < n; j++) sum += (w[j] = tri((j + lo - center + 0.5) * ss));
        for (int j = 0; j < n; j++) {
            double v = sum != 0.0 ? w[j] / sum : w[j];
            a->k[(size_t)i * a->ksize + j] = (int32_t)(v < 0 ? -0.5 + v * (1 << PRECISION_BITS) : 0.5 + v * (1 << PRECISION_BITS));
        }
        a->bounds[2 * i] = lo;
        a->bounds[2 * i + 1] = n;
    }
    free(w);
}

static void axis_free(ResizeAxis *a) {
    free(a->bounds);
    free(a->k);
    memset(a, 0, sizeof *a);
}

static inline uint8_t clip8(int32_t acc) {
    if (acc >= (1 << PRECISION_BITS << 8)) return 255;
    if (acc <= 0) return 0;
    return (uint8_t)(acc >> PRECISION_BITS);
}

void resizer_init(Resizer *r, int in_h, int in_w, int out_h, int out_w, int C) {
    CHECK(in_h > 0 && in_w > 0 && out_h > 0 && out_w > 0 && C > 0, "resize %dx%d -> %dx%d", in_h, in_w, out_h, out_w);
    r->in_h = in_h, r->in_w = in_w, r->out_h = out_h, r->out_w = out_w, r->C = C;
    axis_init(&r->x, in_w, out_w);
    axis_init(&r->y, in_h, out_h);
}

void resizer_free(Resizer *r) {
    axis_free(&r->x);
    axis_free(&r->y);
}

size_t resizer_scratch_bytes(const Resizer *r) { return (size_t)r->in_h * r->out_w * r->C; }

void resizer_run(const Resizer *r, const uint8_t *in, uint8_t *out, uint8_t *tmp) {
    const int C = r->C, iw = r->in_w, ow = r->out_w, oh = r->out_h;
    // Pillow skips a pass whose size does not change; the identity pass would give the same bytes.
    const uint8_t *mid = in;
    if (iw != ow) {
        for (int y = 0; y < r->in_h; y++) {
            const uint8_t *row = in + (size_t)y * iw * C;
            uint8_t *o = tmp + (size_t)y * ow * C;
            if (C == 1) {   // the common grey case, kept separate so the compiler sees unit stride
                for (int x = 0; x < ow; x++) {
                    int lo = r->x.bounds[2 * x], n = r->x.bounds[2 * x + 1];
                    const int32_t *k = r->x.k + (size_t)x * r->x.ksize;
                    int32_t acc = 1 << (PRECISION_BITS - 1);
                    for (int j = 0; j < n; j++) acc += row[lo + j] * k[j];
                    o[x] = clip8(acc);
                }
                continue;
            }
            for (int x = 0; x < ow; x++) {
                int lo = r->x.bounds[2 * x], n = r->x.bounds[2 * x + 1];
                const int32_t *k = r->x.k + (size_t)x * r->x.ksize;
                for (int c = 0; c < C; c++) {
                    int32_t acc = 1 << (PRECISION_BITS - 1);
                    for (int j = 0; j < n; j++) acc += row[(lo + j) * C + c] * k[j];
                    o[x * C + c] = clip8(acc);
                }
            }
        }
        mid = tmp;
    }
    if (r->in_h == oh) {
        if (mid != out) memcpy(out, mid, (size_t)oh * ow * C);
        return;
    }
    const size_t stride = (size_t)ow * C;
    for (int y = 0; y < oh; y++) {
        int lo = r->y.bounds[2 * y], n = r->y.bounds[2 * y + 1];
        const int32_t *k = r->y.k + (size_t)y * r->y.ksize;
        uint8_t *o = out + (size_t)y * stride;
        // Blocks of 64 columns with the taps outermost: contiguous, vectorisable rows.
        for (size_t i0 = 0; i0 < stride; i0 += 64) {
            const int m = stride - i0 < 64 ? (int)(stride - i0) : 64;
            int32_t acc[64];
            for (int i = 0; i < m; i++) acc[i] = 1 << (PRECISION_BITS - 1);
            for (int j = 0; j < n; j++) {
                const uint8_t *src = mid + (size_t)(lo + j) * stride + i0;
                const int32_t kj = k[j];
                for (int i = 0; i < m; i++) acc[i] += src[i] * kj;
            }
            for (int i = 0; i < m; i++) o[i0 + i] = clip8(acc[i]);
        }
    }
}

int preprocessor_init(Preprocessor *pp, int src_h, int src_w, int src_c, const Preprocess *p, Err *err) {
    memset(pp, 0, sizeof *pp);
    if (p->height < 1 || p->height > 4096 || p->width < 1 || p->width > 4096)
        return err_set(err, "preprocess: expected 1 <= height, width <= 4096, found %d x %d", p->height, p->width);
    if (p->channels != 1 && p->channels != 3)
        return err_set(err, "preprocess: expected channels = 1 (grey) or 3 (RGB), found %d", p->channels);
    if (src_c != 1 && src_c != 3)
        return err_set(err, "preprocess: expected source frames with 1 or 3 channels, found %d", src_c);
    if (src_c == 1 && p->channels == 3)
        return err_set(err, "preprocess: channels = 3 (RGB) requested but the frames are grey (C = 1)");
    pp->src_h = src_h, pp->src_w = src_w, pp->src_c = src_c;
    pp->p = *p;
    resizer_init(&pp->rs, src_h, src_w, p->height, p->width, p->channels);
    return 0;
}

void preprocessor_free(Preprocessor *pp) { resizer_free(&pp->rs); }

size_t preprocessor_scratch_bytes(const Preprocessor *pp) {
    size_t conv = (size_t)pp->src_h * pp->src_w * pp->p.channels;       // grey frame
    size_t hwc = (size_t)pp->p.height * pp->p.width * pp->p.channels;    // resized, before planar
    return conv + resizer_scratch_bytes(&pp->rs) + hwc;
}

void preprocess_frame(const Preprocessor *pp, const uint8_t *in, uint8_t *out, uint8_t *scratch) {
    const int C = pp->p.channels, H = pp->p.height, W = pp->p.width;
    uint8_t *conv = scratch;
    uint8_t *tmp = conv + (size_t)pp->src_h * pp->src_w * C;
    uint8_t *hwc = tmp + resizer_scratch_bytes(&pp->rs);
    const uint8_t *src = in;
    if (pp->src_c == 3 && C == 1) {
        rgb_to_luma(in, conv, (size_t)pp->src_h * pp->src_w);
        src = conv;
    }
    if (C == 1) {   // HWC == planar
        resizer_run(&pp->rs, src, out, tmp);
        return;
    }
    resizer_run(&pp->rs, src, hwc, tmp);
    const size_t plane = (size_t)H * W;
    for (size_t i = 0; i < plane; i++)
        for (int c = 0; c < C; c++) out[c * plane + i] = hwc[i * C + c];
}
