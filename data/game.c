/*
 * game.c - the list of built-in games and the recorder every one of them shares (game.h).
 */
#include "data/game.h"
#include "data/episodes.h"
#include "base/path.h"   // remove_stale_temps_of
#include "base/alloc.h"
#include "base/clock.h"
#include "base/h5.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const GameDef *const GAMES[] = {&game_tetris, &game_scroller, &game_maze};

uint8_t game_buttons_bits(const uint8_t *buttons, int n) {
    uint8_t b = 0;
    for (int i = 0; i < n; i++) b |= (uint8_t)((buttons[i] & 1) << i);
    return b;
}

void game_buttons_from_bits(uint8_t bits, int n, uint8_t *buttons) {
    for (int i = 0; i < n; i++) buttons[i] = (uint8_t)((bits >> i) & 1);
}

int64_t game_warmup_steps(uint64_t w) { return w % 100 < 15 ? 0 : 20 + (int64_t)(w / 100 % 1000); }

const GameDef *game_find(const char *name) {
    for (size_t i = 0; i < sizeof GAMES / sizeof GAMES[0]; i++)
        if (!strcmp(GAMES[i]->name, name)) return GAMES[i];
    return NULL;
}

int game_boxes_mask(const GameDef *g, const int (*box)[4], int n_box, int H, int W, uint8_t *mask) {
    int n = 0;
    for (int y = 0; y < H; y++) {
        const double sy = (y + 0.5) * g->H / H;
        for (int x = 0; x < W; x++) {
            const double sx = (x + 0.5) * g->W / W;
            int in = 0;
            for (int i = 0; i < n_box && !in; i++)
                in = sx >= box[i][0] && sx < box[i][2] + 1 && sy >= box[i][1] && sy < box[i][3] + 1;
            mask[(size_t)y * W + x] = (uint8_t)in;
            n += in;
        }
    }
    return n;
}

int game_box_mask(const GameDef *g, int x0, int y0, int x1, int y1, int H, int W, uint8_t *mask) {
    return game_boxes_mask(g, (const int[1][4]){{x0, y0, x1, y1}}, 1, H, W, mask);
}

// Every episode's attributes on /episode_<e> of the finished file `part`, then `part` renamed
// to out (so no file under out lacks them). On failure part is removed.
static int write_attrs(const GameDef *g, const char *part, const char *out, const int64_t *attrs, int episodes,
                       Err *err) {
    hid_t f = h5_open(part, 1, err);
    int ok = f >= 0;
    for (int e = 0; ok && e < episodes; e++) {
        char grp[32];
        snprintf(grp, sizeof grp, "episode_%d", e);
        for (int k = 0; ok && k < g->n_attrs; k++)
            ok = h5_attr_write_i64(f, grp, g->attr_names[k], attrs[(size_t)e * g->n_attrs + k], err) == 0;
    }
    if (f >= 0) h5_close(f);
    if (ok && rename(part, out) != 0) ok = 0, err_set(err, "cannot write %s: %s", out, strerror(errno));
    if (!ok) unlink(part);
    return ok ? 0 : -1;
}

typedef struct {
    double t0, t_game;   // start; seconds in the game and its renderer
    long games_over, clears;
    int tty, has_lines;   // has_lines: the game counts lines (GameFrameInfo.lines >= 0 seen)
} RecStats;

// One episode into the open writer: frame 0, then `steps` bot steps.
static int record_episode(const GameDef *g, EpisodeWriter *w, void *st, uint8_t **frame, uint8_t **next,
                          uint8_t *a, int steps, int K, RecStats *rs, Err *err) {
    double tg = now_seconds();
    g->render(st, *frame);
    rs->t_game += now_seconds() - tg;
    if (episode_writer_begin(w, g->H, g->W, g->C, g->n_buttons, err)) return -1;
    for (int t = 0; t < steps; t++) {
        GameFrameInfo before, after;
        g->frame_info(st, &before);
        tg = now_seconds();
        const float reward = g->bot_step(st, K, a);
        g->render(st, *next);
        rs->t_game += now_seconds() - tg;
        g->frame_info(st, &after);
        rs->games_over += after.game_over && !before.game_over;
        rs->clears += before.lines >= 0 && after.lines > before.lines;
        rs->has_lines |= after.lines >= 0;
        if (episode_writer_step(w, *frame, a, reward, 0, t == steps - 1, err)) return -1;
        uint8_t *tmp = *frame;
        *frame = *next, *next = tmp;
    }
    return episode_writer_end(w, *frame, err);
}

int game_record(const GameDef *g, const char *out, int episodes, int steps, uint64_t seed, int K,
                int (*stop)(void), Err *err) {
    remove_stale_temps_of(out);   // what a killed recording of out left (out.part, out.part.tmp)
    char *part = xmalloc(strlen(out) + 8);
    sprintf(part, "%s.part", out);
    EpisodeWriter *w = episode_writer_open(part, g->name, g->button_names, K, err);
    if (!w) { free(part); return -1; }
    const size_t fb = (size_t)g->H * g->W * g->C;
    uint8_t *frame = xmalloc(fb), *next = xmalloc(fb), *a = xmalloc((size_t)g->n_buttons);
    int64_t *attrs = xmalloc(sizeof(int64_t) * (size_t)episodes * (g->n_attrs ? g->n_attrs : 1));
    void *st = xmalloc(g->state_size);
    Rng master;
    rng_seed(&master, seed);
    RecStats rs = {.t0 = now_seconds(), .tty = isatty(2)};
    int rc = 0;
    for (int e = 0; e < episodes && rc == 0; e++) {
        double tg = now_seconds();
        g->start(st, &master, K, attrs + (size_t)e * g->n_attrs);
        rs.t_game += now_seconds() - tg;
        if (record_episode(g, w, st, &frame, &next, a, steps, K, &rs, err)) { rc = -1; break; }
        if (stop && stop()) {   // Ctrl-C / SIGTERM: leave nothing half-written behind
            if (rs.tty) fputc('\n', stderr);
            err_set(err, "stopped after %d of %d episodes; %s was not written", e + 1, episodes, out);
            rc = 1;
            break;
        }
        if (rs.tty || (e + 1) % 10 == 0 || e + 1 == episodes) {
            double dt = now_seconds() - rs.t0;
            fprintf(stderr, "%sgen %s: episode %d/%d, %ld steps, %.0f steps/s, ETA %.0fs%s", rs.tty ? "\r" : "",
                    g->name, e + 1, episodes, (long)(e + 1) * steps, (e + 1) * steps / dt,
                    dt / (e + 1) * (episodes - e - 1), rs.tty && e + 1 < episodes ? "   " : "\n");
        }
    }
    if (rc) episode_writer_abort(w);
    else if (episode_writer_close(w, err) || write_attrs(g, part, out, attrs, episodes, err)) rc = -1;
    if (rc == 0) {
        double dt = now_seconds() - rs.t0;
        char clears[40] = "";
        if (rs.has_lines) snprintf(clears, sizeof clears, "%ld line clears, ", rs.clears);
        fprintf(stderr, "gen %s: wrote %s: %d episodes x %d steps (frame skip %d) in %.1fs; "
                "%s%ld game overs; game+render %.0f frames/s, recorder %.0f steps/s\n",
                g->name, out, episodes, steps, K, dt, clears, rs.games_over,
                (double)episodes * steps * K / (rs.t_game > 0 ? rs.t_game : 1e-9), episodes * steps / dt);
    }
    free(part), free(frame), free(next), free(a), free(attrs), free(st);
    return rc;
}
