/*
 * gif.h - animated GIF writing (Debian's giflib), frames grey (C=1) or RGB (C=3), pixels HWC.
 *
 *   GifWriter *g = gif_open("play.gif", w, h, c, delay_cs, &err);
 *   gif_add(g, px, &err) ... ;  gif_close(g, &err);      // or gif_abort(g)
 *
 * Grey frames use one global 256-grey palette (exact). RGB frames are quantised per frame
 * to a local 256-colour palette (giflib's median cut). The file loops forever; every frame
 * shows delay_cs hundredths of a second. It is written as "<path>.part" and renamed into
 * place by gif_close, so a failed or aborted run leaves no partial file.
 * Errors: one line in Err naming the file, return -1 (NULL from gif_open).
 */
#ifndef NEMU_GIF_H
#define NEMU_GIF_H

#include <stdint.h>
#include "base/err.h"

typedef struct GifWriter GifWriter;

GifWriter *gif_open(const char *path, int w, int h, int c, int delay_cs, Err *err);
int gif_add(GifWriter *g, const uint8_t *px, Err *err);   // px [h, w, c]
int gif_close(GifWriter *g, Err *err);                     // frees g, also on failure
void gif_abort(GifWriter *g);                              // removes the .part file, frees g

#endif
