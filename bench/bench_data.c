/*
 * bench_data.c - how fast nemu makes and loads training data, next to how fast training
 * consumes it (bench/run.sh prints the ratios to ae80_train_samples_per_s):
 *   gen_tetris_frames_per_s        the full recorder, `./gen tetris` itself (game_record):
 *                                  bot + game + 256x240 render + gzip HDF5 written to /tmp,
 *                                  per observation row written (warm-up frames included)
 *   gen_tetris_game_frames_per_s   the same episodes played and rendered without the file:
 *                                  bot + game + render only, per recorded frame
 *   load_preprocess_frames_per_s   dataset_load of that 256x240 RGB gzip file (~2000 frames)
 *                                  to 80x80 grey (decompress + luma + resize), all threads and 1
 * CSV rows `name,value,unit,threads` on stdout (best repeat; `name_median` the median), after
 * one untimed warm-up run each. About 10 s (`bench_data quick`: fewer repeats).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "data/dataset.h"
#include "data/game.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/clock.h"
#include "src/run.h"   // remove_tree

#define EPISODES 10
#define STEPS 200       // 10 x 201 = 2010 frames
#define FRAME_SKIP 4
#define SEED 5
#define MAX_REPS 16

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

// Rates from times t[n] (seconds per `per` units): best and median.
static void row(const char *name, double per, double *t, int n, const char *unit, int threads) {
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    printf("%s,%.6g,%s,%d\n", name, per / t[0], unit, threads);
    printf("%s_median,%.6g,%s,%d\n", name, per / t[n / 2], unit, threads);
    fflush(stdout);
}

// ./gen tetris --episodes E --steps T --seed S --out path, with its progress lines silenced.
static double time_recorder(const char *path) {
    fflush(stderr);
    int saved = dup(2), null = open("/dev/null", O_WRONLY);
    if (saved < 0 || null < 0) die("cannot redirect stderr");
    dup2(null, 2);
    close(null);
    Err err;
    double t0 = now_seconds();
    int rc = game_record(&game_tetris, path, EPISODES, STEPS, SEED, FRAME_SKIP, NULL, &err);
    double dt = now_seconds() - t0;
    dup2(saved, 2);
    close(saved);
    if (rc != 0) die("gen tetris failed writing %s: %s", path, err.msg);
    return dt;
}

// The recorder's episodes (the same seeds, warm-up and steps as game_record) played and
// rendered, nothing written. Returns seconds; *sink keeps the renders from being optimised out.
static double time_game(uint8_t *frame, unsigned *sink) {
    const GameDef *g = &game_tetris;
    void *st = xmalloc(g->state_size);
    uint8_t buttons[64];
    int64_t attrs[16];
    Rng master;
    rng_seed(&master, SEED);
    double t0 = now_seconds();
    for (int e = 0; e < EPISODES; e++) {
        g->start(st, &master, FRAME_SKIP, attrs);
        g->render(st, frame);
        for (int t = 0; t < STEPS; t++) {
            g->bot_step(st, FRAME_SKIP, buttons);
            g->render(st, frame);
            *sink += frame[(size_t)t * 997 % ((size_t)g->H * g->W * g->C)];
        }
    }
    double dt = now_seconds() - t0;
    free(st);
    return dt;
}

static double time_load(const char *path, int64_t *frames) {
    Dataset d;
    Err err;
    Preprocess pp = {80, 80, 1};
    double t0 = now_seconds();
    if (dataset_load(&d, path, &pp, &err) < 0) die("%s", err.msg);
    double dt = now_seconds() - t0;
    *frames = d.n_frames;
    dataset_free(&d);
    return dt;
}

int main(int argc, char **argv) {
    set_progname(argv[0]);
    int quick = argc > 1 && !strcmp(argv[1], "quick");
    int reps = quick ? 2 : 3;
#ifdef _OPENMP
    int nt = omp_get_max_threads();
#else
    int nt = 1;
#endif
    char dir[] = "/tmp/nemu_bench_data_XXXXXX";
    if (!mkdtemp(dir)) die("cannot create a folder in /tmp");
    char path[64];
    snprintf(path, sizeof path, "%s/gen.h5", dir);
    double frames_written = (double)EPISODES * (STEPS + 1), t[MAX_REPS];

    time_recorder(path);   // warm-up (page cache, HDF5 library state)
    for (int i = 0; i < reps; i++) t[i] = time_recorder(path);
    row("gen_tetris_frames_per_s", frames_written, t, reps, "frames/s", 1);

    uint8_t *frame = xmalloc((size_t)game_tetris.H * game_tetris.W * game_tetris.C);
    unsigned sink = 0;
    time_game(frame, &sink);
    for (int i = 0; i < reps; i++) t[i] = time_game(frame, &sink);
    row("gen_tetris_game_frames_per_s", (double)EPISODES * STEPS, t, reps, "frames/s", 1);
    free(frame);

    int64_t n = 0;
    int tlist[2] = {nt, 1};
    for (int k = 0; k < (nt > 1 ? 2 : 1); k++) {
#ifdef _OPENMP
        omp_set_num_threads(tlist[k]);
#endif
        time_load(path, &n);
        for (int i = 0; i < reps; i++) t[i] = time_load(path, &n);
        row("load_preprocess_frames_per_s", (double)n, t, reps, "frames/s", tlist[k]);
    }
    fprintf(stderr, "bench_data: %lld frames of 256x240 RGB (gzip), %d repeats; render checksum %u\n", (long long)n,
            reps, sink & 1);
    remove_tree(dir);
    return 0;
}
