/*
 * maze.h - the built-in maze game ("Dot Maze"): a Pac-Man-like chase at 256x240 RGB, mostly
 * black, with the 8 NES buttons (bit i = button i of NES_ACTION_NAMES: A,B,SELECT,START,UP,
 * DOWN,LEFT,RIGHT). One maze_step() call is one 60 Hz frame.
 *
 * Rules:
 *   - a fixed maze of 16x13 tiles of 16 pixels below a 32-pixel score line (black corridors,
 *     filled walls outlined in blue: about 55% of a frame is black); dots (10 points)
 *     and four power pellets (50) on its corridors
 *   - the eater moves 1 pixel per frame; UP/DOWN/LEFT/RIGHT choose the direction it takes at
 *     the next tile centre where that way is open (a reversal at once); it stops at walls
 *   - four ghosts leave the middle of the maze one after another (frames 0, 90, 210, 330 of a
 *     life) and move 7 pixels in 8 frames (8 in 8 from level 3 on); at each tile centre a
 *     ghost picks among the open ways except back (back only at a dead end): with its own
 *     chase probability (0.6, 0.4, 0.25, 0.1) the way nearest to the eater, else one at
 *     random, every choice drawn from the game's Rng (the dynamics is stochastic)
 *   - a power pellet frightens the ghosts for 360 frames (blue, flashing in the last 120,
 *     half speed, random ways, reversing once); eating one gives 200, 400, 800, 1600 and
 *     sends it back to the middle; touching a ghost otherwise costs a life (a 90-frame
 *     shrinking animation; positions reset, the dots stay); after the third GAME OVER, then
 *     START returns to the title, where START begins a game
 *   - every dot eaten: the maze flashes for 120 frames, the dots come back, the level rises
 *   - START pauses during play; A, B and SELECT do nothing
 * Animation cycles: the eater's mouth, the ghosts' skirts, the waiting ghosts bob, the
 * pellets blink. All randomness comes from the Rng inside the state.
 */
#ifndef NEMU_MAZE_H
#define NEMU_MAZE_H

#include <stddef.h>
#include <stdint.h>
#include "base/rng.h"

#define MZ_W 256
#define MZ_H 240
#define MZ_TILE 16
#define MZ_COLS 16
#define MZ_ROWS 13
#define MZ_TOP 32            // the maze's first pixel row (the score line above)
#define MZ_GHOSTS 4
#define MZ_FRIGHT_FRAMES 360
#define MZ_DYING_FRAMES 90
#define MZ_CLEAR_FRAMES 120
#define MZ_LIVES 3

enum { MZ_UP, MZ_DOWN, MZ_LEFT, MZ_RIGHT, MZ_NONE };   // directions
typedef enum { MZ_TITLE, MZ_PLAY, MZ_DYING, MZ_CLEAR, MZ_GAMEOVER } MzMode;

typedef struct {
    int x, y;          // top-left of its 16x16 sprite in maze pixels (tile centre: both % 16 == 0)
    int dir;
    int wait;          // frames before it leaves the middle
    int fright;        // frightened (blue)
} MzGhost;

typedef struct {
    uint8_t dots[MZ_ROWS][MZ_COLS];   // 0 none, 1 dot, 2 power pellet
    int dots_left;
    int px, py, pdir, want;           // the eater: sprite top-left (maze pixels), direction, wanted direction
    int mouth;                        // animation: pixels moved
    MzGhost gh[MZ_GHOSTS];
    int fright_timer, eaten_chain;
    MzMode mode;
    int paused, timer, lives, level;
    int64_t score;
    uint8_t prev_buttons;
    int64_t frame, clock;             // frames stepped; animation frames (stand still while paused)
    Rng rng;
} Maze;

void maze_init(Maze *m, uint64_t seed);   // title screen
void maze_start(Maze *m);                 // a new game, as START on the title does
void maze_step(Maze *m, uint8_t buttons); // one frame
// rgb [MZ_H, MZ_W, 3]; hide_eater: the same frame without the eater.
void maze_render(const Maze *m, uint8_t *rgb, int hide_eater);
extern const uint32_t maze_palette[];
extern const int maze_n_colors;

// ---- Rules exposed for the bot and the tests.
int maze_wall(int col, int row);                 // 1 for walls and outside the maze
int maze_open(int col, int row, int dir);        // the neighbour of (col, row) in dir is not a wall
void maze_dir_step(int dir, int *dx, int *dy);
// The eater's sprite box on screen (pixels, inclusive); 0 when it is not drawn.
int maze_eater_box(const Maze *m, int *x0, int *y0, int *x1, int *y1);
// Ghost g's sprite box on screen; 0 when it is not drawn (not in play).
int maze_ghost_box(const Maze *m, int g, int *x0, int *y0, int *x1, int *y1);

// The Maze inside a state of the GameDef game_maze (data/game.h); NULL for NULL.
const Maze *game_maze_state(const void *state);

int maze_edge_case_count(void);
int maze_edge_case(Maze *m, int which, char *name, size_t cap);

#endif
