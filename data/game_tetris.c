/*
 * game_tetris.c - the built-in Tetris (data/tetris.h) and its bot (data/tetris_player.h)
 * behind the game interface (data/game.h). Episodes start as data/tetris_replay.h says.
 */
#include "data/episodes.h"   // NES_ACTION_NAMES, NES_BUTTONS
#include <string.h>
#include "data/game.h"
#include "data/tetris.h"
#include "data/tetris_geometry.h"
#include "data/tetris_player.h"
#include "data/tetris_replay.h"

typedef struct {
    Tetris g;
    TetrisPlayer p;
} TetrisState;

static const char *const ATTRS[] = {TETRIS_ATTR_GAME_SEED, TETRIS_ATTR_PLAYER_SEED, TETRIS_ATTR_WARMUP};

static void t_start(void *st, Rng *master, int K, int64_t *attrs) {
    TetrisState *s = st;
    const TetrisEpisodeSeeds seeds = tetris_episode_seeds(master, K);
    tetris_replay_start(&s->g, &s->p, &seeds, K);
    attrs[0] = (int64_t)seeds.game_seed, attrs[1] = (int64_t)seeds.player_seed, attrs[2] = seeds.warmup_steps;
}

static void t_replay(void *st, const int64_t *attrs, int K) {
    TetrisState *s = st;
    const TetrisEpisodeSeeds seeds = {(uint64_t)attrs[0], (uint64_t)attrs[1], attrs[2]};
    tetris_replay_start(&s->g, &s->p, &seeds, K);
}

static float t_bot_step(void *st, int K, uint8_t *buttons) {
    TetrisState *s = st;
    const int score = s->g.score;
    const TetrisMode mode = s->g.mode;
    const uint8_t b = tetris_advance(&s->g, &s->p, K);
    game_buttons_from_bits(b, NES_BUTTONS, buttons);
    return s->g.mode == TETRIS_PLAY && mode == TETRIS_PLAY ? (float)(s->g.score - score) : 0.f;
}

static void t_step(void *st, const uint8_t *buttons, int K) { tetris_replay_step(&((TetrisState *)st)->g, buttons, K); }

static void t_render(const void *st, uint8_t *rgb) { tetris_render(&((const TetrisState *)st)->g, rgb); }

// tetris_render draws the falling piece in phase FALL only.
static void t_render_hidden(const void *st, uint8_t *rgb) {
    Tetris c = ((const TetrisState *)st)->g;
    if (c.phase == PHASE_FALL) c.phase = PHASE_ENTRY;
    tetris_render(&c, rgb);
}

const Tetris *game_tetris_state(const void *state) { return state ? &((const TetrisState *)state)->g : NULL; }

// The falling piece's visible cells (7x7 pixels drawn on an 8-pixel grid in the well; rows above the top are
// not drawn), and the counters of the game on screen.
static void t_frame_info(const void *st, GameFrameInfo *fi) {
    const Tetris *t = &((const TetrisState *)st)->g;
    *fi = (GameFrameInfo){.playing = t->mode == TETRIS_PLAY && !t->paused, .game_over = t->mode == TETRIS_GAMEOVER,
                          .score = -1, .lines = -1, .level = -1};
    if (t->mode != TETRIS_TITLE) fi->score = t->score, fi->lines = t->lines, fi->level = t->level;
    if (!fi->playing || t->phase != PHASE_FALL || t->piece < 0) return;
    const int8_t(*c)[2] = tetris_cells(t->piece, t->rot);
    for (int i = 0; i < 4; i++) {
        const int cy = t->py + c[i][1];
        if (cy < 0) continue;
        const int x = TETRIS_WELL_X + (t->px + c[i][0]) * 8, y = TETRIS_WELL_Y + cy * 8;
        if (!fi->has_piece) fi->piece_x0 = x, fi->piece_y0 = y, fi->piece_x1 = x + 6, fi->piece_y1 = y + 6;
        fi->has_piece = 1;
        if (x < fi->piece_x0) fi->piece_x0 = x;
        if (y < fi->piece_y0) fi->piece_y0 = y;
        if (x + 6 > fi->piece_x1) fi->piece_x1 = x + 6;
        if (y + 6 > fi->piece_y1) fi->piece_y1 = y + 6;
    }
}

// ---------------------------------------------------------------- ./eval's object measures

static int t_object_mask(const void *st, int H, int W, uint8_t *mask) {
    const Tetris *s = &((const TetrisState *)st)->g;
    return tetris_piece_in_air(s) ? tetris_piece_mask(s, H, W, mask) : 0;
}

static int spawn_count(const Tetris *s) {
    int n = 0;
    for (int p = 0; p < PIECE_COUNT; p++) n += s->stats[p];
    return n;
}

// A piece in the air that can move one cell left, right and down, and stays in the air (no
// lock, no new piece) for k steps under each of LEFT, RIGHT and no button in the engine.
static int t_dir_start(const GameDef *g, const void *state, int K, int k, void *scratch) {
    const Tetris *s = &((const TetrisState *)state)->g;
    if (!tetris_piece_in_air(s)) return 0;
    if (!tetris_fits(s->board, s->piece, s->rot, s->px - 1, s->py) ||
        !tetris_fits(s->board, s->piece, s->rot, s->px + 1, s->py) ||
        !tetris_fits(s->board, s->piece, s->rot, s->px, s->py + 1))
        return 0;
    const Tetris *o = &((const TetrisState *)scratch)->g;
    const int spawned = spawn_count(s);
    for (int dir = 0; dir < 3; dir++) {
        memcpy(scratch, state, g->state_size);
        for (int i = 0; i < k; i++) {
            g->step(scratch, g->eval->dir_buttons[dir], K);
            if (!tetris_piece_in_air(o) || spawn_count(o) != spawned) return 0;
        }
    }
    return 1;
}

static void t_dir_region(const void *st, int H, int W, uint8_t *mask, double *cw, double *ch) {
    (void)st;
    tetris_well_mask(H, W, mask);
    tetris_cell_size(H, W, cw, ch);
}

static const GameEval TETRIS_EVAL = {
    .object = "piece", .object_mask = t_object_mask,
    .n_dirs = 3, .dir_frames = 48,
    .dir_buttons = {{0, 0, 0, 0, 0, 0, 1, 0}, {0, 0, 0, 0, 0, 0, 0, 1}, {0}},
    .dir_start = t_dir_start, .dir_region = t_dir_region, .bright_on_black = 1,
};

// tetris_warmup_steps: at most 20119 frames of warm-up (data/tetris_replay.c), so at most that
// many steps; a larger value in a file would make the replay run for hours (issue #16).
static const int64_t ATTR_MAX[3] = {0, 0, 20119};

const GameDef game_tetris = {
    .name = "tetris", .H = TETRIS_H, .W = TETRIS_W, .C = 3,
    .n_buttons = NES_BUTTONS, .button_names = NES_ACTION_NAMES,
    .palette = tetris_nes_palette, .n_colors = 64,
    .episodes = 120, .steps = 400, .frame_skip = 4,
    .n_attrs = 3, .attr_names = ATTRS, .attr_max = ATTR_MAX,
    .state_size = sizeof(TetrisState),
    .start = t_start, .replay = t_replay, .bot_step = t_bot_step, .step = t_step, .render = t_render,
    .render_hidden = t_render_hidden,
    .frame_info = t_frame_info,
    .eval = &TETRIS_EVAL,
};
