/*
 * game_trace.c - re-simulation of recorded built-in Tetris episodes and the piece and well
 * geometry on preprocessed frames (see game_trace.h).
 */
#include "evaluation/game_trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/tetris_replay.h"
#include "base/h5.h"
#include "base/alloc.h"

#define CELL 8   // source pixels per well cell

__attribute__((format(printf, 2, 3))) static int unavailable(GameTrace *g, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->reason, sizeof g->reason, fmt, ap);
    va_end(ap);
    g->available = 0;
    return -1;
}

// Reads the replay seeds of every listed episode; -1 (reason set) when any is missing.
static int read_seeds(GameTrace *g, const int *episodes, int n, TetrisEpisodeSeeds *s, const char *path) {
    const Dataset *d = g->d;
    Err err;
    hid_t f = h5_open(path, 0, &err);
    if (f < 0) return unavailable(g, "%s: cannot open it for its replay seeds", path);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        char grp[32];
        snprintf(grp, sizeof grp, "episode_%d", d->ep_id[episodes[i]]);
        int64_t gs, ps, w;
        if (!h5_attr_exists(f, grp, TETRIS_ATTR_GAME_SEED) ||
            h5_attr_read_i64(f, grp, TETRIS_ATTR_GAME_SEED, &gs, &err) < 0 ||
            h5_attr_read_i64(f, grp, TETRIS_ATTR_PLAYER_SEED, &ps, &err) < 0 ||
            h5_attr_read_i64(f, grp, TETRIS_ATTR_WARMUP, &w, &err) < 0 || w < 0) {
            rc = unavailable(g, "%s: /episode_%d has no replay seeds (attribute " TETRIS_ATTR_GAME_SEED
                             "): not recorded by this gen tetris", path, d->ep_id[episodes[i]]);
            break;
        }
        s[i] = (TetrisEpisodeSeeds){(uint64_t)gs, (uint64_t)ps, w};
    }
    h5_close(f);
    return rc;
}

void game_trace_build(GameTrace *g, const Dataset *d, const int *episodes, int n) {
    game_trace_build_from(g, d, episodes, n, d->path);
}

void game_trace_build_from(GameTrace *g, const Dataset *d, const int *episodes, int n, const char *seeds_path) {
    memset(g, 0, sizeof *g);
    g->d = d;
    if (strcmp(d->game, "tetris")) {
        unavailable(g, "%s: the file's game is '%s', not the built-in tetris", d->path, d->game);
        return;
    }
    if (d->src_w != TETRIS_W || d->src_h != TETRIS_H || d->src_c != 3 || d->A != 8) {
        unavailable(g, "%s: frames of %dx%dx%d (HxWxC) and %d buttons are not the built-in tetris's", d->path,
                    d->src_h, d->src_w, d->src_c, d->A);
        return;
    }
    Err err;
    hid_t f = h5_open(seeds_path, 0, &err);
    int64_t K = 0;
    if (f >= 0) {
        if (h5_attr_exists(f, "/", "frame_skip")) h5_attr_read_i64(f, "/", "frame_skip", &K, &err);
        h5_close(f);
    }
    if (K < 1 || K > 1000) {
        unavailable(g, "%s: no usable frame_skip attribute (%lld)", seeds_path, (long long)K);
        return;
    }
    g->K = (int)K;
    TetrisEpisodeSeeds *seeds = xmalloc((size_t)(n > 0 ? n : 1) * sizeof *seeds);
    if (read_seeds(g, episodes, n, seeds, seeds_path) < 0) { free(seeds); return; }
    Preprocess p = {d->H, d->W, d->C};
    if (preprocessor_init(&g->pp, TETRIS_H, TETRIS_W, 3, &p, &err) < 0) {
        free(seeds);
        unavailable(g, "%s: %s", d->path, err.msg);
        return;
    }
    g->rgb = xmalloc((size_t)TETRIS_H * TETRIS_W * 3);
    g->u8 = xmalloc((size_t)d->C * d->H * d->W);
    g->scratch = xmalloc(preprocessor_scratch_bytes(&g->pp) + 1);
    g->states = xcalloc((size_t)d->n_episodes, sizeof *g->states);
    const size_t F = (size_t)d->C * d->H * d->W;
    for (int i = 0; i < n; i++) {
        int e = episodes[i];
        int64_t T = dataset_ep_frames(d, e);
        if (g->states[e]) continue;
        Tetris *st = g->states[e] = xmalloc((size_t)T * sizeof(Tetris));
        TetrisPlayer pl;
        tetris_replay_start(&st[0], &pl, &seeds[i], g->K);
        for (int64_t t = 0; t < T; t++) {
            if (t > 0) {
                st[t] = st[t - 1];
                tetris_replay_step(&st[t], dataset_action_u8(d, e, t - 1), g->K);
            }
            tetris_render(&st[t], g->rgb);
            preprocess_frame(&g->pp, g->rgb, g->u8, g->scratch);
            if (memcmp(g->u8, dataset_frame_u8(d, e, t), F)) {
                snprintf(g->reason, sizeof g->reason,
                         "%s: the engine's replay of /episode_%d (seeds from %s) differs from the recorded frame "
                         "%lld (another recording, or the recorder or the game changed since)", d->path, d->ep_id[e],
                         seeds_path, (long long)t);
                free(seeds);
                return;   // available stays 0; game_trace_free releases the rest
            }
        }
    }
    free(seeds);
    g->available = 1;
}

