/*
 * tetris_player.h - a seeded bot that plays the built-in Tetris (data/tetris.h) like a
 * person, to record training data.
 *
 * On each new piece it scores every reachable placement (rotation x column, dropped
 * straight down) with a board heuristic (aggregate height, holes, bumpiness, lines
 * cleared), picks the best one or, with its per-episode mistake rate, a random one; then
 * it steers the piece there with A/B and LEFT/RIGHT (tapping or holding), sometimes soft
 * drops, adds random button noise, sometimes pauses, and presses START at the title (after
 * choosing a start level, 0-9 or with A held 10-19) and after game over. Its skill
 * (mistakes, noise, reaction time) is drawn per player, so some episodes end in game over.
 *
 *   tetris_player_init(p, seed)        draws the skill and the start level
 *   tetris_player_act(p, t)            buttons to hold for the next step (closed loop: it
 *                                      looks at the game each call, whatever the frame skip)
 *   tetris_best_placement(...)         the heuristic search, exposed for tests
 */
#ifndef NEMU_TETRIS_PLAYER_H
#define NEMU_TETRIS_PLAYER_H

#include <stdint.h>
#include "data/tetris.h"
#include "base/rng.h"

typedef struct {
    Rng rng;
    // skill, fixed per player
    float mistake;       // probability of choosing a random placement instead of the best
    float noise;         // per-step probability of flipping one random button
    float soft_drop;     // probability of soft dropping a piece once it is in place
    float tap;           // probability of tapping (rather than holding) LEFT/RIGHT
    float pause_rate;    // per-step probability of pausing during play
    int react;           // steps of hesitation after a piece appears
    int start_level;     // level chosen at the title (>= 10: START with A held)
    // plan for the current piece
    int seen_pieces;     // pieces spawned when the plan was made
    int target_x, target_rot, drop, tapping, wait;
    int pause_left;      // steps left in a pause
    int menu_wait;       // steps to idle at the title / game-over screen
    uint8_t prev;        // buttons returned last step
} TetrisPlayer;

void tetris_player_init(TetrisPlayer *p, uint64_t seed);
uint8_t tetris_player_act(TetrisPlayer *p, const Tetris *t);

// Heuristic value of the board after dropping piece/rot at column x from row y0, or
// -1e30 if it does not fit there. *lines gets the lines it clears (may be NULL).
double tetris_placement_value(const uint8_t board[TETRIS_ROWS][TETRIS_COLS], int piece, int rot,
                              int x, int y0, int *lines);
// Best placement of piece from row y0; returns its value, fills *x and *rot.
double tetris_best_placement(const uint8_t board[TETRIS_ROWS][TETRIS_COLS], int piece, int y0,
                             int *x, int *rot);

#endif
