/*
 * png.h - 8-bit PNG read and write (libpng), grey (C=1) or RGB (C=3), pixels HWC.
 * png_write writes "<path>.tmp" and renames it into place.
 */
#ifndef NEMU_PNG_H
#define NEMU_PNG_H

#include <stdint.h>
#include "nn/util.h"

typedef struct { int w, h, c; uint8_t *px; } Image;   // px [h, w, c], c = 1 or 3

int png_write(const char *path, const uint8_t *px, int w, int h, int c, Err *err);
// Reads any PNG (palette, 16-bit, alpha are converted): grey stays C=1, else C=3.
int png_read(const char *path, Image *img, Err *err);
void image_free(Image *img);

#endif
