/*
 * tetris_player.c - the Tetris bot of tetris_player.h: placement search with the
 * height/holes/bumpiness/lines heuristic, and human-like button presses.
 */
#include "data/tetris_player.h"
#include "base/rng.h"

#include <string.h>

static float lerpf(float a, float b, float u) { return a + (b - a) * u; }

void tetris_player_init(TetrisPlayer *p, uint64_t seed) {
    memset(p, 0, sizeof *p);
    rng_seed(&p->rng, seed);
    float u = (float)rng_uniform(&p->rng);   // skill in [0, 1)
    p->mistake = lerpf(0.3f, 0.02f, u);
    p->noise = lerpf(0.06f, 0.005f, u);
    p->react = (int)rng_below(&p->rng, 3);
    p->tap = (float)rng_uniform(&p->rng);
    p->soft_drop = 0.25f + 0.7f * (float)rng_uniform(&p->rng);
    p->pause_rate = 0.004f * (float)rng_uniform(&p->rng);
    double r = rng_uniform(&p->rng);
    p->start_level = r < 0.8 ? (int)rng_below(&p->rng, 10) : 10 + (int)rng_below(&p->rng, 10);
    p->seen_pieces = -1;
    p->menu_wait = 2 + (int)rng_below(&p->rng, 12);
}

double tetris_placement_value(const uint8_t board[TETRIS_ROWS][TETRIS_COLS], int piece, int rot,
                              int x, int y0, int *lines) {
    if (lines) *lines = 0;
    if (!tetris_fits(board, piece, rot, x, y0)) return -1e30;
    int y = y0;
    while (tetris_fits(board, piece, rot, x, y + 1)) y++;
    uint8_t b[TETRIS_ROWS][TETRIS_COLS];
    memcpy(b, board, sizeof b);
    const int8_t(*c)[2] = tetris_cells(piece, rot);
    int above = 0;
    for (int i = 0; i < 4; i++) {
        int cy = y + c[i][1];
        if (cy < 0) above = 1;
        else b[cy][x + c[i][0]] = (uint8_t)(piece + 1);
    }
    int n = 0;   // clear full rows
    for (int r = TETRIS_ROWS - 1; r >= 0;) {
        int full = 1;
        for (int k = 0; k < TETRIS_COLS && full; k++) full = b[r][k] != 0;
        if (!full) { r--; continue; }
        memmove(b[1], b[0], (size_t)r * TETRIS_COLS);
        memset(b[0], 0, TETRIS_COLS);
        n++;
    }
    int h[TETRIS_COLS], holes = 0, agg = 0, bump = 0, maxh = 0;
    for (int k = 0; k < TETRIS_COLS; k++) {
        int r = 0;
        while (r < TETRIS_ROWS && !b[r][k]) r++;
        h[k] = TETRIS_ROWS - r;
        for (; r < TETRIS_ROWS; r++) holes += !b[r][k];
        agg += h[k];
        if (h[k] > maxh) maxh = h[k];
        if (k) bump += h[k] > h[k - 1] ? h[k] - h[k - 1] : h[k - 1] - h[k];
    }
    if (lines) *lines = n;
    double v = -0.51 * agg + 0.76 * n - 0.36 * holes - 0.18 * bump;
    if (maxh > 14) v -= 2.0 * (maxh - 14);   // keep away from the top
    if (above) v -= 100;
    return v;
}

double tetris_best_placement(const uint8_t board[TETRIS_ROWS][TETRIS_COLS], int piece, int y0,
                             int *x, int *rot) {
    double best = -1e30;
    *x = 5, *rot = 0;
    for (int r = 0; r < tetris_rotations(piece); r++)
        for (int cx = 0; cx < TETRIS_COLS; cx++) {
            double v = tetris_placement_value(board, piece, r, cx, y0, NULL);
            if (v > best) best = v, *x = cx, *rot = r;
        }
    return best;
}

