/*
 * game.h - the built-in games behind one small interface: the rules (a step of K frames), the
 * renderer, a seeded bot, the button names, the palette, and what the game knows about its
 * current frame (GameFrameInfo: where the falling piece is, the score and its digits).
 * ./gen, ./train's data generation and bench_data record a game through game_record; the
 * next game plugs in by defining a GameDef and adding it to game_find (data/game.c).
 * Tetris (data/game_tetris.c) is the first, the side-scroller (data/game_scroller.c) the second, the
 * maze game (data/game_maze.c) the third.
 *
 * A game's state (state_size bytes, owned by the caller) holds the game and its bot; every
 * random choice comes from the seeds an episode starts with, which the recorder stores as
 * int64 attributes of /episode_<i> (attr_names), so `replay` rebuilds frame 0 of a recorded
 * episode and `step` with the recorded buttons every frame after it.
 */
#ifndef NEMU_GAME_H
#define NEMU_GAME_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/rng.h"

#define GAME_SEED 42   // the recorder's default seed (./gen, data.gen_seed = 0)

// What the game knows about the frame it would render now.
typedef struct {
    int playing;                 // a game is on (not a title or game-over screen, not paused)
    int game_over;               // the game-over screen
    int has_piece;               // a falling piece is on screen, inside box (pixels, inclusive)
    int piece_x0, piece_y0, piece_x1, piece_y1;
    int64_t score, lines, level; // what the digits on screen say (-1: the game shows none)
} GameFrameInfo;

struct GameDef;

// ./eval's game-aware object measures (evaluation/emulation_eval.c) for one game: its moving
// object (Tetris's falling piece, the runner, the eater) and the direction test.
typedef struct {
    const char *object;                // its name in reports: "piece", "runner", "eater"
    // mask [H*W] = 1 on the object's pixels of a preprocessed H x W frame of state (a pixel
    // belongs to a source region when its centre does); returns their count, 0 when the object
    // is not in play (then nothing is measured).
    int (*object_mask)(const void *state, int H, int W, uint8_t *mask);
    // The direction test holds dir_buttons[d] (NES order) for k steps from a start the game
    // calls fair (dir_start: the object free to move, the engine's k-step rollouts of every
    // direction keep it in play and move it), and measures the motion inside dir_region in units
    // of cw x ch preprocessed pixels. n_dirs: 3 = LEFT, RIGHT, none (the object's own motion,
    // DOWN: Tetris's gravity); 2 = LEFT, RIGHT. dir_frames: the frames ./eval holds them by
    // default (k = dir_frames / frame skip, rounded up).
    int n_dirs, dir_frames;
    uint8_t dir_buttons[3][8];
    int (*dir_start)(const struct GameDef *g, const void *state, int K, int k, void *scratch);
    void (*dir_region)(const void *state, int H, int W, uint8_t *mask, double *cw, double *ch);
    // 1: the motion is centroid(brightened) - centroid(darkened) (a bright object on black);
    // 0: the object's centroid against the start frame without the object (render_hidden),
    // for an object of any colour on any background.
    int bright_on_black;
    // The game's other movers, which no button steers (the maze's ghosts): mask [H*W] = 1 on
    // their boxes grown by half a tile, as object_mask; returns the count, 0 when none is in play.
    // NULL: the game has none. ./eval's samples report their diversity inside it.
    int (*enemy_mask)(const void *state, int H, int W, uint8_t *mask);
} GameEval;

typedef struct GameDef {
    const char *name;                  // "tetris": ./gen's subcommand, data.generate, the file's game attribute
    int H, W, C;                       // frame
    int n_buttons;
    const char *button_names;          // comma-separated, in action order
    const uint32_t *palette;           // the colours its frames are drawn from, 0xRRGGBB
    int n_colors;
    int episodes, steps, frame_skip;   // the recorder's defaults
    int n_attrs;                       // per-episode int64 attributes that rebuild an episode
    const char *const *attr_names;
    const int64_t *attr_max;           // [n_attrs]: largest valid value (0..max), or 0: any int64 (seeds)
    size_t state_size;
    // A new episode: seeds drawn from master (the same draws for the same master), the game
    // brought to frame 0 (a warm-up included), attrs [n_attrs] to record.
    void (*start)(void *state, Rng *master, int K, int64_t *attrs);
    void (*replay)(void *state, const int64_t *attrs, int K);   // frame 0 again, from the attributes
    // One step of K frames with the bot's buttons (written to buttons [n_buttons], 0/1);
    // returns the step's reward (points scored during play).
    float (*bot_step)(void *state, int K, uint8_t *buttons);
    void (*step)(void *state, const uint8_t *buttons, int K);  // one step of K frames with these buttons
    void (*render)(const void *state, uint8_t *rgb);            // rgb [H, W, C]
    // The same frame without the moving piece (what ./eval's piece measure compares with);
    // NULL: the game has no such piece.
    void (*render_hidden)(const void *state, uint8_t *rgb);
    void (*frame_info)(const void *state, GameFrameInfo *info);
    // For ./gen NAME's --sheet and --edge-cases (src/gen_game.c; NULL/0 for Tetris, whose
    // ./gen tetris is its own): a game and its bot at the title screen from seed; the fixed,
    // named edge-case states (0, or -1 when which is out of range).
    void (*title)(void *state, uint64_t seed);
    int n_edge_cases;
    int (*edge_case)(void *state, int which, char *name, size_t cap);
    const GameEval *eval;              // NULL: ./eval has no object measures for this game
} GameDef;

// mask [H*W] = 1 where the centre of a preprocessed pixel lies in the box x0..x1, y0..y1
// (source pixels of g's frame, inclusive); returns the count.
int game_box_mask(const GameDef *g, int x0, int y0, int x1, int y1, int H, int W, uint8_t *mask);
// The same for n_box boxes {x0, y0, x1, y1}: 1 where the centre lies in any of them.
int game_boxes_mask(const GameDef *g, const int (*box)[4], int n_box, int H, int W, uint8_t *mask);

extern const GameDef game_tetris, game_scroller, game_maze;

// The buttons of one step as a bit mask (bit i = buttons[i] & 1, i < n <= 8) and back.
uint8_t game_buttons_bits(const uint8_t *buttons, int n);
void game_buttons_from_bits(uint8_t bits, int n, uint8_t *buttons);

// Warm-up steps of a new episode of a seeded-bot game from one draw w of the master Rng:
// 15% start at the title (0), the others after 20..GAME_WARMUP_MAX steps of bot play.
#define GAME_WARMUP_MAX 1019
int64_t game_warmup_steps(uint64_t w);

// The game of that name, or NULL.
const GameDef *game_find(const char *name);

// Records `episodes` episodes of `steps` steps (frame skip K) of the bot playing g into the
// episode file out (SPEC.md §3), episode e seeded from a master Rng seeded with `seed`:
// written as out.part and renamed when complete, the attributes included. stop (may be NULL)
// is polled after each episode; when it returns nonzero nothing is left behind. Progress
// goes to stderr ("gen <name>: episode 10/40, ..."). Returns 0, 1 when stopped, or -1 (err).
int game_record(const GameDef *g, const char *out, int episodes, int steps, uint64_t seed, int K,
                int (*stop)(void), Err *err);

#endif
