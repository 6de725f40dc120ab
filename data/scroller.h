/*
 * scroller.h - the built-in side-scroller ("Hill Run"): an NES-style runner at 256x240 RGB
 * with the 8 NES buttons (bit i = button i of NES_ACTION_NAMES: A,B,SELECT,START,UP,DOWN,
 * LEFT,RIGHT). One scroller_step() call is one 60 Hz frame.
 *
 * Rules (positions in 1/16 pixel, speeds in 1/16 pixel per frame):
 *   - the world is an endless row of 16x16 tiles, 15 rows high, generated column by column
 *     from the game's Rng as the camera advances: flat ground at rows 9..12, steps, pits,
 *     brick blocks, floating brick platforms, coins, and beetles that patrol their ground
 *   - LEFT/RIGHT accelerate the runner (1 per frame, 3 when turning; top speed 24, 40 with
 *     B held), on the ground it slows by 1 per frame without them; A (its press) jumps
 *     (vy = -(60 + |vx|/4)), gravity 2 per frame while A is held and the runner rises, else
 *     7, falling at most 64 per frame; the runner collides with ground and bricks
 *   - the camera follows the runner (who stays at most 112 pixels from the left edge) and
 *     never moves back; the runner cannot leave the screen on the left
 *   - a coin gives 100 points, each new column reached 10, stomping a beetle (landing on it)
 *     200 and a bounce; touching a beetle otherwise, or falling into a pit, loses a life
 *     (a 60-frame fall-off animation, then a respawn with 90 blinking frames); after the
 *     third life GAME OVER, then START returns to the title, where START begins a game
 *   - START pauses during play; SELECT, UP and DOWN do nothing
 * Background layers scroll at 1/4 (mountains), 1/3 (clouds, which also drift) and 1/2
 * (hills) of the camera's speed (parallax); coins spin, beetles and the runner animate.
 * All randomness comes from the Rng inside the state, so a seed fixes the whole game.
 */
#ifndef NEMU_SCROLLER_H
#define NEMU_SCROLLER_H

#include <stddef.h>
#include <stdint.h>
#include "base/rng.h"

#define SCR_W 256
#define SCR_H 240
#define SCR_TILE 16
#define SCR_ROWS 15            // tile rows of the world (the whole frame height)
#define SCR_RING 64            // world columns kept (the screen shows 17)
#define SCR_AHEAD 40           // columns generated ahead of the camera's left edge
#define SCR_MAX_ENEMIES 6
#define SCR_PW 12              // the runner's collision box, pixels
#define SCR_PH 22
#define SCR_CAM_LEAD 112       // the runner's largest distance from the screen's left edge
#define SCR_DYING_FRAMES 60
#define SCR_INVULN_FRAMES 90
#define SCR_LIVES 3

enum { SCR_EMPTY, SCR_GROUND, SCR_BRICK, SCR_COIN };   // tiles
typedef enum { SCR_TITLE, SCR_PLAY, SCR_DYING, SCR_GAMEOVER } ScrMode;

typedef struct {
    int64_t x;     // world position of the left edge, 1/16 pixel
    int y;         // top edge, pixels
    int dir;       // -1 or +1
    int state;     // 0 unused, 1 walking, 2 squashed (squash_timer counts down)
    int squash_timer;
} ScrEnemy;

typedef struct {
    uint8_t tiles[SCR_RING][SCR_ROWS];   // world column c is tiles[c % SCR_RING]
    int64_t gen_col;                     // first column not generated yet
    int gen_ground, gen_kind, gen_left;  // generator: ground row, current segment, columns left in it
    int gen_len, gen_var;                // the segment's length and variant
    int64_t cam;                         // camera: world x of the screen's left edge, pixels
    int64_t px;                          // runner's box: left edge (1/16 px, world)
    int py;                              // top edge (1/16 px)
    int vx, vy, on_ground, facing, jump_held;
    int anim;                            // run cycle accumulator
    ScrEnemy en[SCR_MAX_ENEMIES];
    ScrMode mode;
    int paused, timer, lives, invuln, coins;
    int64_t score, best_col;
    uint8_t prev_buttons;
    int64_t frame;                       // frames stepped since init
    int64_t clock;                       // animation frames (stands still while paused)
    Rng rng;
} Scroller;

void scroller_init(Scroller *s, uint64_t seed);     // title screen
void scroller_start(Scroller *s);                   // a new game, as START on the title does
void scroller_step(Scroller *s, uint8_t buttons);   // one frame
// rgb [SCR_H, SCR_W, 3]; hide_runner: the same frame without the runner.
void scroller_render(const Scroller *s, uint8_t *rgb, int hide_runner);
extern const uint32_t scroller_palette[];           // every colour frames are drawn from, 0xRRGGBB
extern const int scroller_n_colors;

// ---- Rules exposed for the bot and the tests.
int scroller_tile(const Scroller *s, int64_t col, int row);   // SCR_EMPTY for rows/columns outside
int scroller_solid(const Scroller *s, int64_t col, int row);  // ground or brick (rows < 0: no, >= SCR_ROWS: no)
// The runner's box on screen (pixels, inclusive), clipped; 0 when it is not drawn (not playing
// or dying, blinking off, or off screen).
int scroller_runner_box(const Scroller *s, int *x0, int *y0, int *x1, int *y1);

// ---- Edge cases (`gen scroller --edge-cases`): named, fixed states (title, standing, full run,
// jump apex, over a pit, beetle close, stomp, dying, blinking, pause, game over, largest
// counters, far along the level). Returns 0, or -1 when which is out of range.
int scroller_edge_case_count(void);
int scroller_edge_case(Scroller *s, int which, char *name, size_t cap);

#endif
