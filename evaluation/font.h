/*
 * font.h - a 5x7 bitmap font (HD44780-style) for labels in pictures and plots: printable
 * ASCII 32..126, each glyph 8 rows of 5 bits (bit 4 = leftmost column); rows 0-6 sit on
 * the baseline, row 7 holds descenders (g j p q y). Characters outside the range draw '?'.
 * Advance: FONT_ADVANCE pixels per character, line height FONT_LINE, at scale 1.
 */
#ifndef NEMU_FONT_H
#define NEMU_FONT_H

#include <stdint.h>

#define FONT_W 5
#define FONT_H 8          // glyph rows including the descender row
#define FONT_ADVANCE 6    // FONT_W + 1 column of spacing
#define FONT_LINE 10      // FONT_H + 2 rows of spacing

// The 8 row masks of character ch (bit 4 = leftmost pixel).
const uint8_t *font_glyph(int ch);
// Width in pixels of s drawn at scale (no trailing spacing column); 0 for "".
int font_text_width(const char *s, int scale);

#endif
