/*
 * play_session.h - what every mode of ./play shares: the trained emulator of a run started
 * from a real frame and stepped with buttons, the frame it draws (as 8-bit pixels, scaled),
 * the buttons and their names, the sources of buttons of the headless mode (a script, a
 * policy), and the frame clock.
 *
 *   PlaySession s;
 *   play_open(&s, &(PlayOpen){.run = NULL, .start = NULL, .temperature = 0, .seed = 1, .threads = -1,
 *                             .compose = -1, .deadband = -1, .reencode = -1}); // dies on bad input
 *   play_reset(&s);                           // frame 0: decode(encode(start frame))
 *   play_step(&s, buttons);                   // z = z + f(z, a) (then the deadband); s.frame = decode(z)
 *   play_pixels(&s, scale, px);               // s.frame as uint8 [H*scale, W*scale, C]
 *
 * Start frame: the run's data file, first frame of its first held-out test episode (the split
 * of ./train, recomputed); or FILE.h5[:EPISODE[:STEP]] (EPISODE: the i of /episode_<i>,
 * default the file's first; STEP default 0); or FRAME.png of any size, grey or RGB. Every
 * start frame goes through the run's preprocessing (resize to H x W, grey or RGB).
 */
#ifndef NEMU_PLAY_SESSION_H
#define NEMU_PLAY_SESSION_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "base/rng.h"
#include "evaluation/emulation_eval.h"   // Emulator, AeDynEmu
#include "src/emu_run.h"

#define PLAY_MAX_BUTTONS 64

typedef struct {
    const char *run;          // --run DIR (NULL: the newest dynamics run)
    const char *game;         // --game NAME (NULL: any): the newest dynamics run of that game; with run, the
                              // game of a run of several games (roadmap 5.3) to play
    const char *start;        // --start spec (NULL: the run's first test frame)
    int menu;                 // an interactive mode: a run of several games opens without game (game 0 loaded
                              // until the in-window or terminal menu chooses one with play_set_game)
    double temperature;       // vae dynamics only (> 0 on a deterministic model is refused)
    uint64_t seed;            // eps of a vae, the random policy
    int threads;              // -1: the run's run.threads; 0: every core; n: n threads
    double compose;           // < 0: the run's dynamics.compose; else emu_compose's threshold (0: off)
    double deadband;          // < 0: the run's dynamics.deadband; else latent_deadband's threshold (0: off)
    int reencode;             // < 0: the run's dynamics.reencode; else every this many steps (0: off)
} PlayOpen;

typedef struct {
    EmuRun R;
    AE ae;
    DynModel dyn;
    Emulator em;
    AeDynEmu ctx;
    Rng eps_rng;
    int C, H, W, A;                     // A: the buttons
    int n_games, game;                  // a run of several games: how many, and the one played (its input column)
    char games[CFG_MAX_FILES][64];      // their names, in the order of the game columns
    const char *start_spec;             // --start (NULL: each game's first test frame)
    char names[PLAY_MAX_BUTTONS][16];   // button names, in action order
    float *start;                       // [C,H,W] the real start frame, in [0,1]
    float *past;                        // [depth][C,H,W] the recording's frames before it (slot 0 the one
    int depth, has_past;                // before; a history run's farthest step back), when it came from one
    float *frame, *prev;                // [C,H,W] the frame drawn now, and the one before
    float *a;                           // [A + n_games] the model's input: buttons, then the game's one-hot
    long step;                          // steps since the last reset
    char start_desc[1200];              // where the start frame came from
    char start_file[1024];              // a recording's start frame: the file, the episode's index in it
    int start_ep;                       // (not its id), the step; start_ep -1: the start frame is a picture
    long start_t;
} PlaySession;

void play_open(PlaySession *s, const PlayOpen *o);
void play_close(PlaySession *s);
void play_reset(PlaySession *s);
// A run of several games: plays game g from now on (its column; its start frame, unless --start gave one
// for all) and resets to the start frame. Dies in one line when g's file cannot give a start frame.
void play_set_game(PlaySession *s, int g);
void play_step(PlaySession *s, const uint8_t *buttons);   // buttons [A] 0/1
// A new temperature (vae dynamics; clamped to >= 0). Returns the one in use.
double play_set_temperature(PlaySession *s, double t);
// s->frame as 8-bit pixels, each model pixel a scale x scale block: px [H*scale, W*scale, C].
void play_pixels(const PlaySession *s, int scale, uint8_t *px);

// Index of the button named `name` (case-insensitive), -1 if none.
int play_button(const PlaySession *s, const char *name);
// "LEFT+A", or "-" when none is held, into buf.
const char *play_buttons_str(const PlaySession *s, const uint8_t *buttons, char *buf, size_t cap);

// ---- frame statistics (the per-step CSV): over s->frame, and its change from s->prev
typedef struct { double mean, sd, l1_prev; } FrameStats;
FrameStats play_frame_stats(const PlaySession *s);

// ---- buttons for the headless mode
typedef enum { POLICY_SCRIPT, POLICY_RANDOM, POLICY_IDLE } PolicyKind;
typedef struct {
    PolicyKind kind;
    long steps;               // steps to play (the script: its rows)
    uint8_t *script;          // [steps, A] (script: columns in the model's button order)
    Rng rng;                  // random
    int cur;                  // random: the button held now (-1: none)
    int choices[8], n_choices;
} Policy;
// A script (the `gen import` CSV: header of button names, one 0/1 row per step; every
// header name must be one of the model's buttons, in any order). Dies with one line on a
// bad file.
void policy_script(Policy *p, const PlaySession *s, const char *path);
// random: every step, with probability 1/2, a new choice among no button, LEFT, RIGHT,
// DOWN, A and B (those the model has; one at a time; START and SELECT never); idle: none.
void policy_init(Policy *p, const PlaySession *s, PolicyKind kind, long steps, uint64_t seed);
void policy_buttons(Policy *p, long step, uint8_t *buttons, int A);
void policy_free(Policy *p);

// ---- the frame clock: absolute deadlines on CLOCK_MONOTONIC (clock_nanosleep), no busy wait
typedef struct {
    double fps;               // 0: as fast as possible
    struct timespec next;     // the next deadline
    double t0;                // now_seconds() at start
    long frames;              // frames shown since start
    long late;                // deadlines missed by more than a period (the clock then restarts from now)
} FrameClock;
void clock_start(FrameClock *c, double fps);
void clock_wait(FrameClock *c);           // sleeps until the next deadline; counts a frame
double clock_rate(const FrameClock *c);   // frames per second achieved since start

#endif