static void plan(TetrisPlayer *p, const Tetris *t) {
    tetris_best_placement(t->board, t->piece, t->py, &p->target_x, &p->target_rot);
    if (rng_uniform(&p->rng) < p->mistake) {   // a random placement that at least fits
        for (int tries = 0; tries < 20; tries++) {
            int r = (int)rng_below(&p->rng, (uint32_t)tetris_rotations(t->piece));
            int x = (int)rng_below(&p->rng, TETRIS_COLS);
            if (tetris_fits(t->board, t->piece, r, x, t->py)) {
                p->target_x = x, p->target_rot = r;
                break;
            }
        }
    }
    // people soft drop more when pieces fall slowly
    p->drop = rng_uniform(&p->rng) < p->soft_drop + (tetris_gravity_frames(t->level) > 20 ? 0.3 : 0.0);
    p->tapping = rng_uniform(&p->rng) < p->tap;
    p->wait = p->react + (int)rng_below(&p->rng, 2);
}

// Press `btn` on this step only if it was not held last step (so it registers as an edge).
static uint8_t tap(const TetrisPlayer *p, uint8_t btn) { return (p->prev & btn) ? 0 : btn; }

static uint8_t steer(TetrisPlayer *p, const Tetris *t) {
    int pieces = 0;
    for (int i = 0; i < PIECE_COUNT; i++) pieces += t->stats[i];
    if (pieces != p->seen_pieces) {
        p->seen_pieces = pieces;
        plan(p, t);
    }
    if (p->wait > 0) { p->wait--; return 0; }
    uint8_t b = 0;
    int n = tetris_rotations(t->piece);
    if (t->rot != p->target_rot) {
        int cw = (p->target_rot - t->rot + n) % n;
        b |= tap(p, cw == 3 ? BTN_B : BTN_A);
    }
    if (t->px != p->target_x) {
        uint8_t d = t->px < p->target_x ? BTN_RIGHT : BTN_LEFT;
        b |= p->tapping ? tap(p, d) : d;
    } else if (t->rot == p->target_rot && p->drop) {
        b |= BTN_DOWN;
    }
    return b;
}

uint8_t tetris_player_act(TetrisPlayer *p, const Tetris *t) {
    uint8_t b = 0;
    if (t->mode == TETRIS_TITLE) {
        if (p->menu_wait > 0) p->menu_wait--;
        else if (t->title_level != p->start_level % 10) {
            int right = (p->start_level % 10 - t->title_level + 10) % 10;
            b = tap(p, right <= 5 ? BTN_RIGHT : BTN_LEFT);
        } else {
            b = tap(p, BTN_START) | (p->start_level >= 10 ? BTN_A : 0);
            if (b & BTN_START) {   // next game: maybe another level, and a wait after it ends
                p->menu_wait = 2 + (int)rng_below(&p->rng, 12);
                if (rng_uniform(&p->rng) < 0.3)
                    p->start_level = rng_uniform(&p->rng) < 0.8 ? (int)rng_below(&p->rng, 10)
                                                                : 10 + (int)rng_below(&p->rng, 10);
            }
        }
    } else if (t->mode == TETRIS_GAMEOVER) {
        if (t->curtain >= TETRIS_CURTAIN_FRAMES) {
            if (p->menu_wait > 0) p->menu_wait--;
            else if ((b = tap(p, BTN_START))) p->menu_wait = 2 + (int)rng_below(&p->rng, 12);
        }
    } else if (t->paused) {
        if (p->pause_left > 0) p->pause_left--;
        else b = tap(p, BTN_START);
    } else {
        if (t->phase == PHASE_FALL && rng_uniform(&p->rng) < p->pause_rate && !(p->prev & BTN_START)) {
            b = BTN_START;
            p->pause_left = 4 + (int)rng_below(&p->rng, 40);
        } else if (t->phase == PHASE_FALL) {
            b = steer(p, t);
        }
        if (rng_uniform(&p->rng) < p->noise) {   // a slip of the thumb: never START or SELECT
            static const uint8_t SLIP[6] = {BTN_A, BTN_B, BTN_UP, BTN_DOWN, BTN_LEFT, BTN_RIGHT};
            b ^= SLIP[rng_below(&p->rng, 6)];
        }
        // a rare preview toggle; a hidden preview is noticed and turned back on soon
        if (rng_uniform(&p->rng) < (t->show_next ? 0.0003 : 0.04)) b |= tap(p, BTN_SELECT);
    }
    p->prev = b;
    return b;
}
