/*
 * tetris.h - the built-in game: NES-Tetris (type A) rules and a 256x240 RGB renderer.
 *
 * One tetris_step() call is one 60 Hz frame with the 8 NES buttons held (bit i = button i
 * of NES_ACTION_NAMES: A,B,SELECT,START,UP,DOWN,LEFT,RIGHT). Rules as NES Tetris:
 *   - 10x20 well, 7 tetrominoes with the NES rotation tables (no wall kicks), spawn at
 *     column 5 row 0, A rotates clockwise, B counter-clockwise (press edges)
 *   - randomiser: roll 0..7; if it is 7 or the previous piece, roll once more in 0..6
 *   - gravity frames per cell by level (tetris_gravity_frames), DAS 16/6, soft drop on DOWN
 *     (1 cell per 2 frames, 1 point per cell), ARE 10..18 frames by lock height
 *   - line clear: columns vanish from the centre outward over 20 frames; score
 *     40/100/300/1200 x (level+1); level up at NES's thresholds (every 10 lines from level 0)
 *   - title screen (LEFT/RIGHT/UP/DOWN choose the level 0..9, START begins, A+START adds 10),
 *     START pauses (the well is hidden), SELECT toggles the next-piece preview, a spawn that
 *     overlaps the stack ends the game: curtain animation, then START returns to the title.
 * All randomness comes from the Rng inside the state, so a seed fixes the whole game.
 */
#ifndef NEMU_TETRIS_H
#define NEMU_TETRIS_H

#include <stdint.h>
#include "base/rng.h"

#define TETRIS_W 256              // frame width (NES resolution)
#define TETRIS_H 240              // frame height
#define TETRIS_COLS 10
#define TETRIS_ROWS 20
#define TETRIS_WELL_X 96          // screen position of the well's top-left cell
#define TETRIS_WELL_Y 48
#define TETRIS_CLEAR_FRAMES 20    // line-clear animation
#define TETRIS_CURTAIN_FRAMES 80  // game-over curtain (4 frames per row)

enum { BTN_A = 1, BTN_B = 2, BTN_SELECT = 4, BTN_START = 8,
       BTN_UP = 16, BTN_DOWN = 32, BTN_LEFT = 64, BTN_RIGHT = 128 };

// Piece ids in NES order.
enum { PIECE_T, PIECE_J, PIECE_Z, PIECE_O, PIECE_S, PIECE_L, PIECE_I, PIECE_COUNT };

typedef enum { TETRIS_TITLE, TETRIS_PLAY, TETRIS_GAMEOVER } TetrisMode;
typedef enum { PHASE_FALL, PHASE_CLEAR, PHASE_ENTRY } TetrisPhase;

typedef struct {
    uint8_t board[TETRIS_ROWS][TETRIS_COLS];   // 0 empty, else piece id + 1
    TetrisMode mode;
    TetrisPhase phase;
    int paused, show_next;
    int piece, rot, px, py;        // falling piece: id, rotation index, pivot column, pivot row
    int next;                      // next piece id
    int fall_timer, soft_timer, das, soft_cells;   // gravity, soft-drop, DAS counters; soft-drop points
    int entry_timer, clear_timer, n_clear, clear_rows[4];
    int start_level, level, lines, score, top;
    int stats[PIECE_COUNT];        // pieces spawned this game, by id
    int title_level;               // level chosen on the title screen (0..9)
    int curtain;                   // frames since game over
    uint8_t prev_buttons;
    int64_t frame;                 // frames stepped since init
    Rng rng;
} Tetris;

void tetris_init(Tetris *t, uint64_t seed);         // title screen
void tetris_start(Tetris *t, int level);            // new game at level (0..29), as START does
void tetris_step(Tetris *t, uint8_t buttons);       // one frame
void tetris_render(const Tetris *t, uint8_t *rgb);  // rgb [TETRIS_H, TETRIS_W, 3]
extern const uint32_t tetris_nes_palette[64];      // the NES colours frames are drawn from, 0xRRGGBB

// ---- Rule tables (exposed for the bot and the tests).
int tetris_gravity_frames(int level);               // frames per cell at this level
int tetris_line_score(int lines, int level);        // points for clearing 1..4 lines
int tetris_entry_delay(int lock_row);               // ARE after locking with lowest cell in lock_row
int tetris_level_for(int start_level, int lines);   // level after `lines` lines
int tetris_rotations(int piece);                    // 1, 2 or 4 states
int tetris_spawn_rot(int piece);                    // rotation index a new piece starts in
// Cell offsets (dx, dy) from the pivot of piece in rotation rot (y grows downward).
const int8_t (*tetris_cells(int piece, int rot))[2];
int tetris_random_piece(Rng *r, int prev);          // NES randomiser; prev < 0 for none
// 1 if piece/rot fits with its pivot at (x, y): inside the walls and floor, not overlapping
// the board; cells above the top row (y < 0) are allowed.
int tetris_fits(const uint8_t board[TETRIS_ROWS][TETRIS_COLS], int piece, int rot, int x, int y);

// ---- Edge cases (reconstruction checks, `gen tetris --edge-cases`): named, fixed game states.
// tetris_edge_case puts t into state `which` (0 .. tetris_edge_case_count()-1): the title,
// an empty board, one piece at several positions, low/high/nearly full stacks, line clears
// (a single and a Tetris flash), pause, no next-piece preview, the game-over curtain and GAME
// OVER, every level palette, and the largest score/lines/level the display shows. The state
// is a consistent game (tetris_step may continue from it) and depends on `which` only. Its
// name (e.g. "empty_board": lowercase, digits and '_', no commas) goes to name[cap].
// Returns 0, or -1 (t and name untouched) when which is out of range.
int tetris_edge_case_count(void);
int tetris_edge_case(Tetris *t, int which, char *name, size_t cap);

#endif
