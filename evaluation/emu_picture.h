/*
 * emu_picture.h - rollouts.png of ./eval: for each pictured start point three rows,
 *   true    the start frame, then the true frames at the requested steps
 *   pred    the model's own step-0 frame (decode(encode(start))), then its predictions
 *   change  the changed pixels marked over a dimmed true frame: red where the true frame
 *           differs from the start frame (emulation.h's changed pixels), green where the
 *           prediction differs from the model's step-0 frame by more than EMU_MOVE_EPS,
 *           yellow where both changed
 * and a first column "start". Always drawn in RGB.
 */
#ifndef NEMU_EMU_PICTURE_H
#define NEMU_EMU_PICTURE_H

#include "base/err.h"

// start, pred0: [n][c,h,w]; truth, pred: [n][n_steps][c,h,w].
int picture_rollouts_marked(const char *path, const float *start, const float *pred0, const float *truth,
                            const float *pred, int n, int n_steps, const int *steps, int c, int h, int w,
                            Err *err);
// The change map of one frame pair into out [3,h,w] (exposed for tests).
void change_map(const float *start, const float *truth, const float *pred0, const float *pred, int c, int h,
                int w, float *out);

#endif
