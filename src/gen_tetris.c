/*
 * gen_tetris.c - ./gen tetris: record the built-in NES-style Tetris (data/tetris.h) played by
 * the bot (data/tetris_player.h) into an episode dataset (SPEC.md §3) with the recorder of
 * every built-in game (game_record, data/game.h), draw a 4x4
 * contact sheet of one generated game (--sheet), or write the fixed edge-case states of
 * tetris_edge_case() as one named episode (--edge-cases; checked with ./eval --recon).
 *
 * Episode e gets its own game and player seeds drawn from --seed. About 15% of episodes
 * start at the title screen; the rest warm up for a random 100..20100 frames first, so the
 * data is mostly gameplay. Step t holds the bot's buttons for K = --frame-skip frames; the
 * observation after step t is the frame after the last of them. Each /episode_<i> gets the
 * attributes tetris_game_seed, tetris_player_seed and tetris_warmup_steps
 * (data/tetris_replay.h), with which ./eval re-simulates the episode for its game-aware
 * measures.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/episodes.h"
#include "data/game.h"
#include "data/game_hud.h"   // game_hud_mask (--hud-mask)
#include "data/png.h"
#include "data/tetris.h"
#include "data/tetris_player.h"
#include "data/tetris_replay.h"
#include "base/path.h"   // remove_stale_temps_of
#include "base/h5.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/clock.h"
#include "src/gen.h"
#include "src/run.h"   // signals_install, signals_stop_requested

#define FRAME_BYTES ((size_t)TETRIS_H * TETRIS_W * 3)

static void usage(FILE *f) {
    fprintf(f,
            "usage: gen tetris [--episodes N] [--steps T] [--seed S] [--frame-skip K] [--out FILE.h5]\n"
            "       gen tetris --sheet FILE.png [--seed S] [--frame-skip K]\n"
            "       gen tetris --edge-cases FILE.h5\n"
            "       gen tetris --hud-mask FILE.png\n"
            "Records the built-in NES-style Tetris played by a seeded bot: N episodes (default 120)\n"
            "of T steps (default 400), each step holding the buttons for K frames (default 4),\n"
            "observations 256x240 RGB. Default output data/tetris.h5; same seed, same file.\n"
            "--sheet writes a 4x4 contact sheet (title, play, line clear, game over) of one game.\n"
            "--hud-mask writes a 256x240 grey PNG, white on the digit cells of the score, TOP, lines\n"
            "and level, black elsewhere: a train.weight_map that makes the autoencoder draw the digits.\n"
            "--edge-cases writes the fixed edge-case states (empty and full board, a piece at\n"
            "several positions, line clears, pause, game over, title, level palettes) as one\n"
            "episode with zero actions; root attribute frame_names lists them comma-separated.\n"
            "Check an autoencoder on them with ./eval --recon FILE.h5.\n");
}

static long parse_int(const char *opt, const char *v, long lo, long hi) {
    char *end;
    if (!v) die("tetris: %s needs a value", opt);
    long x = strtol(v, &end, 10);
    if (*v == 0 || *end || x < lo || x > hi) die("tetris: %s expects an integer in %ld..%ld, got '%s'", opt, lo, hi, v);
    return x;
}

// A contact sheet of 16 frames of one game started at the title: the title, play at
// several heights, a line clear, the curtain, GAME OVER and the title again.
static int sheet(const char *out, uint64_t seed, int K) {
    enum { MAXS = 40000, N = 16 };
    Tetris *hist = xmalloc(sizeof(Tetris) * MAXS);
    Rng master;
    rng_seed(&master, seed);
    Tetris g;
    TetrisPlayer p;
    tetris_init(&g, rng_u64(&master));
    tetris_player_init(&p, rng_u64(&master));
    int n = 0, back_to_title = -1;
    while (n < MAXS) {
        hist[n++] = g;
        if (g.mode == TETRIS_TITLE && n > 1 && hist[n - 2].mode == TETRIS_GAMEOVER) {
            back_to_title = n - 1;
            break;
        }
        tetris_advance(&g, &p, K);
    }
    // special moments first, then evenly spaced play frames for the rest
    int pick[N], np = 0, best_clear = -1, pause = -1, curtain = -1, over = -1;
    for (int i = 0; i < n; i++) {
        const Tetris *s = &hist[i];
        if (s->mode == TETRIS_PLAY && !s->paused && s->phase == PHASE_CLEAR && s->clear_timer >= 10 &&
            s->clear_timer <= 14 && (best_clear < 0 || s->n_clear > hist[best_clear].n_clear))
            best_clear = i;
        if (s->mode == TETRIS_PLAY && s->paused && pause < 0) pause = i;
        if (s->mode == TETRIS_GAMEOVER && s->curtain >= 30 && s->curtain <= 50 && curtain < 0) curtain = i;
        if (s->mode == TETRIS_GAMEOVER && s->curtain >= TETRIS_CURTAIN_FRAMES && over < 0) over = i;
    }
    pick[np++] = 0;
    int special[5] = {best_clear, pause, curtain, over, back_to_title};
    for (int k = 0; k < 5; k++)
        if (special[k] >= 0) pick[np++] = special[k];
    int play[MAXS / 8], nplay = 0;   // candidate play frames: falling piece, not paused
    for (int i = 0; i < n && nplay < MAXS / 8; i += 4)
        if (hist[i].mode == TETRIS_PLAY && !hist[i].paused && hist[i].phase == PHASE_FALL) play[nplay++] = i;
    int want = N - np;
    for (int k = 0; k < want && nplay > 0; k++) pick[np++] = play[(long)nplay * (2 * k + 1) / (2 * want)];
    while (np < N) pick[np] = pick[np - 1], np++;
    for (int i = 1; i < N; i++)   // time order
        for (int j = i; j > 0 && pick[j] < pick[j - 1]; j--) { int tmp = pick[j]; pick[j] = pick[j - 1]; pick[j - 1] = tmp; }
    int SW = 4 * TETRIS_W, SH = 4 * TETRIS_H;
    uint8_t *img = xmalloc((size_t)SW * SH * 3), *frame = xmalloc(FRAME_BYTES);
    for (int k = 0; k < N; k++) {
        tetris_render(&hist[pick[k]], frame);
        int ox = (k % 4) * TETRIS_W, oy = (k / 4) * TETRIS_H;
        for (int y = 0; y < TETRIS_H; y++)
            memcpy(img + ((size_t)(oy + y) * SW + ox) * 3, frame + (size_t)y * TETRIS_W * 3, TETRIS_W * 3);
    }
    Err err;
    int rc = png_write(out, img, SW, SH, 3, &err);
    free(img), free(frame), free(hist);
    if (rc) die("%s", err.msg);
    fprintf(stderr, "gen tetris: wrote %s (16 of %d steps of one game%s)\n", out, n,
            over >= 0 ? ", through game over" : ", no game over within the limit");
    return 0;
}

// The edge cases of tetris_edge_case() as one episode of N frames (N-1 steps, zero actions),
// their names in the root attribute frame_names. Written as "<out>.part" (the writer's own
// tmp + rename), the attribute added, then renamed to out: never a file without its names.
static int edge_cases(const char *out) {
    int n = tetris_edge_case_count();
    size_t names_cap = (size_t)n * 32 + 1;
    char *names = xcalloc(names_cap, 1), *part = xmalloc(strlen(out) + 8);
    sprintf(part, "%s.part", out);
    remove_stale_temps_of(out);   // what a killed run of this command left
    uint8_t *frame = xmalloc(FRAME_BYTES), zero[NES_BUTTONS] = {0};
    Err err;
    EpisodeWriter *w = episode_writer_open(part, "tetris", NES_ACTION_NAMES, 1, &err);
    if (!w) { free(names), free(part), free(frame); die("%s", err.msg); }
    if (episode_writer_begin(w, TETRIS_H, TETRIS_W, 3, NES_BUTTONS, &err)) goto fail;
    for (int i = 0; i < n; i++) {
        Tetris g;
        char nm[32];
        CHECK(tetris_edge_case(&g, i, nm, sizeof nm) == 0, "edge case %d of %d", i, n);
        tetris_render(&g, frame);
        if (i) strcat(names, ",");
        strcat(names, nm);
        int rc = i + 1 < n ? episode_writer_step(w, frame, zero, 0.f, 0, i + 2 == n, &err)
                           : episode_writer_end(w, frame, &err);
        if (rc) goto fail;
    }
    if (episode_writer_close(w, &err)) { unlink(part); free(names), free(part), free(frame); die("%s", err.msg); }
    hid_t f = h5_open(part, 1, &err);
    int ok = f >= 0 && h5_attr_write_str(f, "/", "frame_names", names, &err) == 0;
    if (f >= 0) h5_close(f);
    if (ok && rename(part, out) != 0) ok = 0, err_set(&err, "cannot write %s: %s", out, strerror(errno));
    if (!ok) { unlink(part); free(names), free(part), free(frame); die("%s", err.msg); }
    fprintf(stderr, "gen tetris: wrote %s: %d edge-case frames (%s)\n", out, n, names);
    free(names), free(part), free(frame);
    return 0;
fail:
    episode_writer_abort(w);
    free(names), free(part), free(frame);
    die("%s", err.msg);
}

// The digit cells of the HUD (data/game_hud.h) as a grey PNG of the native frame's size.
static int hud_mask(const char *out) {
    uint8_t *px = xmalloc((size_t)TETRIS_W * TETRIS_H);
    int n = game_hud_mask(&game_tetris, px);
    CHECK(n > 0, "tetris has no HUD fields");
    Err err;
    int rc = png_write(out, px, TETRIS_W, TETRIS_H, 1, &err);
    free(px);
    if (rc) die("%s", err.msg);
    fprintf(stderr, "gen tetris: wrote %s (%dx%d grey, white on the digit cells of %d number fields)\n", out, TETRIS_W,
            TETRIS_H, n);
    return 0;
}

int gen_tetris_main(int argc, char **argv) {
    int episodes = game_tetris.episodes, steps = game_tetris.steps, K = game_tetris.frame_skip;
    uint64_t seed = GAME_SEED;
    const char *out = "data/tetris.h5", *sheet_out = NULL, *edge_out = NULL, *mask_out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--episodes")) episodes = (int)parse_int(a, v, 1, 1000000), i++;
        else if (!strcmp(a, "--steps")) steps = (int)parse_int(a, v, 1, 10000000), i++;
        else if (!strcmp(a, "--seed")) seed = (uint64_t)parse_int(a, v, 0, 0x7fffffffffffffffL), i++;
        else if (!strcmp(a, "--frame-skip")) K = (int)parse_int(a, v, 1, 1000), i++;
        else if (!strcmp(a, "--out")) { if (!v) die("tetris: --out needs a value"); out = v, i++; }
        else if (!strcmp(a, "--sheet")) { if (!v) die("tetris: --sheet needs a value"); sheet_out = v, i++; }
        else if (!strcmp(a, "--edge-cases")) { if (!v) die("tetris: --edge-cases needs a value"); edge_out = v, i++; }
        else if (!strcmp(a, "--hud-mask")) { if (!v) die("tetris: --hud-mask needs a value"); mask_out = v, i++; }
        else die("tetris: unknown option '%s' (see gen tetris --help)", a);
    }
    if (!!sheet_out + !!edge_out + !!mask_out > 1) die("tetris: --sheet, --edge-cases and --hud-mask: give one of them");
    if (mask_out) return hud_mask(mask_out);
    if (edge_out) return edge_cases(edge_out);
    if (sheet_out) return sheet(sheet_out, seed, K);
    Err err;
    signals_install();
    if (game_record(&game_tetris, out, episodes, steps, seed, K, signals_stop_requested, &err)) die("%s", err.msg);
    return 0;
}
