/*
 * play_check.c - ./play --check: roadmap 1.4's criteria for the interactive emulator,
 * measured on a run, as a Markdown report (stdout and check.md) with its files in --out DIR
 * (default results/<run>/play_check/; a run of several games: --game NAME, the game measured, on its
 * own file with its game column set, into results/<run>/<game>/play_check/). Every number is measured
 * here; nothing is tuned to pass.
 *
 *   frame rate   the batch-1 loop (encode once, then step + decode a frame) at --fps 0 over
 *                the 1,800 steps below, and 90 steps at 30 frames/s through the frame clock:
 *                achieved rate, frame-interval sd, deadlines missed
 *   direction    ./eval's direction test (evaluation/emulation_eval.h) through the session's
 *                emulator at T = 0: from up to 20 real start frames of the run's test episodes
 *                with a piece in the air that stays in the air for k steps in the engine,
 *                LEFT / RIGHT / no button held for k steps; the motion of the changed pixels
 *                inside the well (centroid of what arrived minus centroid of what left) must go
 *                half a cell left / right / down (gravity). The built-in engine, fed the same
 *                buttons, is the reference. k = 4 and k = ceil(48 / frame_skip) (one cell of
 *                gravity at level 0).
 *   new piece    ./eval's spawn test (emulation_eval.h) at that k: from up to 20 real frames with
 *                no piece in play where the engine drops a new one within k / 2 steps, no button
 *                for k steps: is the engine's piece drawn at step k? (the game goes on)
 *   60 s         1,800 steps of --policy random (seed --seed) from the default start frame: each
 *                frame's SSIM to its nearest real frame by L1 among --check-frames frames spread
 *                evenly over the run's data file. Verdict "no downward trend" when the mean of the
 *                last 10 s is at least the mean of the first 10 s minus CHECK_TREND_TOL, "but frozen"
 *                when the model's motion (mean L1 change a step) is below CHECK_FROZEN of the
 *                engine's (a still picture keeps its nearest-real SSIM); also the
 *                least-squares slope per minute. The game's engine (a built-in game's recording as
 *                start) fed the same buttons from the start frame's state is the reference: what
 *                a perfect emulator would score. curve.png: the curves; nearest.csv: every step.
 *   replay       the same 1,800 buttons again at T = 0: identical frames, bit for bit (max |diff|).
 *                VAE dynamics: twice more at T = 1 with two seeds: how much they differ from T = 0
 *                and from each other (mean L1), and their nearest-real SSIM (coherent: its mean
 *                within CHECK_TREND_TOL of T = 0's).
 * Also random.gif: the 60 s at scale 2 (engine.gif: the engine's).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/clock.h"
#include "base/strbuf.h"
#include "base/threads.h"   // omp_threads
#include "data/dataset.h"
#include "data/gif.h"
#include "evaluation/emulation_eval.h"
#include "evaluation/game_trace.h"
#include "evaluation/metrics.h"
#include "evaluation/picture.h"
#include "src/play.h"
#include "src/run.h"   // mkdir_p, write_file_atomic

#define CHECK_STEPS 1800        // 60 s at 30 steps/s
#define CHECK_RATE_STEPS 90     // 3 s through the frame clock
#define CHECK_TREND_TOL 0.02    // SSIM: last 10 s >= first 10 s - this; T = 1 mean >= T = 0 mean - this
#define CHECK_FROZEN 0.25       // the model's motion below this share of the engine's: a frozen emulator
#define CHECK_DIR_STARTS 20

// The real frames searched for the nearest one: n frames [n][F] uint8, spread over the file.
typedef struct {
    int n;
    size_t F;
    const uint8_t *const *px;   // [n] pointers into the dataset
} RealFrames;

static void real_frames(RealFrames *r, const Dataset *d, long want) {
    r->n = (int)(want < d->n_frames ? want : d->n_frames);
    r->F = (size_t)d->C * d->H * d->W;
    const uint8_t **px = xmalloc((size_t)r->n * sizeof *px);
    for (int i = 0; i < r->n; i++) px[i] = d->frames + (size_t)((double)i * d->n_frames / r->n) * r->F;
    r->px = px;
}

// For each of n frames [n][F] (floats): the SSIM to its nearest real frame by L1 (ssim[n]),
// and that L1 (l1[n]). Parallel over frames.
static void nearest_ssim(const RealFrames *r, const float *frames, int n, int C, int H, int W, double *ssim,
                         double *l1) {
    const size_t F = r->F;
#pragma omp parallel
    {
        SsimWork wk;
        ssim_work_init(&wk, H, W);
        uint8_t *q = xmalloc(F);
        float *best = xmalloc_floats(F);
#pragma omp for schedule(dynamic, 8)
        for (int i = 0; i < n; i++) {
            const float *f = frames + (size_t)i * F;
            for (size_t j = 0; j < F; j++) q[j] = (uint8_t)lrintf((f[j] < 0 ? 0 : f[j] > 1 ? 1 : f[j]) * 255.0f);
            long bsum = -1;
            int bi = 0;
            for (int m = 0; m < r->n; m++) {
                const uint8_t *p = r->px[m];
                long sum = 0;
                for (size_t j = 0; j < F; j++) sum += abs((int)q[j] - (int)p[j]);
                if (bsum < 0 || sum < bsum) bsum = sum, bi = m;
            }
            for (size_t j = 0; j < F; j++) best[j] = r->px[bi][j] / 255.0f;
            ssim[i] = metric_ssim(f, best, C, H, W, &wk);
            l1[i] = metric_l1(f, best, F);
        }
        free(q), free(best);
        ssim_work_free(&wk);
    }
}

// One rollout of the session from its start frame with buttons [steps][A]: frames [steps+1][F].
static double rollout(PlaySession *s, const uint8_t *buttons, int steps, float *frames, double temperature,
                      uint64_t seed) {
    const size_t F = (size_t)s->C * s->H * s->W;
    play_set_temperature(s, temperature);
    rng_seed(&s->eps_rng, seed);
    play_reset(s);
    s->ctx.kept = s->ctx.cells = 0;   // the deadband's count, this rollout's
    double t0 = now_seconds();
    memcpy(frames, s->frame, F * sizeof(float));
    for (int k = 0; k < steps; k++) {
        play_step(s, buttons + (size_t)k * s->A);
        memcpy(frames + (size_t)(k + 1) * F, s->frame, F * sizeof(float));
    }
    return steps / (now_seconds() - t0);
}

static double mean_of(const double *x, int a, int b) {   // mean of x[a..b)
    double m = 0;
    for (int i = a; i < b; i++) m += x[i];
    return b > a ? m / (b - a) : NAN;
}

// Least-squares slope of y against i / 30 s, per minute.
static double slope_per_minute(const double *y, int n) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        double x = i / 30.0 / 60.0;
        sx += x, sy += y[i], sxx += x * x, sxy += x * y[i];
    }
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

typedef struct {
    char dir[PATH_MAX];
    char data[CFG_STR];   // the data file measured against (a run of several games: the game's)
    PlaySession s;
    Dataset ds;
    int *test, n_test;
    GameTrace gt;
    RealFrames rf;
    uint8_t *buttons;   // [CHECK_STEPS][A] the random policy's
    float *f0, *f1;     // [CHECK_STEPS+1][F] rollouts
    double *ssim0, *l10, *ssim1, *l11;
    double kept;        // share of latent cells the deadband kept along the 60 s
    uint64_t seed;
    int engine;         // the 60 s of the game's engine were measured (engine.gif)
} Check;

// The run, its data and test episodes, the game trace, the real frames, the random buttons.
static void check_open(Check *c, const PlayOptions *o) {
    Err err = {{0}};
    PlayOpen op = o->open;
    op.temperature = 0;
    play_open(&c->s, &op);   // a run of several games: --game names the one measured (its file, its column)
    c->seed = o->open.seed;
    const EmuRun *R = &c->s.R;
    char sub[80] = "";   // a run of several games: results/<run>/<game>/play_check
    if (c->s.n_games > 0) snprintf(sub, sizeof sub, "%s/", c->s.games[c->s.game]);
    int n = o->check_out ? snprintf(c->dir, sizeof c->dir, "%s", o->check_out)
                         : snprintf(c->dir, sizeof c->dir, "results/%s/%splay_check", R->run_name, sub);
    if (n < 0 || (size_t)n >= sizeof c->dir) die("--out: path too long");
    Preprocess pp = {R->cfg.data.height, R->cfg.data.width, R->cfg.data.channels};
    char files[CFG_MAX_FILES][CFG_STR];
    const int n_files = cfg_data_files(&R->cfg, files);
    snprintf(c->data, sizeof c->data, "%s", files[c->s.game]);
    if (!readable(c->data))
        die("%s: data.path = %s is not readable here: run from the folder ./train ran in", R->run_dir, R->cfg.data.path);
    // one game's file; a run of several: its rows carry the game's column, as ./eval --game reads it
    if (dataset_load_games(&c->ds, files, n_files, n_files > 1 ? c->s.game : -1, &pp, R->cfg.data.accept_odd, &err) < 0)
        die("%s", err.msg);
    Split sp;
    if (dataset_split(&sp, c->ds.n_episodes, R->cfg.data.test_episodes, R->cfg.data.val_split, R->cfg.run.seed, &err) < 0)
        die("%s: %s", c->data, err.msg);
    c->n_test = sp.n_test;
    c->test = xmalloc((size_t)(sp.n_test + 1) * sizeof(int));
    memcpy(c->test, sp.test, (size_t)sp.n_test * sizeof(int));
    split_free(&sp);
    if (mkdir_p(c->dir) != 0) die("--out %s: cannot create the folder: %s", c->dir, strerror(errno));
    game_trace_build(&c->gt, &c->ds, c->test, c->n_test);
    real_frames(&c->rf, &c->ds, o->check_frames);
    Policy pol;
    policy_init(&pol, &c->s, POLICY_RANDOM, CHECK_STEPS, o->open.seed);
    c->buttons = xmalloc((size_t)CHECK_STEPS * c->s.A);
    for (int k = 0; k < CHECK_STEPS; k++) policy_buttons(&pol, k, c->buttons + (size_t)k * c->s.A, c->s.A);
    policy_free(&pol);
    size_t F = (size_t)c->s.C * c->s.H * c->s.W;
    c->f0 = xmalloc_floats((CHECK_STEPS + 1) * F), c->f1 = xmalloc_floats((CHECK_STEPS + 1) * F);
    c->ssim0 = xmalloc((CHECK_STEPS + 1) * sizeof(double)), c->l10 = xmalloc((CHECK_STEPS + 1) * sizeof(double));
    c->ssim1 = xmalloc((CHECK_STEPS + 1) * sizeof(double)), c->l11 = xmalloc((CHECK_STEPS + 1) * sizeof(double));
}

static void check_close(Check *c) {
    free(c->f0), free(c->f1), free(c->ssim0), free(c->l10), free(c->ssim1), free(c->l11);
    free(c->buttons), free((void *)c->rf.px), free(c->test);
    game_trace_free(&c->gt);
    dataset_free(&c->ds);
    play_close(&c->s);
}

// 90 steps through the frame clock at 30 frames/s: achieved rate, sd of the intervals, late.
static void check_clock(Check *c, StrBuf *b) {
    PlaySession *s = &c->s;
    play_set_temperature(s, 0);
    play_reset(s);
    FrameClock clk;
    clock_start(&clk, 30);
    double prev = now_seconds(), sum = 0, sq = 0;
    for (int k = 0; k < CHECK_RATE_STEPS; k++) {
        play_step(s, c->buttons + (size_t)k * s->A);
        clock_wait(&clk);
        double now = now_seconds(), dt = now - prev;
        prev = now, sum += dt, sq += dt * dt;
    }
    double m = sum / CHECK_RATE_STEPS, sd = sqrt(fmax(0, sq / CHECK_RATE_STEPS - m * m));
    sb_printf(b, "| headless, --fps 30, %d steps | %.1f (frame interval %.2f ms, sd %.2f ms; %ld late) |\n",
              CHECK_RATE_STEPS, clock_rate(&clk), 1e3 * m, 1e3 * sd, clk.late);
}

static void check_direction(Check *c, int frame_skip, StrBuf *b) {
    sb_printf(b, "\n## LEFT / RIGHT / gravity (the built-in engine as reference, T = 0)\n\n");
    if (!c->gt.available) {
        sb_printf(b, "Not measurable: %s\n", c->gt.reason);
        return;
    }
    sb_printf(b, "| held | k steps | starts | model moves the piece that way | engine |\n|---|---:|---:|---:|---:|\n");
    int ks[2] = {4, (48 + frame_skip - 1) / frame_skip};
    for (int i = 0; i < 2; i++) {
        EmuResult er;
        memset(&er, 0, sizeof er);
        emu_direction_test(&c->s.em, &c->ds, &c->gt, c->test, c->n_test, ks[i], CHECK_DIR_STARTS, &er);
        if (!er.dir_done) {
            sb_printf(b, "| all | %d | 0 | %s | |\n", ks[i], er.dir_reason);
            continue;
        }
        static const char *const held[EMU_DIRECTIONS] = {"LEFT", "RIGHT", "none (gravity)"};
        for (int d = 0; d < er.dir_rows; d++)
            sb_printf(b, "| %s | %d | %d | %d/%d (%.0f%%) | %d/%d |\n", held[d], ks[i], er.dir_n, er.dir_model[d],
                      er.dir_n, 100.0 * er.dir_model[d] / er.dir_n, er.dir_engine[d], er.dir_n);
    }
    EmuResult er;
    memset(&er, 0, sizeof er);
    emu_spawn_test(&c->s.em, &c->ds, &c->gt, c->test, c->n_test, ks[1], CHECK_DIR_STARTS, &er);
    sb_printf(b, "\n## A new piece: the game goes on (the built-in engine as reference, T = 0)\n\n");
    if (!er.spawn_done) {
        sb_printf(b, "Not measurable: %s\n", er.spawn_reason);
        return;
    }
    sb_printf(b, "From %d real frames with no piece in play where the engine, no button held, drops a new one "
                 "within %d steps (of %d such frames in the test episodes; a piece has just locked), %d steps with no "
                 "button: is the engine's piece drawn at step %d (the piece measure)?\n\n| held | k steps | starts | "
                 "model draws the new piece | engine |\n|---|---:|---:|---:|---:|\n| none | %d | %d | %d/%d (%.0f%%) | "
                 "%d/%d |\n", er.spawn_n, ks[1] / 2, er.spawn_eligible, ks[1], ks[1], ks[1], er.spawn_n,
              er.spawn_model, er.spawn_n, 100.0 * er.spawn_model / er.spawn_n, er.spawn_engine, er.spawn_n);
}

// Mean L1 change per step between consecutive real frames of the test episodes.
static double real_change(const Check *c) {
    const size_t F = c->rf.F;
    double sum = 0;
    long n = 0;
    for (int i = 0; i < c->n_test; i++) {
        int e = c->test[i];
        for (int64_t t = 1; t < dataset_ep_frames(&c->ds, e); t++, n++) {
            const uint8_t *p = dataset_frame_u8(&c->ds, e, t - 1), *q = dataset_frame_u8(&c->ds, e, t);
            long d = 0;
            for (size_t j = 0; j < F; j++) d += abs((int)q[j] - (int)p[j]);
            sum += d / (255.0 * (double)F);
        }
    }
    return n ? sum / n : NAN;
}

// frames [n][C,H,W] as DIR/name, an animated GIF at scale 2.
static void write_gif(Check *c, const char *name, const float *frames, int n, Err *err) {
    PlaySession *s = &c->s;
    const size_t F = (size_t)s->C * s->H * s->W;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/%s", c->dir, name);
    GifWriter *g = gif_open(path, s->W * 2, s->H * 2, s->C, 3, err);
    if (!g) die("%s", err->msg);
    uint8_t *px = xmalloc(F * 4);
    for (int i = 0; i < n; i++) {
        memcpy(s->frame, frames + (size_t)i * F, F * sizeof(float));
        play_pixels(s, 2, px);
        if (gif_add(g, px, err) < 0) die("%s", err->msg);
    }
    free(px);
    if (gif_close(g, err) < 0) die("%s", err->msg);
}

// The built-in engine from the start frame's state, fed the same buttons: frames [n][F] of what
// a perfect emulator would draw. 0 when there is none (a picture as start frame, another file
// than the run's, a recording that is not a built-in game's), with why in why.
static int engine_minute(Check *c, float *frames, int n, char *why, size_t cap) {
    const PlaySession *s = &c->s;
    if (s->start_ep < 0 || strcmp(s->start_file, c->data) != 0) {
        snprintf(why, cap, "the start frame is not from %s", c->data);
        return 0;
    }
    GameTrace gt;
    int e = s->start_ep;
    game_trace_build(&gt, &c->ds, &e, 1);
    const void *st0 = gt.available ? game_trace_state(&gt, e, s->start_t) : NULL;
    if (!st0) {
        snprintf(why, cap, "%s", gt.available ? "no game state at the start frame" : gt.reason);
        game_trace_free(&gt);
        return 0;
    }
    const size_t F = (size_t)s->C * s->H * s->W;
    uint8_t *st = xmalloc(gt.game->state_size);
    memcpy(st, st0, gt.game->state_size);
    for (int i = 0; i < n; i++) {
        if (i) gt.game->step(st, c->buttons + (size_t)(i - 1) * s->A, gt.K);
        game_trace_render(&gt, st, 0, frames + (size_t)i * F);
    }
    free(st);
    game_trace_free(&gt);
    return 1;
}

static double motion(const float *f, int n, size_t F) {   // mean L1 change per step
    double change = 0;
    for (int i = 1; i < n; i++) change += metric_l1(f + (size_t)i * F, f + (size_t)(i - 1) * F, F);
    return change / (n - 1);
}

// One row of the minute's table, its verdict "no downward trend" last; ref_move > 0: the
// engine's motion, against which a row that holds the trend with less than CHECK_FROZEN of it
// is called frozen.
static void minute_row(StrBuf *b, const char *what, const double *ssim, const double *l1, int n, double move,
                       double ref_move) {
    double first = mean_of(ssim, 0, 300), last = mean_of(ssim, n - 300, n), lo = 1;
    for (int i = 0; i < n; i++) lo = fmin(lo, ssim[i]);
    int ok = last >= first - CHECK_TREND_TOL;
    char verdict[96];
    if (ok && ref_move > 0 && move < CHECK_FROZEN * ref_move)
        snprintf(verdict, sizeof verdict, "yes, but **frozen** (motion %.0f%% of the engine's)", 100 * move / ref_move);
    else snprintf(verdict, sizeof verdict, "%s", ok ? "yes" : "**no**");
    sb_printf(b, "| %s | %.4f | %.4f | %+.4f | %.4f | %.4f | %.5f | %s |\n", what, first, last, slope_per_minute(ssim, n),
              lo, mean_of(l1, 0, n), move, verdict);
}

// The 60 s: nearest-real SSIM along the random run (and along the engine's, fed the same
// buttons), its trend and motion, curve.png, nearest.csv, random.gif.
static void check_minute(Check *c, double rate, StrBuf *b, Err *err) {
    PlaySession *s = &c->s;
    const int n = CHECK_STEPS + 1;
    const size_t F = (size_t)s->C * s->H * s->W;
    nearest_ssim(&c->rf, c->f0, n, s->C, s->H, s->W, c->ssim0, c->l10);
    char why[1500];
    int eng = c->engine = engine_minute(c, c->f1, n, why, sizeof why);   // c->f1 is free until check_replay
    if (eng) nearest_ssim(&c->rf, c->f1, n, s->C, s->H, s->W, c->ssim1, c->l11);
    sb_printf(b, "\n## 60 s of --policy random (%d steps, seed %llu, T = 0; %.0f frames/s at --fps 0)\n\n", CHECK_STEPS,
              (unsigned long long)c->seed, rate);
    sb_printf(b, "SSIM of each frame to its nearest real frame by L1 among %d frames of %s; motion: the mean L1 "
                 "change per step (a frozen emulator would pass the trend: below %.0f%% of the engine's motion the "
                 "verdict says so):\n\n", c->rf.n, c->data, 100 * CHECK_FROZEN);
    sb_printf(b, "| frames | first 10 s | last 10 s | slope per minute | lowest | mean L1 to nearest | motion | "
                 "no downward trend (last >= first - %.2f) |\n|---|---:|---:|---:|---:|---:|---:|---|\n", CHECK_TREND_TOL);
    const double eng_move = eng ? motion(c->f1, n, F) : 0;
    minute_row(b, "the model", c->ssim0, c->l10, n, motion(c->f0, n, F), eng_move);
    if (eng) minute_row(b, "the game's engine, same buttons (reference)", c->ssim1, c->l11, n, eng_move, 0);
    else sb_printf(b, "| the game's engine (reference) | | | | | | | not measurable: %s |\n", why);
    sb_printf(b, "\nBetween consecutive real frames of the %d test episodes (the recorder's bot playing): motion %.5f.",
              c->n_test, real_change(c));
    if (s->ctx.loop.deadband > 0)
        sb_printf(b, " The latent deadband (%g) kept %.1f%% of the latent cells per step.", s->ctx.loop.deadband,
                  100 * c->kept);
    sb_printf(b, "\n");
    char path[PATH_MAX + 32];
    double *x = xmalloc((size_t)n * sizeof(double));
    for (int i = 0; i < n; i++) x[i] = i / 30.0;
    PlotSeries ser[2] = {{"the model", x, c->ssim0, n}, {"the game's engine, same buttons", x, c->ssim1, n}};
    PlotSpec ps = {"./play --check: 60 s of --policy random", "seconds (30 steps/s)", "SSIM to the nearest real frame",
                   0, 0, 0};
    snprintf(path, sizeof path, "%s/curve.png", c->dir);
    if (plot_lines_png(path, &ps, ser, eng ? 2 : 1, err) < 0) die("%s", err->msg);
    free(x);
    StrBuf csv = {0};
    sb_printf(&csv, "step,time_s,ssim_nearest,l1_nearest%s\n", eng ? ",engine_ssim_nearest,engine_l1_nearest" : "");
    for (int i = 0; i < n; i++) {
        sb_printf(&csv, "%d,%.4f,%.6f,%.6f", i, i / 30.0, c->ssim0[i], c->l10[i]);
        sb_printf(&csv, eng ? ",%.6f,%.6f\n" : "\n", c->ssim1[i], c->l11[i]);
    }
    snprintf(path, sizeof path, "%s/nearest.csv", c->dir);
    if (write_file_atomic(path, csv.s, csv.n, err) < 0) die("%s", err->msg);
    free(csv.s);
    write_gif(c, "random.gif", c->f0, n, err);
    if (eng) write_gif(c, "engine.gif", c->f1, n, err);
}

static double frames_l1(const float *a, const float *b, size_t n, double *maxdiff) {
    double sum = 0, mx = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        sum += d, mx = fmax(mx, d);
    }
    if (maxdiff) *maxdiff = mx;
    return sum / (double)n;
}

// T = 0 replays the buttons bit for bit; a VAE at T = 1 varies and stays coherent.
static void check_replay(Check *c, StrBuf *b) {
    PlaySession *s = &c->s;
    const int n = CHECK_STEPS + 1;
    const size_t F = (size_t)s->C * s->H * s->W, NF = (size_t)n * F;
    rollout(s, c->buttons, CHECK_STEPS, c->f1, 0, c->seed);
    double mx;
    frames_l1(c->f0, c->f1, NF, &mx);
    int same = memcmp(c->f0, c->f1, NF * sizeof(float)) == 0;
    sb_printf(b, "\n## Replay and temperature (the same %d buttons)\n\n| run | against | mean L1 | max abs diff | "
                 "nearest-real SSIM (mean) | verdict |\n|---|---|---:|---:|---:|---|\n", CHECK_STEPS);
    sb_printf(b, "| T = 0 again | T = 0 | %.3g | %.3g | %.4f | %s |\n", frames_l1(c->f0, c->f1, NF, NULL), mx,
              mean_of(c->ssim0, 0, n), same ? "identical, bit for bit" : "**differs**");
    if (!s->R.stochastic) {
        sb_printf(b, "| T = 1 | | | | | not applicable: %s has deterministic dynamics (dynamics.type = "
                     "deterministic, hypotheses = 1) |\n", s->R.run_dir);
        return;
    }
    rollout(s, c->buttons, CHECK_STEPS, c->f1, 1, c->seed + 1);
    nearest_ssim(&c->rf, c->f1, n, s->C, s->H, s->W, c->ssim1, c->l11);
    double m1 = mean_of(c->ssim1, 0, n), m0 = mean_of(c->ssim0, 0, n);
    double v0 = frames_l1(c->f0, c->f1, NF, &mx);
    int coherent = m1 >= m0 - CHECK_TREND_TOL;
    sb_printf(b, "| T = 1, seed %llu | T = 0 | %.4f | %.3g | %.4f | %s, %s |\n", (unsigned long long)c->seed + 1, v0, mx,
              m1, v0 > 0 ? "varies" : "**does not vary**", coherent ? "coherent" : "**less coherent**");
    float *f2 = c->f0;   // T = 0's frames are no longer needed
    rollout(s, c->buttons, CHECK_STEPS, f2, 1, c->seed + 2);
    double v12 = frames_l1(c->f1, f2, NF, &mx);
    sb_printf(b, "| T = 1, seed %llu | T = 1, seed %llu | %.4f | %.3g | | %s |\n", (unsigned long long)c->seed + 2,
              (unsigned long long)c->seed + 1, v12, mx, v12 > 0 ? "samples differ" : "**samples equal**");
    sb_printf(b, "\nCoherent: the T = 1 run's mean nearest-real SSIM is at least T = 0's minus %.2f.\n",
              CHECK_TREND_TOL);
}

int play_check(const PlayOptions *o) {
    Err err = {{0}};
    double t0 = now_seconds();
    Check c;
    memset(&c, 0, sizeof c);
    check_open(&c, o);
    StrBuf b = {0};
    char kind[32];
    if (c.s.R.dyn_hyp > 1) snprintf(kind, sizeof kind, "%d hypotheses", c.s.R.dyn_hyp);
    else snprintf(kind, sizeof kind, "%s", c.s.R.dyn_vae ? "vae" : "deterministic");
    sb_printf(&b, "# ./play --check: %s", c.s.R.run_dir);
    if (c.s.n_games > 0)
        sb_printf(&b, ", game %s (%d of %d: its file, its game column set at every step)", c.s.games[c.s.game],
                  c.s.game + 1, c.s.n_games);
    sb_printf(&b, "\n\nStart frame %s; autoencoder %s, dynamics %s (%s).", c.s.start_desc, c.s.R.ae_path,
              c.s.R.dyn_path, kind);
    if (c.s.ctx.loop.compose > 0)
        sb_printf(&b, " Frames composed (compose %g): the start frame's pixels where the prediction did not change.",
                  c.s.ctx.loop.compose);
    if (c.s.ctx.loop.deadband > 0)
        sb_printf(&b, " Latent deadband %g (dynamics.deadband): after each step a latent cell whose change has an RMS "
                      "below it keeps its value.", c.s.ctx.loop.deadband);
    if (c.s.ctx.loop.reencode > 0)
        sb_printf(&b, " Re-encoded every %d steps (dynamics.reencode): the latent becomes the encoding of the frame as drawn.",
                  c.s.ctx.loop.reencode);
    sb_printf(&b, "\n\n");
    double rate = rollout(&c.s, c.buttons, CHECK_STEPS, c.f0, 0, c.seed);
    c.kept = c.s.ctx.cells ? (double)c.s.ctx.kept / (double)c.s.ctx.cells : 0;
    sb_printf(&b, "## Frame rate (batch 1, %d threads)\n\n| loop | frames/s |\n|---|---:|\n", omp_threads());
    sb_printf(&b, "| step + decode, --fps 0, %d steps | %.0f |\n", CHECK_STEPS, rate);
    check_clock(&c, &b);
    int K = 4;
    EpisodeFile ef;
    if (episode_file_open_odd(&ef, c.data, c.s.R.cfg.data.accept_odd, &err) == 0) {
        if (ef.frame_skip > 0) K = (int)ef.frame_skip;
        episode_file_close(&ef);
    }
    check_direction(&c, K, &b);
    check_minute(&c, rate, &b, &err);
    check_replay(&c, &b);
    sb_printf(&b, "\nFiles in %s/: check.md (this report), curve.png, nearest.csv, random.gif (the model's 60 s)%s.\n", c.dir,
              c.engine ? ", engine.gif (the engine's)" : "");
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/check.md", c.dir);
    if (write_file_atomic(path, b.s, b.n, &err) < 0) die("%s", err.msg);
    fputs(b.s, stdout);
    fprintf(stderr, "play --check: %.1f s\n", now_seconds() - t0);
    free(b.s);
    check_close(&c);
    return 0;
}
