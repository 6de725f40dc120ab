/*
 * gen_game.c - ./gen NAME for the built-in games that have no ./gen command of their own
 * (the side-scroller, ...): the same options as ./gen tetris, through the game interface
 * (data/game.h) alone.
 *
 *   gen NAME [--episodes N] [--steps T] [--seed S] [--frame-skip K] [--out FILE.h5]
 *       records N episodes of the game's seeded bot with game_record (SPEC.md §3)
 *   gen NAME --sheet FILE.png [--seed S] [--frame-skip K]
 *       a 4x4 contact sheet of one game from the title: the title, evenly spaced play, a lost
 *       life, GAME OVER (when the bot reaches it within 20000 steps)
 *   gen NAME --edge-cases FILE.h5
 *       the game's fixed edge-case states as one episode with zero actions; the root
 *       attribute frame_names lists them (check an autoencoder with ./eval --recon FILE.h5)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/episodes.h"
#include "data/game.h"
#include "data/png.h"
#include "base/alloc.h"
#include "base/h5.h"
#include "base/path.h"   // remove_stale_temps_of
#include "src/gen.h"
#include "src/run.h"     // signals_install, signals_stop_requested

static void usage(const GameDef *g, FILE *f) {
    fprintf(f,
            "usage: gen %s [--episodes N] [--steps T] [--seed S] [--frame-skip K] [--out FILE.h5]\n"
            "       gen %s --sheet FILE.png [--seed S] [--frame-skip K]\n"
            "       gen %s --edge-cases FILE.h5\n"
            "Records the built-in %s played by a seeded bot: N episodes (default %d) of T steps\n"
            "(default %d), each step holding the buttons for K frames (default %d), observations\n"
            "%dx%d RGB. Default output data/%s.h5; same seed, same file.\n"
            "--sheet writes a 4x4 contact sheet of one game from the title (play, a lost life,\n"
            "game over). --edge-cases writes the game's %d fixed edge-case states as one episode\n"
            "with zero actions; root attribute frame_names lists them comma-separated.\n",
            g->name, g->name, g->name, g->name, g->episodes, g->steps, g->frame_skip, g->W, g->H, g->name,
            g->n_edge_cases);
}

static long parse_int(const GameDef *g, const char *opt, const char *v, long lo, long hi) {
    char *end;
    if (!v) die("%s: %s needs a value", g->name, opt);
    long x = strtol(v, &end, 10);
    if (*v == 0 || *end || x < lo || x > hi) die("%s: %s expects an integer in %ld..%ld, got '%s'", g->name, opt, lo, hi, v);
    return x;
}

// Steps of one game from the title, as states (grown as needed); returns their count.
static int play_one_game(const GameDef *g, uint64_t seed, int K, uint8_t **states, int *lost, int *over) {
    enum { MAXS = 20000 };
    const size_t S = g->state_size;
    int cap = 1024, n = 0, lives_seen = 0;
    uint8_t *h = xmalloc(S * (size_t)cap), btn[16];
    g->title(h, seed);
    *lost = *over = -1;
    GameFrameInfo prev = {0}, fi;
    while (n < MAXS) {
        g->frame_info(h + S * (size_t)n, &fi);
        if (fi.game_over && *over < 0) *over = n + 30 / K;   // the GAME OVER screen a moment in
        if (n > 0 && prev.playing && !fi.playing && !fi.game_over && *lost < 0 && lives_seen) *lost = n + 20 / K;
        lives_seen |= fi.playing;
        prev = fi;
        if (*over >= 0 && n >= *over) { n++; break; }
        if (n + 1 == cap) h = xrealloc(h, S * (size_t)(cap *= 2));
        memcpy(h + S * (size_t)(n + 1), h + S * (size_t)n, S);
        g->bot_step(h + S * (size_t)(n + 1), K, btn);
        n++;
    }
    if (*lost >= n) *lost = -1;
    if (*over >= n) *over = n - 1;
    *states = h;
    return n;
}

static int sheet(const GameDef *g, const char *out, uint64_t seed, int K) {
    enum { N = 16 };
    uint8_t *h;
    int lost, over;
    const int n = play_one_game(g, seed, K, &h, &lost, &over);
    int pick[N], np = 0;
    pick[np++] = 0;
    if (lost > 0) pick[np++] = lost;
    if (over > 0) pick[np++] = over;
    const int want = N - np, end = over > 0 ? over : n;
    for (int k = 0; k < want; k++) pick[np++] = 1 + (int)((int64_t)(end - 1) * (2 * k + 1) / (2 * want));
    for (int i = 1; i < N; i++)   // time order
        for (int j = i; j > 0 && pick[j] < pick[j - 1]; j--) { int t = pick[j]; pick[j] = pick[j - 1]; pick[j - 1] = t; }
    const int SW = 4 * g->W, SH = 4 * g->H;
    const size_t fb = (size_t)g->H * g->W * 3;
    uint8_t *img = xmalloc((size_t)SW * SH * 3), *frame = xmalloc(fb);
    for (int k = 0; k < N; k++) {
        g->render(h + g->state_size * (size_t)pick[k], frame);
        const int ox = (k % 4) * g->W, oy = (k / 4) * g->H;
        for (int y = 0; y < g->H; y++)
            memcpy(img + ((size_t)(oy + y) * SW + ox) * 3, frame + (size_t)y * g->W * 3, (size_t)g->W * 3);
    }
    Err err;
    int rc = png_write(out, img, SW, SH, 3, &err);
    free(img), free(frame), free(h);
    if (rc) die("%s", err.msg);
    fprintf(stderr, "gen %s: wrote %s (16 of %d steps of one game%s)\n", g->name, out, n,
            over > 0 ? ", through game over" : ", no game over within the limit");
    return 0;
}

// The edge cases as one episode of n frames (n-1 steps, zero actions), their names in the root
// attribute frame_names; written as out.part, the attribute added, then renamed to out.
static int edge_cases(const GameDef *g, const char *out) {
    const int n = g->n_edge_cases;
    char *names = xcalloc((size_t)n * 32 + 1, 1), *part = xmalloc(strlen(out) + 8);
    sprintf(part, "%s.part", out);
    remove_stale_temps_of(out);
    uint8_t *frame = xmalloc((size_t)g->H * g->W * g->C), zero[16] = {0};
    void *st = xmalloc(g->state_size);
    Err err;
    EpisodeWriter *w = episode_writer_open(part, g->name, g->button_names, 1, &err);
    int ok = w && episode_writer_begin(w, g->H, g->W, g->C, g->n_buttons, &err) == 0;
    for (int i = 0; ok && i < n; i++) {
        char nm[32];
        CHECK(g->edge_case(st, i, nm, sizeof nm) == 0, "edge case %d of %d", i, n);
        g->render(st, frame);
        if (i) strcat(names, ",");
        strcat(names, nm);
        ok = (i + 1 < n ? episode_writer_step(w, frame, zero, 0.f, 0, i + 2 == n, &err) : episode_writer_end(w, frame, &err)) == 0;
    }
    if (w && !ok) episode_writer_abort(w);
    if (ok) ok = episode_writer_close(w, &err) == 0;
    if (ok) {
        hid_t f = h5_open(part, 1, &err);
        ok = f >= 0 && h5_attr_write_str(f, "/", "frame_names", names, &err) == 0;
        if (f >= 0) h5_close(f);
        if (ok && rename(part, out) != 0) ok = 0, err_set(&err, "cannot write %s: %s", out, strerror(errno));
    }
    if (!ok) unlink(part);
    else fprintf(stderr, "gen %s: wrote %s: %d edge-case frames (%s)\n", g->name, out, n, names);
    free(names), free(part), free(frame), free(st);
    if (!ok) die("%s", err.msg);
    return 0;
}

int gen_game_main(const GameDef *g, int argc, char **argv) {
    int episodes = g->episodes, steps = g->steps, K = g->frame_skip;
    uint64_t seed = GAME_SEED;
    char def_out[64];
    snprintf(def_out, sizeof def_out, "data/%s.h5", g->name);
    const char *out = def_out, *sheet_out = NULL, *edge_out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(g, stdout); return 0; }
        else if (!strcmp(a, "--episodes")) episodes = (int)parse_int(g, a, v, 1, 1000000), i++;
        else if (!strcmp(a, "--steps")) steps = (int)parse_int(g, a, v, 1, 10000000), i++;
        else if (!strcmp(a, "--seed")) seed = (uint64_t)parse_int(g, a, v, 0, 0x7fffffffffffffffL), i++;
        else if (!strcmp(a, "--frame-skip")) K = (int)parse_int(g, a, v, 1, 1000), i++;
        else if (!strcmp(a, "--out")) { if (!v) die("%s: --out needs a value", g->name); out = v, i++; }
        else if (!strcmp(a, "--sheet")) { if (!v) die("%s: --sheet needs a value", g->name); sheet_out = v, i++; }
        else if (!strcmp(a, "--edge-cases")) { if (!v) die("%s: --edge-cases needs a value", g->name); edge_out = v, i++; }
        else die("%s: unknown option '%s' (see gen %s --help)", g->name, a, g->name);
    }
    if (sheet_out && edge_out) die("%s: --sheet and --edge-cases: give one of them", g->name);
    if (edge_out) return edge_cases(g, edge_out);
    if (sheet_out) return sheet(g, sheet_out, seed, K);
    Err err;
    signals_install();
    if (game_record(g, out, episodes, steps, seed, K, signals_stop_requested, &err)) die("%s", err.msg);
    return 0;
}
