/*
 * game_look.h - the built-in game's own measures of how frames look, for ./eval and
 * ./eval --recon (roadmap 4.1, 4.2): digit accuracy (evaluation/digits.h), the hue error per
 * palette and colour bleeding on the falling piece (evaluation/colour.h), each frame judged
 * against the game's state it should show (evaluation/game_trace.h; only when the trace is
 * available, i.e. the data are the built-in game's, re-simulated frame for frame).
 *
 * Rows: *source* (the data's own frames: the measure's ceiling at this resolution; digits
 * 100% at native resolution), *recon* (decode(encode(frame)) of every frame of the evaluated
 * episodes), and per rollout step k *copy k* (the start frame as the guess for frame t+k) and
 * *model k* (the open-loop rollout with the recorded actions from the start points).
 *
 *   GameLook L;
 *   if (game_look_init(&L, &trace) == 0) {
 *       game_look_eval(&L, &em, &ds, eps, n_eps, sp, N, steps, n_steps);
 *       char *md = game_look_markdown(&L);    // the section for eval.md (malloc'ed)
 *   }
 *   game_look_free(&L);
 */
#ifndef NEMU_GAME_LOOK_H
#define NEMU_GAME_LOOK_H

#include <stdint.h>
#include "evaluation/colour.h"
#include "evaluation/digits.h"
#include "evaluation/emulation_eval.h"
#include "evaluation/game_trace.h"

#define LOOK_MAX_ROWS 34   // source, recon, and copy / model for up to 16 steps

typedef struct {
    char name[32];
    DigitCount dig;
    ColourAcc col;
    int64_t frames;
} LookRow;

typedef struct {
    GameTrace *gt;
    int have_digits;
    char digits_reason[600];   // why no digit accuracy, when !have_digits
    DigitReader dr;
    int C, H, W;
    float *truth, *hidden;     // [C,H,W] renders of the current state
    uint8_t *mask;             // [H*W]
    int palette;               // of the current state (-1: none)
    int n_rows;
    LookRow rows[LOOK_MAX_ROWS];
} GameLook;

// -1 (nothing to free) when the trace is not available.
int game_look_init(GameLook *L, GameTrace *gt);
void game_look_free(GameLook *L);
// The state of frame t of episode e becomes current (renders, digit background).
void game_look_state(GameLook *L, int e, int64_t t);
// Frame [C,H,W] judged against the current state into row (created by name when new).
void game_look_frame(GameLook *L, const char *row, const float *frame);
// source and recon of every frame of the listed episodes, copy and model rows at the steps.
void game_look_eval(GameLook *L, const Emulator *em, const Dataset *d, const int *eps, int n_eps,
                    const StartPoint *sp, int N, const int *steps, int n_steps);
// The Markdown section (malloc'ed).
char *game_look_markdown(const GameLook *L);
// The member "colour_digits": {...} of eval.json (malloc'ed): every row's counts, shares,
// hue errors (overall and per palette) and band / interior L1 (null where undefined); with
// unavailable != NULL (L unused) {"available": false, "reason": unavailable}.
char *game_look_json(const GameLook *L, const char *unavailable);
// json (a malloc'ed object, freed) with member appended as its last member: the new string.
char *json_add_member(char *json, const char *member);

#endif
