/*
 * game_trace.c - re-simulation of recorded episodes of a built-in game through its GameDef
 * (data/game.h): the game named by the file, its replay attributes, replay, step and
 * render (see game_trace.h). Nothing here knows which game it is.
 */
#include "evaluation/game_trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/h5.h"
#include "base/alloc.h"

__attribute__((format(printf, 2, 3))) static int unavailable(GameTrace *g, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->reason, sizeof g->reason, fmt, ap);
    va_end(ap);
    g->available = 0;
    return -1;
}

// Reads the replay attributes (game->attr_names) of every listed episode into attrs
// [n][n_attrs]; -1 (reason set) when any is missing.
static int read_attrs(GameTrace *g, const int *episodes, int n, int64_t *attrs, const char *path) {
    const Dataset *d = g->d;
    const GameDef *gd = g->game;
    Err err;
    hid_t f = h5_open(path, 0, &err);
    if (f < 0) return unavailable(g, "%s: cannot open it for its replay seeds", path);
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        char grp[32];
        snprintf(grp, sizeof grp, "episode_%d", d->ep_id[episodes[i]]);
        for (int k = 0; k < gd->n_attrs && !rc; k++)
            if (!h5_attr_exists(f, grp, gd->attr_names[k]) ||
                h5_attr_read_i64(f, grp, gd->attr_names[k], &attrs[(size_t)i * gd->n_attrs + k], &err) < 0)
                rc = unavailable(g, "%s: /episode_%d has no replay seeds (attribute %s): not recorded by this gen %s",
                                 path, d->ep_id[episodes[i]], gd->attr_names[k], gd->name);
            else if (gd->attr_max && gd->attr_max[k] > 0 &&
                     (attrs[(size_t)i * gd->n_attrs + k] < 0 || attrs[(size_t)i * gd->n_attrs + k] > gd->attr_max[k]))
                rc = unavailable(g, "%s: /episode_%d attribute %s = %lld; expected 0..%lld", path,
                                 d->ep_id[episodes[i]], gd->attr_names[k],
                                 (long long)attrs[(size_t)i * gd->n_attrs + k], (long long)gd->attr_max[k]);
    }
    h5_close(f);
    return rc;
}

void game_trace_build(GameTrace *g, const Dataset *d, const int *episodes, int n) {
    game_trace_build_from(g, d, episodes, n, d->path);
}

// The game of d and its frame skip in seeds_path; -1 (reason set) when there is none.
static int find_game(GameTrace *g, const Dataset *d, const char *seeds_path) {
    const GameDef *gd = g->game = game_find(d->game);
    if (!gd) return unavailable(g, "%s: the file's game is '%s', not a built-in game", d->path, d->game);
    if (d->src_w != gd->W || d->src_h != gd->H || d->src_c != gd->C || d->A - d->n_games != gd->n_buttons)
        return unavailable(g, "%s: frames of %dx%dx%d (HxWxC) and %d buttons are not the built-in %s's", d->path,
                           d->src_h, d->src_w, d->src_c, d->A - d->n_games, gd->name);
    Err err;
    hid_t f = h5_open(seeds_path, 0, &err);
    int64_t K = 0;
    if (f >= 0) {
        if (h5_attr_exists(f, "/", "frame_skip")) h5_attr_read_i64(f, "/", "frame_skip", &K, &err);
        h5_close(f);
    }
    if (K < 1 || K > 1000) return unavailable(g, "%s: no usable frame_skip attribute (%lld)", seeds_path, (long long)K);
    g->K = (int)K;
    return 0;
}

