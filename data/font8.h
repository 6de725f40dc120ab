/*
 * font8.h - a bold 8x8 bitmap font (digits, A-Z, '-', '.', ':', '(', ')', '!', '/', space)
 * for text in rendered game frames and result pictures.
 *
 *   font8_glyph(ch)            7 rows of 7 bits (bit 6 = leftmost pixel), or NULL if unknown
 *   font8_draw(img, W, H, C, x, y, text, rgb, advance)
 *                              draws text with its top-left at (x, y) into an HWC uint8 image
 *                              (C = 1 uses the colour's luma), clipped to the image; each
 *                              glyph occupies an 8x8 cell, `advance` pixels apart (8 normal).
 */
#ifndef NEMU_FONT8_H
#define NEMU_FONT8_H

#include <stdint.h>

const uint8_t *font8_glyph(char ch);
void font8_draw(uint8_t *img, int W, int H, int C, int x, int y, const char *text,
                const uint8_t rgb[3], int advance);

#endif
