/*
 * emulation.h - per-frame measures of emulation (not only of frame similarity), on planar
 * float frames [C, H, W] in [0,1]. Pure functions, no allocation; used by ./eval
 * (evaluation/emulation_eval.h) and reusable by any model or tool.
 *
 *   changed-pixel L1   emu_changed_l1: L1 over only the pixels where frame t+k differs from
 *                      start frame t (a pixel = all C channels; changed when any channel
 *                      differs by more than EMU_CHANGE_EPS, i.e. at all for uint8 frames).
 *                      The copy baseline cannot get these right. NaN when nothing changed.
 *   liveliness         emu_l1 of consecutive frames, averaged along a rollout by the caller.
 *   piece measure      emu_piece_score: L1 inside the falling piece's cells (a mask from the
 *                      game, evaluation/game_trace.h) between an image and the true frame,
 *                      and whether the piece is drawn: the image is closer to the true frame
 *                      than half the contrast the piece makes there, i.e.
 *                          L1(img, truth | piece) < 0.5 * L1(no_piece, truth | piece)
 *                      where no_piece is the true frame rendered without the falling piece.
 *                      Not measurable (drawn = -1) when that contrast is below
 *                      EMU_PIECE_MIN_CONTRAST (a piece the preprocessing made invisible).
 *   change motion      emu_change_motion: where a frame brightened against an earlier one
 *                      (summed change over channels > EMU_MOVE_EPS: something arrived) and
 *                      where it darkened (< -EMU_MOVE_EPS: something left), inside a region;
 *                      the motion is centroid(arrived) - centroid(left), each weighted by
 *                      |change|. On a dark background (the built-in game's well is black) a
 *                      piece that moves n cells gives a motion of about n cells whatever its
 *                      shape. emu_direction_ok: LEFT dx <= -EMU_MOVE_CELLS cells, RIGHT
 *                      dx >= +EMU_MOVE_CELLS, DOWN dy >= +EMU_MOVE_CELLS with |dx| < that.
 *   composing          emu_compose: how an emulator draws a predicted frame when
 *                      dynamics.compose = tau > 0. A pixel whose prediction differs from the
 *                      decoded start frame d0 = decode(encode(x0)) by no more than tau (in every
 *                      channel) keeps the real start frame's value x0; the others are the
 *                      decoder's. What the model does not change stays as sharp as the start
 *                      frame (the autoencoder's blur of a static board is not drawn), and
 *                      only what it moves is repainted.
 */
#ifndef NEMU_EMULATION_H
#define NEMU_EMULATION_H

#include <stdint.h>

#define EMU_CHANGE_EPS (0.5 / 255.0)   // a pixel changed: some channel differs by more than this
#define EMU_PIECE_MIN_CONTRAST 0.02    // piece measurable: L1(no_piece, truth | piece) >= this
#define EMU_PIECE_DRAWN_FRACTION 0.5   // drawn: L1(img, truth | piece) < this x contrast
#define EMU_MOVE_EPS 0.05              // change-motion pixels: |summed change over channels| > this
#define EMU_MOVE_CELLS 0.5             // direction test: the motion is at least this many cells
#define EMU_OBJECT_EPS 0.15            // emu_object_centroid: |summed difference over channels| > this

// mean |a - b| over all c*h*w values
double emu_l1(const float *a, const float *b, int c, int h, int w);
// L1 over the pixels where truth differs from start; NaN when none differs. *n_changed
// (may be NULL) gets the number of changed pixels.
double emu_changed_l1(const float *img, const float *truth, const float *start, int c, int h, int w,
                      int *n_changed);
// pred [c,h,w] in place: keeps x0's pixel where max over channels |pred - d0| <= tau.
void emu_compose(float *pred, const float *x0, const float *d0, int c, int h, int w, float tau);
// L1 over the pixels with mask[y*w+x] != 0 (all channels); NaN when the mask is empty.
double emu_masked_l1(const float *a, const float *b, const uint8_t *mask, int c, int h, int w);

typedef struct {
    double l1;        // L1(img, truth | piece); NaN when not measurable
    double contrast;  // L1(no_piece, truth | piece)
    int drawn;        // 1 drawn, 0 not drawn, -1 not measurable
} PieceScore;
PieceScore emu_piece_score(const float *img, const float *truth, const float *no_piece, const uint8_t *mask,
                           int c, int h, int w);

// Motion (*dx, *dy, pixels) from frame `before` to frame `after` inside region (NULL = all):
// centroid of the arrived pixels minus centroid of the left pixels. Returns the smaller of
// the two pixel counts (0: nothing arrived or nothing left; *dx, *dy set to 0).
int emu_change_motion(const float *after, const float *before, const uint8_t *region, int c, int h, int w,
                      double *dx, double *dy);

// Where an object is on a frame against the same frame without it (bg): the centroid of the
// pixels of region whose summed absolute difference over channels exceeds EMU_OBJECT_EPS,
// each weighted by that difference; returns their count (0: *x, *y = 0).
int emu_object_centroid(const float *frame, const float *bg, const uint8_t *region, int c, int h, int w, double *x,
                        double *y);

typedef enum { EMU_LEFT, EMU_RIGHT, EMU_DOWN, EMU_DIRECTIONS } EmuDirection;
const char *emu_direction_name(EmuDirection d);   // "left", "right", "down"
// 1 when a motion (dx, dy) goes in direction d by at least EMU_MOVE_CELLS cells (DOWN: and
// less than that sideways); cw, ch: cell size in pixels. n = 0 (no motion) fails.
int emu_direction_ok(EmuDirection d, int n, double dx, double dy, double cw, double ch);

#endif
