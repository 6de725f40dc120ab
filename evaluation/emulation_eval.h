/*
 * emulation_eval.h - ./eval's emulation measures over open-loop rollouts of any model that
 * implements the small Emulator interface (the autoencoder + dynamics pair does, through
 * emulator_ae_dyn; another model family plugs in its own four callbacks).
 *
 *   Emulator em; AeDynEmu ctx; emulator_ae_dyn(&em, &ctx, &ae, &dyn);
 *   GameTrace g; game_trace_build(&g, &ds, episodes, n);     // game knowledge, if any
 *   EmuResult r;
 *   emu_eval(&em, &ds, &g, sp, N, steps, n_steps, pic_idx, n_pic, &r);
 *   emu_direction_test(&em, &ds, &g, episodes, n, k, 20, &r);
 *
 * Per start point and requested step k (rows model, copy, recon as in rollout.h):
 *   changed[row]     changed-pixel L1 (emulation.h), NaN when frame t+k equals frame t
 *   live[row]/live_true  liveliness: mean over i = 1..k of L1(f_i, f_{i-1}) along the rollout;
 *                    model f_0 = its own frame at step 0 (decode(encode(frame t))), copy 0,
 *                    recon f_i = recon(frame t+i), true f_i = frame t+i
 *   dpsnr_other      PSNR(model, recorded actions) - PSNR(model, another episode's actions):
 *                    start point i takes the actions of the first start point from i + N/2 on
 *                    (cyclically) that lies in another episode; NaN when all lie in one
 *   dpsnr_none       the same with no button pressed
 *   piece_l1[row], piece_drawn[row]   the piece measure on frame t+k when the game trace is
 *                    available and frame t+k has a piece in the air (else NaN / -1)
 * The piece measure and the direction test are the game's (GameDef.eval, data/game.h): its
 * moving object's mask, its fair start frames, buttons and region.
 * Direction test (game trace needed): from up to n_starts real start frames the game calls
 * fair (Tetris: a piece in the air that can move one cell left, right and down, and that stays
 * in the air, no lock, no new piece, for k steps under each of LEFT held, RIGHT held and no
 * button in the engine; the runner and the eater: free to walk both ways without the camera
 * moving or a ghost in the way), the model and the engine play those k-step rollouts; a
 * rollout passes when its motion inside the game's region from its own step-0 frame to step k
 * (Tetris: emu_change_motion; else the object's centroid against the start frame without it,
 * emu_object_centroid) goes at least half a unit left / right / down (emu_direction_ok). The
 * start frames are spread evenly over all eligible ones, in episode and time order (no seed).
 * Spawn test (game trace needed; "the game goes on"): from up to n_starts real start frames
 * where the game's object is not in play (object_mask 0: Tetris' piece has locked, or the game
 * is about to drop its first) and the engine, no button held, brings a new one within k / 2
 * steps that stays in play to step k, the model and the engine play k steps with no button; a
 * rollout passes when its frame at step k draws the engine's object there (the piece measure,
 * emu_piece_score). Spread over the eligible starts as the direction test's.
 */
#ifndef NEMU_EMULATION_EVAL_H
#define NEMU_EMULATION_EVAL_H

#include "data/dataset.h"
#include "evaluation/emulation.h"
#include "evaluation/game_trace.h"
#include "evaluation/rollout.h"
#include "nn/dynamics.h"
#include "nn/model.h"

typedef struct {
    void *ctx;
    int max_B;                                                 // largest n of any call
    void (*start)(void *ctx, const float *x0, int n);          // begin n rollouts from frames [n,C,H,W]
    void (*step)(void *ctx, const float *a, int n);            // one step, actions [n,A]
    void (*draw)(void *ctx, float *out, int n);                // current frames -> [n,C,H,W]
    void (*recon)(void *ctx, const float *x, float *out, int n);   // its reconstruction of real frames
    int past;                                                  // real frames before a start it uses (0: none)
    void (*start_past)(void *ctx, const float *past, int n);   // after start: the frames before each start,
                                                               // [n][past][C,H,W], slot 0 the one before
    void (*truth)(void *ctx, const float *next, int n);        // NULL, or before a step: the true frames after
                                                               // it [n,C,H,W] (the engine's), for an emulator
                                                               // that chooses by them (./eval --hyp-oracle)
} Emulator;

// Begins n rollouts from the dataset's frames sp[0..n) (x0: those frames, [n,C,H,W]) and, when
// em->past > 0, gives it the real frames before each start (an episode's first frame repeated
// before it), as training saw them. A rollout from a frame with no past (./play) calls start only.
void emu_start(const Emulator *em, const Dataset *d, const StartPoint *sp, const float *x0, int n);

