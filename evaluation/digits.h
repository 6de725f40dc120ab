/*
 * digits.h - digit accuracy: read the counters (score, lines, level) of a frame the way a
 * player would, by template matching against the game's own 8x8 font at the digit positions
 * its renderer uses (data/game_hud.h), and compare with what the game says the frame shows.
 *
 * Templates are made at the data's resolution: each digit 0-9 drawn in the field's ink at
 * each digit position on an otherwise black native frame and preprocessed as the data
 * (data/preprocess.h: luma or RGB, Pillow's bilinear resize), so they blur as the frames do.
 * Reading a frame: the background is the game's own frame of that state with the field's
 * digit cells blanked, preprocessed likewise (the static HUD around the digits: box edges,
 * labels); the field's pixels are modelled as background + the sum of one template per
 * position (the resize is linear up to rounding), and the digits chosen to minimise the
 * squared error over the region every template touches. Downscaled, neighbouring digits
 * blend (at 80x80 each template overlaps its neighbours'), so the minimum is found by dynamic
 * programming over the positions with the two last digits as state (exact while templates
 * overlap only up to two positions away, as at 80x80 and above), then refined by sweeps that
 * change one position at a time against the whole sum. Position by position alone misreads
 * 001896 as 003396 at 80x80, where "18" and "33" blend alike.
 *
 * A source frame reads 100% at native resolution (tests/test_digits.c); downscaled to 80x80
 * a 7x7 glyph covers about 2x2 pixels and the source frame's own score is the ceiling a
 * reconstruction can reach there.
 *
 *   DigitReader r;
 *   if (digit_reader_init(&r, game, H, W, C, &err) < 0) ...   // no digit fields, bad sizes
 *   DigitCount n = {0};
 *   digit_reader_read(&r, state, frame, &n);                   // frame [C,H,W] floats in [0,1]
 *   n.correct / n.digits
 */
#ifndef NEMU_DIGITS_H
#define NEMU_DIGITS_H

#include <stdint.h>
#include "data/game.h"
#include "data/game_hud.h"
#include "data/preprocess.h"
#include "base/err.h"

#define DIGITS_MAX_FIELDS 8
#define DIGITS_SWEEPS 4

typedef struct {
    int64_t digits, correct;   // digits compared, read right
    int64_t fields, fields_ok; // counters compared, read whole
    int64_t frames;            // frames with at least one counter on screen
} DigitCount;

typedef struct {
    const GameDef *g;
    int H, W, C;
    int n_fields;
    const HudField *fields;
    int r0[DIGITS_MAX_FIELDS], c0[DIGITS_MAX_FIELDS], rh[DIGITS_MAX_FIELDS], rw[DIGITS_MAX_FIELDS];
    float *tmpl[DIGITS_MAX_FIELDS];   // [digits][10][C, rh, rw]
    double *gram[DIGITS_MAX_FIELDS];  // [digits][3][10][10]: <template i digit a, template i+o digit b>, o = 0..2
    Preprocessor pp;
    uint8_t *rgb, *u8, *scratch;      // native frame, preprocessed frame, resize scratch
    float *bg, *resid;                // [C, rh, rw] of the largest region (bg: per field)
    size_t most;                      // floats of the largest region
    char want[DIGITS_MAX_FIELDS][16]; // the digits of the state set last ("" when none shown)
} DigitReader;

int digit_reader_init(DigitReader *r, const GameDef *g, int H, int W, int C, Err *err);
void digit_reader_free(DigitReader *r);
// The state the next frames show: its frame_info says the true digits, its render gives the background.
void digit_reader_state(DigitReader *r, const void *state);
// Reads every field of frame [C,H,W] (of the state set last) into n; read (may be NULL) gets the
// digits read, field after field, each NUL-terminated in 16 bytes.
void digit_reader_frame(DigitReader *r, const float *frame, DigitCount *n, char (*read)[16]);
// Both at once.
void digit_reader_read(DigitReader *r, const void *state, const float *frame, DigitCount *n, char (*read)[16]);

#endif
