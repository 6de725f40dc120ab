/*
 * png.h - 8-bit PNG read and write (libpng), grey (C=1) or RGB (C=3), pixels HWC.
 *
 * png_read accepts any PNG: 1/2/4/8/16-bit, grey, grey+alpha, palette, RGB, RGBA.
 * Grey (with or without alpha) stays C=1; palette, RGB and RGBA become C=3; alpha is
 * dropped (not composited); 16-bit samples keep their high byte. Width and height are
 * limited to PNG_MAX_SIDE so a hostile header cannot ask for a huge allocation.
 * png_write writes "<path>.tmp" and renames it into place (no partial file on failure).
 * Errors: one line in Err naming the file ("x.png: not a PNG file", "x.png: truncated or
 * corrupt PNG (libpng: ...)", "x.png: cannot open: No such file or directory"), return -1.
 * libpng's own stderr messages are silenced.
 */
#ifndef NEMU_PNG_H
#define NEMU_PNG_H

#include <stdint.h>
#include "base/err.h"

#define PNG_MAX_SIDE 16384

typedef struct { int w, h, c; uint8_t *px; } Image;   // px [h, w, c], c = 1 or 3

int png_write(const char *path, const uint8_t *px, int w, int h, int c, Err *err);
// Reads any PNG (palette, 16-bit, alpha are converted): grey stays C=1, else C=3.
// On failure img is left empty (px NULL) and nothing is leaked.
int png_read(const char *path, Image *img, Err *err);
void image_free(Image *img);

// img (HWC uint8) -> dst [c, h, w] floats in [0,1]. c = img->c, or 3 from a grey image
// (the grey plane repeated), or 1 from an RGB image (ITU-R 601 luma). dst holds c*h*w floats.
void image_to_planar(const Image *img, int c, float *dst);

#endif