void game_trace_free(GameTrace *g) {
    if (g->states)
        for (int e = 0; e < g->d->n_episodes; e++) free(g->states[e]);
    free(g->states), free(g->rgb), free(g->u8), free(g->scratch);
    if (g->rgb) preprocessor_free(&g->pp);
    memset(g, 0, sizeof *g);
}

const Tetris *game_trace_state(const GameTrace *g, int e, int64_t t) {
    if (!g || !g->available || e < 0 || e >= g->d->n_episodes || !g->states[e]) return NULL;
    if (t < 0 || t >= dataset_ep_frames(g->d, e)) return NULL;
    return &g->states[e][t];
}

void game_trace_render(GameTrace *g, const Tetris *s, int hide_piece, float *out) {
    CHECK(g->rgb, "game_trace_render without a built trace");
    Tetris c = *s;
    if (hide_piece && c.phase == PHASE_FALL) c.phase = PHASE_ENTRY;   // render_play draws the piece in FALL only
    tetris_render(&c, g->rgb);
    preprocess_frame(&g->pp, g->rgb, g->u8, g->scratch);
    size_t F = (size_t)g->d->C * g->d->H * g->d->W;
    for (size_t i = 0; i < F; i++) out[i] = g->u8[i] * (1.0f / 255.0f);   // as dataset_frame
}

// ---------------------------------------------------------------- geometry

int tetris_piece_in_air(const Tetris *s) {
    if (s->mode != TETRIS_PLAY || s->paused || s->phase != PHASE_FALL || s->piece < 0) return 0;
    const int8_t(*c)[2] = tetris_cells(s->piece, s->rot);
    for (int i = 0; i < 4; i++) {
        int x = s->px + c[i][0], y = s->py + c[i][1];
        if (x < 0 || x >= TETRIS_COLS || y < 0 || y >= TETRIS_ROWS) return 0;
    }
    return 1;
}

// Source-pixel centre of preprocessed pixel x along an axis of `out` pixels from `in`.
static double src_centre(int x, int out, int in) { return (x + 0.5) * in / out; }

// 1 where the centre of pixel (x, y) lies in the source rectangle [x0, x1) x [y0, y1).
static int rect_mask(int H, int W, double x0, double y0, double x1, double y1, uint8_t *mask) {
    int n = 0;
    for (int y = 0; y < H; y++) {
        double sy = src_centre(y, H, TETRIS_H);
        for (int x = 0; x < W; x++) {
            double sx = src_centre(x, W, TETRIS_W);
            if (sx >= x0 && sx < x1 && sy >= y0 && sy < y1) mask[(size_t)y * W + x] = 1, n++;
        }
    }
    return n;
}

int tetris_piece_mask(const Tetris *s, int H, int W, uint8_t *mask) {
    memset(mask, 0, (size_t)H * W);
    if (s->piece < 0) return 0;
    const int8_t(*c)[2] = tetris_cells(s->piece, s->rot);
    int n = 0;
    for (int i = 0; i < 4; i++) {
        int x = s->px + c[i][0], y = s->py + c[i][1];
        if (y < 0) continue;
        double x0 = TETRIS_WELL_X + CELL * x, y0 = TETRIS_WELL_Y + CELL * y;
        n += rect_mask(H, W, x0, y0, x0 + CELL, y0 + CELL, mask);
    }
    return n;
}

int tetris_well_mask(int H, int W, uint8_t *mask) {
    memset(mask, 0, (size_t)H * W);
    return rect_mask(H, W, TETRIS_WELL_X, TETRIS_WELL_Y, TETRIS_WELL_X + CELL * TETRIS_COLS,
                     TETRIS_WELL_Y + CELL * TETRIS_ROWS, mask);
}

void tetris_cell_size(int H, int W, double *cw, double *ch) {
    *cw = (double)CELL * W / TETRIS_W;
    *ch = (double)CELL * H / TETRIS_H;
}
