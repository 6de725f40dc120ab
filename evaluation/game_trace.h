/*
 * game_trace.h - the built-in game's own knowledge for ./eval's game-aware measures: where
 * the falling piece is in every evaluated frame, and the engine itself to play a start
 * state forward with chosen buttons.
 *
 * Files recorded by `gen tetris` carry each episode's replay seeds (data/tetris_replay.h).
 * game_trace_build() re-simulates the listed episodes with the recorded actions and checks
 * that every re-simulated frame, after the run's preprocessing, equals the stored frame
 * byte for byte. Only then is the trace available; otherwise (a real recording, another
 * game, a file recorded before the seeds were stored, an engine that changed since) it is
 * not, with one line saying why, and ./eval reports the game-aware measures as unavailable.
 *
 *   GameTrace g;
 *   game_trace_build(&g, &ds, episodes, n);          // never fails hard: g.available, g.reason
 *   const Tetris *s = game_trace_state(&g, e, t);    // state of frame t of episode e
 *   game_trace_render(&g, s, 0, frame);              // the frame as the model sees it
 *
 * Geometry (source pixels of the 256x240 frame -> pixels of the preprocessed H x W frame):
 * a preprocessed pixel (x, y) belongs to a source region when its centre
 * ((x + 0.5) * 256 / W, (y + 0.5) * 240 / H) lies inside it.
 */
#ifndef NEMU_GAME_TRACE_H
#define NEMU_GAME_TRACE_H

#include <stdint.h>
#include "data/dataset.h"
#include "data/preprocess.h"
#include "data/tetris.h"

typedef struct {
    int available;
    char reason[1400];       // why not available ("" when available)
    const Dataset *d;
    int K;                   // frame skip of the file
    Tetris **states;         // [d->n_episodes]: [frames of e] for listed episodes, else NULL
    Preprocessor pp;
    uint8_t *rgb, *u8, *scratch;   // render buffers
} GameTrace;

void game_trace_build(GameTrace *g, const Dataset *d, const int *episodes, int n);
// The same with the replay seeds (and frame_skip) read from another file holding the same
// episodes (e.g. a re-recording with the seeds of a file recorded before they were stored);
// every frame is still checked against d's.
void game_trace_build_from(GameTrace *g, const Dataset *d, const int *episodes, int n, const char *seeds_path);
void game_trace_free(GameTrace *g);
// State of frame t of episode e, or NULL (not available, episode not listed, t out of range).
const Tetris *game_trace_state(const GameTrace *g, int e, int64_t t);
// s rendered and preprocessed as the dataset's frames: out [C,H,W] floats in [0,1].
// hide_piece: without the falling piece (the same frame as if the piece were not there).
void game_trace_render(GameTrace *g, const Tetris *s, int hide_piece, float *out);

// ---- geometry on the preprocessed H x W frame (from a 256x240 source)
// 1 when a piece is falling and visible: playing, not paused, phase FALL, every cell in the well.
int tetris_piece_in_air(const Tetris *s);
// mask [H*W] = 1 on the pixels inside the falling piece's four cells; returns their count.
int tetris_piece_mask(const Tetris *s, int H, int W, uint8_t *mask);
// mask [H*W] = 1 inside the 10x20 well; returns the count.
int tetris_well_mask(int H, int W, uint8_t *mask);
// Width and height of one well cell in preprocessed pixels.
void tetris_cell_size(int H, int W, double *cw, double *ch);

#endif