// Replays episode e (listed as i) from its attributes, every frame checked against d's; 0, or
// -1 with the reason set.
static int replay_episode(GameTrace *g, int e, const int64_t *attrs, const char *seeds_path) {
    const Dataset *d = g->d;
    const GameDef *gd = g->game;
    const size_t F = (size_t)d->C * d->H * d->W, S = gd->state_size;
    const int64_t T = dataset_ep_frames(d, e);
    uint8_t *st = g->states[e] = xmalloc((size_t)T * S);
    gd->replay(st, attrs, g->K);
    for (int64_t t = 0; t < T; t++) {
        if (t > 0) {
            memcpy(st + t * S, st + (t - 1) * S, S);
            gd->step(st + t * S, dataset_action_u8(d, e, t - 1), g->K);
        }
        gd->render(st + t * S, g->rgb);
        preprocess_frame(&g->pp, g->rgb, g->u8, g->scratch);
        if (memcmp(g->u8, dataset_frame_u8(d, e, t), F)) {
            snprintf(g->reason, sizeof g->reason,
                     "%s: the engine's replay of /episode_%d (seeds from %s) differs from the recorded frame "
                     "%lld (another recording, or the recorder or the game changed since)", d->path, d->ep_id[e],
                     seeds_path, (long long)t);
            return -1;
        }
    }
    return 0;
}

void game_trace_build_from(GameTrace *g, const Dataset *d, const int *episodes, int n, const char *seeds_path) {
    memset(g, 0, sizeof *g);
    g->d = d;
    if (find_game(g, d, seeds_path) < 0) return;
    const GameDef *gd = g->game;
    int64_t *attrs = xmalloc((size_t)(n > 0 ? n : 1) * (gd->n_attrs > 0 ? gd->n_attrs : 1) * sizeof *attrs);
    if (read_attrs(g, episodes, n, attrs, seeds_path) < 0) { free(attrs); return; }
    Preprocess p = {d->H, d->W, d->C};
    Err err;
    if (preprocessor_init(&g->pp, gd->H, gd->W, gd->C, &p, &err) < 0) {
        free(attrs);
        unavailable(g, "%s: %s", d->path, err.msg);
        return;
    }
    g->rgb = xmalloc((size_t)gd->H * gd->W * gd->C);
    g->u8 = xmalloc((size_t)d->C * d->H * d->W);
    g->scratch = xmalloc(preprocessor_scratch_bytes(&g->pp) + 1);
    g->states = xcalloc((size_t)d->n_episodes, sizeof *g->states);
    for (int i = 0; i < n; i++) {
        if (g->states[episodes[i]]) continue;
        if (replay_episode(g, episodes[i], attrs + (size_t)i * gd->n_attrs, seeds_path) < 0) {
            free(attrs);
            return;   // available stays 0; game_trace_free releases the rest
        }
    }
    free(attrs);
    g->available = 1;
}

void game_trace_free(GameTrace *g) {
    if (g->states)
        for (int e = 0; e < g->d->n_episodes; e++) free(g->states[e]);
    free(g->states), free(g->rgb), free(g->u8), free(g->scratch);
    if (g->rgb) preprocessor_free(&g->pp);
    memset(g, 0, sizeof *g);
}

const void *game_trace_state(const GameTrace *g, int e, int64_t t) {
    if (!g || !g->available || e < 0 || e >= g->d->n_episodes || !g->states[e]) return NULL;
    if (t < 0 || t >= dataset_ep_frames(g->d, e)) return NULL;
    return g->states[e] + (size_t)t * g->game->state_size;
}

void game_trace_render(GameTrace *g, const void *s, int hide_piece, float *out) {
    CHECK(g->rgb, "game_trace_render without a built trace");
    CHECK(!hide_piece || g->game->render_hidden, "game_trace_render: %s has no piece to hide", g->game->name);
    (hide_piece ? g->game->render_hidden : g->game->render)(s, g->rgb);
    preprocess_frame(&g->pp, g->rgb, g->u8, g->scratch);
    size_t F = (size_t)g->d->C * g->d->H * g->d->W;
    for (size_t i = 0; i < F; i++) out[i] = g->u8[i] * (1.0f / 255.0f);   // as dataset_frame
}