typedef struct {
    AE *ae;
    DynModel *dyn;     // a vae samples at dyn->temperature, drawing eps from dyn->rng
    ClosedLoop loop;   // how the rollouts step and draw (closed_loop.h; all 0, off, after emulator_ae_dyn)
    long kept, cells;  // deadband: cells kept and cells stepped since emulator_ae_dyn (the caller may zero them)
    long t;            // steps since start (reencode)
    float *z, *zr;     // [max_B, Z]
    float *x0, *d0;    // [max_B, C, H, W] the start frames and their decoded latents (compose > 0)
    float *xs;         // [max_B, C, H, W] scratch of the re-encoding
    const float *next; // loop.hyp_oracle: the true frames after the coming step (em->truth), else NULL
} AeDynEmu;
// em works on ae and dyn (dyn->max_steps may be 1); emulator_ae_dyn_free frees ctx's buffers.
// With a history (dyn->history = N): start alone begins with no past (the start frame repeated),
// start_past encodes the real frames before each start (as far back as the farthest of the
// history's steps, dyn->depth) into its past.
void emulator_ae_dyn(Emulator *em, AeDynEmu *ctx, AE *ae, DynModel *dyn);
void emulator_ae_dyn_free(AeDynEmu *ctx);
// ctx->loop = loop; with loop.hyp_oracle (a model with hypotheses), em->truth: the direction and
// spawn tests' steps take the candidate nearest the engine's next frame.
void emulator_ae_dyn_loop(Emulator *em, AeDynEmu *ctx, ClosedLoop loop);

enum { EMU_ROW_MODEL, EMU_ROW_COPY, EMU_ROW_RECON, EMU_ROWS };

typedef struct {
    int N, n_steps;
    double *changed[EMU_ROWS];      // [n_steps][N]
    double *live[EMU_ROWS];         // [n_steps][N]
    double *live_true;              // [n_steps][N]
    double *dpsnr_other, *dpsnr_none;   // [n_steps][N]
    int other_ok;                   // start points lie in >= 2 episodes
    int game;                       // the game trace was available
    char game_reason[1400];         // why not, when !game
    double *piece_l1[EMU_ROWS];     // [n_steps][N]
    signed char *piece_drawn[EMU_ROWS];   // [n_steps][N]: 1, 0, or -1 (no visible piece in the air)
    // direction test
    int dir_done;                   // run (game trace available and >= 1 eligible start)
    char dir_reason[256];           // why not, when !dir_done
    int dir_k, dir_n, dir_eligible; // steps, start frames used, start frames eligible
    int dir_model[EMU_DIRECTIONS], dir_engine[EMU_DIRECTIONS];   // passes
    int dir_rows;                   // directions tested: 3 (LEFT, RIGHT, none) or 2 (LEFT, RIGHT)
    int dir_bright;                 // the motion measure (GameEval.bright_on_black)
    char object[32];                // the game's object (GameEval.object: "piece", "runner", ...), set by the
                                    // direction and spawn tests
    // spawn test
    int spawn_done;                 // run (game trace available and >= 1 eligible start)
    char spawn_reason[256];         // why not, when !spawn_done
    int spawn_k, spawn_n, spawn_eligible, spawn_model, spawn_engine;   // steps, starts, eligible, passes
    // picture: for the n_pic start points of pic_idx, the start frame and the model's step-0 frame
    int n_pic;
    float *pic_start, *pic_pred0;   // [n_pic][C,H,W]
} EmuResult;

void emu_eval(Emulator *em, const Dataset *d, GameTrace *g, const StartPoint *sp, int N, const int *steps,
              int n_steps, const int *pic_idx, int n_pic, EmuResult *r);
// k >= 1 steps; runs only when g->available (else records why in r->dir_reason).
void emu_direction_test(Emulator *em, const Dataset *d, GameTrace *g, const int *episodes, int n_episodes, int k,
                        int n_starts, EmuResult *r);
// The direction test's start frames (*picks malloc'ed, m of them; returns m; 0 without the
// game trace) and how many were eligible.
int emu_direction_starts(const Dataset *d, GameTrace *g, const int *episodes, int n_episodes, int k, int n_starts,
                         StartPoint **picks, int *eligible);
// k >= 2 steps; runs only when g->available and the game has an object (else records why in
// r->spawn_reason).
void emu_spawn_test(Emulator *em, const Dataset *d, GameTrace *g, const int *episodes, int n_episodes, int k,
                    int n_starts, EmuResult *r);
// Its start frames (*picks malloc'ed, m of them; returns m) and how many were eligible.
int emu_spawn_starts(const Dataset *d, GameTrace *g, const int *episodes, int n_episodes, int k, int n_starts,
                     StartPoint **picks, int *eligible);
void emu_result_free(EmuResult *r);

#endif
