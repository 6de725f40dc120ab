/*
 * preprocess.h - frame preprocessing that reproduces gymemu's Pillow pipeline bit for bit:
 * Image.fromarray(frame).convert("L") (ITU-R 601-2 luma, Pillow's fixed point), then
 * .resize((W, H), Image.BILINEAR) (Pillow's two-pass resampler: a triangle filter whose
 * support is scaled by the downscale factor, 22-bit fixed-point coefficients, horizontal
 * pass then vertical, each rounded to uint8). Grey first, then resize, as gymemu does.
 * RGB frames resize each channel the same way. Output stays uint8, planar [C,H,W];
 * scaling to [0,1] happens per batch (dataset.h).
 */
#ifndef NEMU_PREPROCESS_H
#define NEMU_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>
#include "base/err.h"

typedef struct {
    int height, width;   // target H x W (default 80 x 80)
    int channels;        // 1 = grey (luma), 3 = RGB
} Preprocess;

// Pillow "L": (19595 R + 38470 G + 7471 B + 0x8000) >> 16.   rgb [n,3] -> out [n]
void rgb_to_luma(const uint8_t *rgb, uint8_t *out, size_t n);

// Pillow BILINEAR coefficients for one axis: in -> out samples.
typedef struct {
    int in, out, ksize;
    int *bounds;     // [out, 2]: first input index, count
    int32_t *k;      // [out, ksize] fixed-point weights (22 fractional bits)
} ResizeAxis;

// Resampler for frames [in_h, in_w, C] -> [out_h, out_w, C] (HWC, any C >= 1).
typedef struct {
    int in_h, in_w, out_h, out_w, C;
    ResizeAxis x, y;
} Resizer;

void resizer_init(Resizer *r, int in_h, int in_w, int out_h, int out_w, int C);
void resizer_free(Resizer *r);
size_t resizer_scratch_bytes(const Resizer *r);   // bytes of tmp resizer_run needs
// in [in_h,in_w,C] -> out [out_h,out_w,C]; tmp of resizer_scratch_bytes() bytes.
void resizer_run(const Resizer *r, const uint8_t *in, uint8_t *out, uint8_t *tmp);

// Whole pipeline for one source frame shape.
typedef struct {
    int src_h, src_w, src_c;   // frames as stored (HWC)
    Preprocess p;
    Resizer rs;                // on the converted (grey or RGB) frame
} Preprocessor;

// Checks p against the source (sizes 1..4096; a grey source cannot become RGB).
int preprocessor_init(Preprocessor *pp, int src_h, int src_w, int src_c, const Preprocess *p, Err *err);
void preprocessor_free(Preprocessor *pp);
size_t preprocessor_scratch_bytes(const Preprocessor *pp);
// in [src_h,src_w,src_c] (HWC) -> out [C,H,W] planar uint8; scratch of the size above.
void preprocess_frame(const Preprocessor *pp, const uint8_t *in, uint8_t *out, uint8_t *scratch);

#endif
