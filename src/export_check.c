/*
 * export_check.c - ./export --check LIB.so: an exported emulator, compiled as a shared object,
 * against nemu's own float model of the same run, on the run's held-out test episodes:
 *
 *   round trip  the compiled-in start (the first test episode's first frame) stepped with that
 *               episode's recorded buttons for N steps, both ways: max |exported - nemu| over
 *               every pixel of every step's frame (float: ~1e-6)
 *   decoder     nemu's latent of each start frame decoded both ways: max |diff|, SSIM
 *   encoder     (a file exported with --encoder) each start frame encoded both ways: max |diff|
 *   rollouts    ./eval's open-loop rollouts (5 seeded start points per episode, nemu's encoder
 *               for step 0) with the exported dynamics and decoder: SSIM and L1 against the
 *               true frames beside nemu's own, and the difference between the two
 *   speed       decoder frames/s and dynamics steps/s of the exported code, and nemu's own
 *               decoder's at batch 1, per CPU second of this thread (a busy machine does not
 *               halve it)
 * The last line, "result ...", holds the numbers as key=value for scripts and tests.
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/export.h"
#include "evaluation/metrics.h"   // metrics_batch: L1, SSIM, PSNR
#include "evaluation/rollout.h"   // select_starts
#include "base/alloc.h"

typedef struct {
    void (*init)(void *, unsigned long long);
    void (*step)(void *, const unsigned char *);
    void (*frame)(void *, float *);
    void (*set_latent)(void *, const float *);
    void (*get_latent)(const void *, float *);
    void (*encode)(void *, const float *);   // NULL: exported without --encoder
    size_t (*state_bytes)(void);
    void *state;
} Exported;

static void *sym(void *h, const char *name, const char *fn, const char *lib) {
    char s[128];
    snprintf(s, sizeof s, "%s_%s", name, fn);
    void *p = dlsym(h, s);
    if (!p) die("--check %s: no symbol %s (give the --name it was exported with)", lib, s);
    return p;
}

static void open_exported(Exported *e, const char *lib, const char *name) {
    char path[1100];
    snprintf(path, sizeof path, "%s%s", strchr(lib, '/') ? "" : "./", lib);   // dlopen searches without a '/'
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) die("--check %s: %s", lib, dlerror());
    *(void **)&e->init = sym(h, name, "init", lib);
    *(void **)&e->step = sym(h, name, "step", lib);
    *(void **)&e->frame = sym(h, name, "frame", lib);
    *(void **)&e->set_latent = sym(h, name, "set_latent", lib);
    *(void **)&e->get_latent = sym(h, name, "get_latent", lib);
    *(void **)&e->state_bytes = sym(h, name, "state_bytes", lib);
    char enc[128];
    snprintf(enc, sizeof enc, "%s_encode", name);
    *(void **)&e->encode = dlsym(h, enc);
    e->state = xmalloc(e->state_bytes());
}

static double max_diff(const float *a, const float *b, size_t n, double m) {
    for (size_t i = 0; i < n; i++) m = fabs((double)a[i] - b[i]) > m ? fabs((double)a[i] - b[i]) : m;
    return m;
}

static void buttons_of(const float *a, int A, unsigned char *b) {
    for (int j = 0; j < A; j++) b[j] = a[j] > 0.5f;
}

// The compiled-in start stepped with the first test episode's buttons; returns max |diff| of the frames.
static double round_trip(ExModel *m, Exported *e, int steps, int *done) {
    const size_t F = (size_t)m->C * m->H * m->W;
    float *ref = xmalloc_floats(F), *out = xmalloc_floats(F), *z = xmalloc_floats((size_t)m->Z), *a = xmalloc_floats((size_t)m->A);
    unsigned char b[64];
    memcpy(z, m->start_z, (size_t)m->Z * sizeof(float));
    e->init(e->state, 1);
    e->frame(e->state, out);
    ae_decode(&m->ae, z, 1, ref);
    double d = max_diff(out, ref, F, 0);
    int T = (int)dataset_ep_transitions(&m->ds, m->start_ep) - m->start_t;
    *done = steps < T ? steps : T;
    for (int k = 0; k < *done; k++) {
        dataset_action(&m->ds, m->start_ep, m->start_t + k, a);
        buttons_of(a, m->B, b);   // the buttons; the exported step sets the game column itself
        dynm_forward_step(&m->dyn, 0, z, a, 1);
        memcpy(z, dynm_znext(&m->dyn, 0), (size_t)m->Z * sizeof(float));
        ae_decode(&m->ae, z, 1, ref);
        e->step(e->state, b);
        e->frame(e->state, out);
        d = max_diff(out, ref, F, d);
    }
    free(ref), free(out), free(z), free(a);
    return d;
}

typedef struct { double ssim_x, ssim_n, l1_x, l1_n, maxd, ssim_xn; } StepRow;

// Rollouts from every start point to K steps; rows at steps 1, 5, 10, 30, 60 (those <= K) and K.
static int rollouts(ExModel *m, Exported *e, const StartPoint *sp, int N, int K, StepRow *rows, int *at, double *dec_max,
                    double *dec_ssim, double *enc_max) {
    static const int want[] = {1, 5, 10, 30, 60};
    int n_at = 0;
    for (int i = 0; i < 5; i++)
        if (want[i] < K) at[n_at++] = want[i];
    at[n_at++] = K;
    memset(rows, 0, (size_t)n_at * sizeof *rows);
    const size_t F = (size_t)m->C * m->H * m->W;
    float *x = xmalloc_floats(F), *truth = xmalloc_floats(F), *ref = xmalloc_floats(F), *out = xmalloc_floats(F);
    float *z = xmalloc_floats((size_t)m->Z), *a = xmalloc_floats((size_t)m->A), *ze = xmalloc_floats((size_t)m->Z);
    unsigned char b[64];
    Metrics mx, mn, mxn;
    *dec_max = 0, *dec_ssim = 0, *enc_max = 0;
    for (int i = 0; i < N; i++) {
        dataset_frame(&m->ds, sp[i].e, sp[i].t, x);
        ae_encode(&m->ae, x, 1, z);
        e->init(e->state, 1);
        if (e->encode) {   // the exported encoder on the same frame
            e->encode(e->state, x);
            e->get_latent(e->state, ze);
            *enc_max = max_diff(ze, z, (size_t)m->Z, *enc_max);
        }
        e->set_latent(e->state, z);
        ae_decode(&m->ae, z, 1, ref);   // the decoder alone, on nemu's latent
        e->frame(e->state, out);
        *dec_max = max_diff(out, ref, F, *dec_max);
        metrics_batch(out, ref, 1, m->C, m->H, m->W, &mxn);
        *dec_ssim += mxn.ssim / N;
        for (int k = 1, j = 0; k <= K; k++) {
            dataset_action(&m->ds, sp[i].e, sp[i].t + k - 1, a);
            buttons_of(a, m->B, b);   // the buttons; the exported step sets the game column itself
            dynm_forward_step(&m->dyn, 0, z, a, 1);
            memcpy(z, dynm_znext(&m->dyn, 0), (size_t)m->Z * sizeof(float));
            e->step(e->state, b);
            if (k != at[j]) continue;
            dataset_frame(&m->ds, sp[i].e, sp[i].t + k, truth);
            ae_decode(&m->ae, z, 1, ref);
            e->frame(e->state, out);
            metrics_batch(out, truth, 1, m->C, m->H, m->W, &mx);
            metrics_batch(ref, truth, 1, m->C, m->H, m->W, &mn);
            metrics_batch(out, ref, 1, m->C, m->H, m->W, &mxn);
            StepRow *r = &rows[j++];
            r->ssim_x += mx.ssim / N, r->ssim_n += mn.ssim / N, r->l1_x += mx.l1 / N, r->l1_n += mn.l1 / N;
            r->ssim_xn += mxn.ssim / N;
            r->maxd = max_diff(out, ref, F, r->maxd);
        }
    }
    free(x), free(truth), free(ref), free(out), free(z), free(a), free(ze);
    return n_at;
}

// CPU seconds of this thread: the rate of one thread, whatever else the machine runs.
static double thread_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

// Calls per CPU second of the exported decoder and dynamics step, and of nemu's own decoder at
// batch 1 on one thread (the same frames), each run for ~1 s.
static void speed(ExModel *m, Exported *e, double rate[3]) {
    float *out = xmalloc_floats((size_t)m->C * m->H * m->W);
    unsigned char b[64] = {0};
    e->init(e->state, 1);
    for (int pass = 0; pass < 3; pass++) {
        double t0 = thread_seconds(), t;
        long n = 0;
        do {
            if (pass == 0) e->frame(e->state, out);
            else if (pass == 1) e->step(e->state, b);
            else ae_decode(&m->ae, m->start_z, 1, out);
            n++;
            t = thread_seconds() - t0;
        } while (t < 1.0 || n < 3);
        rate[pass] = n / t;
    }
    free(out);
}

int export_check_main(const ExModel *mc, const char *lib, const char *name, int steps, int episodes) {
    ExModel *m = (ExModel *)mc;   // nemu's models run (their buffers change), the weights do not
    Exported e;
    open_exported(&e, lib, name);
    int done = 0;
    double rt = round_trip(m, &e, steps, &done);
    printf("check: %s (%s_*) against nemu's float model of %s\n", lib, name, m->run.run_dir);
    printf("round trip: %d steps from the compiled-in start (/episode_%d frame %d, its recorded buttons): max "
           "|exported - nemu| = %.3g over every pixel of every frame\n", done, m->ds.ep_id[m->start_ep], m->start_t, rt);
    int n_eps = episodes > 0 && episodes < m->split.n_test ? episodes : m->split.n_test;
    StartPoint *sp = NULL;
    int N = 0;
    Err err = {{0}};
    if (select_starts(&m->ds, m->split.test, n_eps, 5, steps, m->run.cfg.run.seed, &sp, &N, &err) < 0) die("%s", err.msg);
    StepRow rows[8];
    int at[8];
    double dec_max, dec_ssim, enc_max, rate[3];
    int n_at = rollouts(m, &e, sp, N, steps, rows, at, &dec_max, &dec_ssim, &enc_max);
    printf("decoder: %d test start frames, nemu's latent decoded both ways: max |diff| %.3g, SSIM %.6f\n", N, dec_max,
           dec_ssim);
    if (e.encode) printf("encoder: the same frames encoded both ways: max |latent diff| %.3g\n", enc_max);
    printf("rollouts: %d start points (%d test episodes x 5, seed %llu), open loop with the recorded buttons\n\n", N,
           n_eps, (unsigned long long)m->run.cfg.run.seed);
    printf("| step | SSIM exported | SSIM nemu | L1 exported | L1 nemu | max abs exported - nemu | SSIM exported vs nemu |\n"
           "|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int j = 0; j < n_at; j++)
        printf("| %d | %.4f | %.4f | %.4f | %.4f | %.3g | %.4f |\n", at[j], rows[j].ssim_x, rows[j].ssim_n, rows[j].l1_x,
               rows[j].l1_n, rows[j].maxd, rows[j].ssim_xn);
    speed(m, &e, rate);
    printf("\nspeed (one thread, per CPU second): decoder %.1f frames/s, dynamics %.1f steps/s; nemu's own decoder "
           "%.1f frames/s\n", rate[0], rate[1], rate[2]);
    printf("result round_trip_max=%.6g round_trip_steps=%d decoder_max=%.6g decoder_ssim=%.6f rollout_max=%.6g "
           "rollout_ssim_vs_nemu=%.6f ssim_last=%.6f ssim_nemu_last=%.6f decoder_fps=%.2f step_per_s=%.2f "
           "nemu_decoder_fps=%.2f encoder_max=%.6g\n",
           rt, done, dec_max, dec_ssim, rows[n_at - 1].maxd, rows[n_at - 1].ssim_xn, rows[n_at - 1].ssim_x,
           rows[n_at - 1].ssim_n, rate[0], rate[1], rate[2], e.encode ? enc_max : -1.0);
    free(sp);
    free(e.state);
    return 0;
}
