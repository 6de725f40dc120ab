/*
 * game_checks.h - checks shared by the built-in games' tests (tests/test_tetris.c,
 * test_maze.c, test_scroller.c) over the game interface (data/game.h).
 *
 *   game_check_replay(g, seed, episodes, steps, check, ctx)
 *       bot play of `episodes` episodes of `steps` frames each, every one rebuilt from its
 *       recorded attributes and buttons on a second state: the frames must be the same and
 *       each bot_step's reward the score it made (two checks); check(g, state, rgb, t,
 *       &before, &fi, ctx) sees every frame of the played state
 *   game_in_palette(g, px)
 *       whether the RGB pixel px is one of g's palette colours
 *   game_bot_spread(g, steps, &min_overs, &max_overs, &max_level, &best_score)
 *       12 bot players (seeds 1..12) from the title screen for `steps` frames each
 *   game_check_edge_cases(g)
 *       every edge case (GameDef.edge_case) is named and draws a frame other than the one
 *       before; out-of-range indices (n and -1) give -1
 *   game_check_eval_hooks(g)
 *       ./eval's hooks (GameDef.eval): object masks inside the direction region, fair
 *       direction starts in bot play, and LEFT / RIGHT move the object that way
 */
#ifndef NEMU_GAME_CHECKS_H
#define NEMU_GAME_CHECKS_H

#include <stdlib.h>
#include <string.h>

#include "data/game.h"
#include "tests/test.h"

typedef void (*GameFrameCheck)(const GameDef *g, const void *state, uint8_t *rgb, int t,
                               const GameFrameInfo *before, const GameFrameInfo *fi, void *ctx);

static inline void game_check_replay(const GameDef *g, uint64_t seed, int episodes, int steps,
                                     GameFrameCheck check, void *ctx) {
    void *a = malloc(g->state_size), *b = malloc(g->state_size);
    const size_t F = (size_t)g->H * g->W * 3;
    uint8_t *fa = malloc(F), *fb = malloc(F), btn[8];
    int64_t attrs[8];
    Rng master;
    rng_seed(&master, seed);
    int same = 1, reward_ok = 1;
    for (int e = 0; e < episodes; e++) {
        g->start(a, &master, 4, attrs);
        g->replay(b, attrs, 4);
        for (int t = 0; t < steps; t++) {
            GameFrameInfo before, fi;
            g->frame_info(a, &before);
            const float r = g->bot_step(a, 4, btn);
            g->step(b, btn, 4);
            g->render(a, fa), g->render(b, fb);
            same &= !memcmp(fa, fb, F);
            g->frame_info(a, &fi);
            if (r != 0) reward_ok &= before.score >= 0 && fi.score - before.score == (int64_t)r;
            check(g, a, fa, t, &before, &fi, ctx);
        }
    }
    EXPECT(same, "replay from the recorded attributes and buttons gives the same frames");
    EXPECT(reward_ok, "bot_step's reward is the score made");
    free(a), free(b), free(fa), free(fb);
}

static inline int game_in_palette(const GameDef *g, const uint8_t *px) {
    const uint32_t v = (uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2];
    int c = 0;
    while (c < g->n_colors && g->palette[c] != v) c++;
    return c < g->n_colors;
}

static inline void game_bot_spread(const GameDef *g, int steps, int *min_overs, int *max_overs,
                                   int *max_level, int64_t *best_score) {
    void *st = malloc(g->state_size);
    uint8_t btn[8];
    *min_overs = 1 << 30, *max_overs = 0, *max_level = 0, *best_score = 0;
    for (int seed = 1; seed <= 12; seed++) {
        g->title(st, (uint64_t)seed);
        int overs = 0;
        GameFrameInfo p, f;
        g->frame_info(st, &p);
        for (int t = 0; t < steps; t++) {
            g->bot_step(st, 4, btn);
            g->frame_info(st, &f);
            overs += f.game_over && !p.game_over;
            if (f.level > *max_level) *max_level = (int)f.level;
            if (f.score > *best_score) *best_score = f.score;
            p = f;
        }
        if (overs < *min_overs) *min_overs = overs;
        if (overs > *max_overs) *max_overs = overs;
    }
    free(st);
}

static inline void game_check_edge_cases(const GameDef *g) {
    void *st = calloc(1, g->state_size);
    char name[32];
    const size_t F = (size_t)g->H * g->W * 3;
    uint8_t *img = malloc(F), *prev = calloc(F, 1);
    int distinct = 1;
    for (int i = 0; i < g->n_edge_cases; i++) {
        EXPECT(g->edge_case(st, i, name, sizeof name) == 0 && name[0], "edge case %d", i);
        g->render(st, img);
        distinct &= memcmp(img, prev, F) != 0;
        memcpy(prev, img, F);
    }
    EXPECT(distinct, "consecutive edge cases differ");
    EXPECT(g->edge_case(st, g->n_edge_cases, name, sizeof name) == -1 && g->edge_case(st, -1, name, sizeof name) == -1,
           "out of range: -1");
    free(st), free(img), free(prev);
}

// Mean column of the mask's n pixels (fallback when n is 0).
static inline double game_mask_mean_x(const uint8_t *mask, int H, int W, int n, double fallback) {
    double x = 0;
    for (int i = 0; i < H * W; i++) x += mask[i] ? i % W : 0;
    return n ? x / n : fallback;
}

static inline void game_check_eval_hooks(const GameDef *g) {
    const GameEval *ev = g->eval;
    enum { H = 80, W = 80 };
    void *st = malloc(g->state_size), *o = malloc(g->state_size), *scratch = malloc(g->state_size);
    uint8_t mask[H * W], region[H * W], btn[8];
    int64_t attrs[3];
    Rng master;
    rng_seed(&master, 21);
    int masks = 0, inside = 1, starts = 0, moved = 1;
    for (int e = 0; e < 3; e++) {
        g->start(st, &master, 4, attrs);
        for (int t = 0; t < 300; t++) {
            g->bot_step(st, 4, btn);
            const int n = ev->object_mask(st, H, W, mask);
            if (!n) continue;
            masks++;
            double cw, ch;
            ev->dir_region(st, H, W, region, &cw, &ch);
            for (int i = 0; i < H * W; i++) inside &= !mask[i] || region[i];
            if (!ev->dir_start(g, st, 4, 6, scratch)) continue;
            starts++;
            const double x0 = game_mask_mean_x(mask, H, W, n, 0);
            for (int d = 0; d < ev->n_dirs; d++) {
                memcpy(o, st, g->state_size);
                for (int k = 0; k < 6; k++) g->step(o, ev->dir_buttons[d], 4);
                const int m = ev->object_mask(o, H, W, mask);
                const double x1 = game_mask_mean_x(mask, H, W, m, x0);
                moved &= d == 0 ? x1 - x0 <= -0.5 * cw : x1 - x0 >= 0.5 * cw;
            }
        }
    }
    EXPECT(masks > 100 && inside, "object masks (%d) inside the direction region", masks);
    EXPECT(starts >= 3 && moved, "fair starts (%d): LEFT and RIGHT move the object that way", starts);
    free(st), free(o), free(scratch);
}

#endif
