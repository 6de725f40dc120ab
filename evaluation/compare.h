/*
 * compare.h - `./eval --compare A.png B.png`: L1, SSIM and PSNR of two PNG files.
 * Both grey -> compared as grey (C=1); otherwise both as RGB (a grey file's plane repeated).
 * Pixels are scaled to [0,1] (value/255) and the metrics are those of evaluation/metrics.h.
 */
#ifndef NEMU_COMPARE_H
#define NEMU_COMPARE_H

#include <stdio.h>
#include "evaluation/metrics.h"
#include "base/err.h"

typedef struct { int w, h, c; Metrics m; } CompareResult;

// Reads both files and computes the metrics. Errors (unreadable file, not a PNG, sizes that
// differ, images below 11x11, which SSIM cannot handle) are one line in err; returns -1.
int compare_png_files(const char *path_a, const char *path_b, CompareResult *out, Err *err);
// Prints "A vs B: WxH grey|RGB" then lines "L1 x", "SSIM x", "PSNR x dB".
void compare_print(FILE *f, const char *path_a, const char *path_b, const CompareResult *r);

#endif
