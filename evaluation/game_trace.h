/*
 * game_trace.h - a built-in game's own knowledge for ./eval's game-aware measures: the game's
 * state at every evaluated frame, and the game itself (its GameDef, data/game.h) to render a
 * state or play it forward with chosen buttons.
 *
 * Files recorded by `gen <game>` name their game (root attribute game) and carry each
 * episode's replay attributes (GameDef.attr_names; for Tetris data/tetris_replay.h).
 * game_trace_build() finds the game with game_find, re-simulates the listed episodes with
 * the recorded actions (GameDef replay + step) and checks that every re-simulated frame,
 * after the run's preprocessing, equals the stored frame byte for byte. Only then is the
 * trace available; otherwise (a real recording, a game that is not built in, a file recorded
 * before the seeds were stored, an engine that changed since) it is not, with one line
 * saying why, and ./eval reports the game-aware measures as unavailable. A next game plugs
 * in through its GameDef alone.
 *
 *   GameTrace g;
 *   game_trace_build(&g, &ds, episodes, n);          // never fails hard: g.available, g.reason
 *   const void *s = game_trace_state(&g, e, t);      // the game's state at frame t of episode e
 *   game_trace_render(&g, s, 0, frame);              // the frame as the model sees it
 */
#ifndef NEMU_GAME_TRACE_H
#define NEMU_GAME_TRACE_H

#include <stdint.h>
#include "data/dataset.h"
#include "data/preprocess.h"
#include "data/game.h"

typedef struct {
    int available;
    char reason[1400];       // why not available ("" when available)
    const Dataset *d;
    const GameDef *game;     // the file's game (NULL when there is none)
    int K;                   // frame skip of the file
    uint8_t **states;        // [d->n_episodes]: [frames of e][game->state_size] for listed episodes, else NULL
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
const void *game_trace_state(const GameTrace *g, int e, int64_t t);
// State s (game->state_size bytes) rendered and preprocessed as the dataset's frames: out
// [C,H,W] floats in [0,1]. hide_piece: without the moving piece (GameDef.render_hidden).
void game_trace_render(GameTrace *g, const void *s, int hide_piece, float *out);

#endif
