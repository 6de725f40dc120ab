/*
 * bench_spatial.c - the spatial model family (issue #23) timed through the API ./train and the
 * play loop use; counterparts of bench/torch_spatial.py (PyTorch running tests/nemu_modules.py),
 * row for row:
 *   sae80_train_samples_per_s      spatial AE 80x80x1, 3 stages, base 32, latent 16x10x10,
 *                                  batch 128, L1, Adam: forward+backward+step
 *   cdyn80_train_samples_per_s     conv dynamics on 16x10x10, hidden 64, 2 blocks, batch 128,
 *                                  one step, MSE on the delta, Adam
 *   sloop80_b1_fps                 z = z + f(z, a); frame = decode(z); batch 1 (1 thread, all)
 *   sae240rgb_train_samples_per_s  240x256x3, 4 stages, base 32, latent 16x15x16, batch 16
 *   sloop240rgb_b1_fps             the play loop with that model and its conv dynamics
 *   conv3x3_10x10_c64_{fwd,bwd}_b{128,1}_us   one 3x3 64->64 conv on the 10x10 grid (the
 *                                  dynamics' hidden layer; conv_plan's path: Winograd F(4x4, 3x3)
 *                                  at batch 128, the shifted GEMMs at batch 1), microseconds a call
 * CSV rows `name,value,unit,threads` (best repeat; `name_median` the median), as bench_models.
 * NEMU_BENCH_BUDGET_S (default 2) seconds per measurement; `quick` halves it;
 * NEMU_BENCH_ONLY=sae80|cdyn80|sloop80|sae240rgb|sloop240rgb|conv runs one group.
 */
#include "nn/dyn_conv.h"
#include "nn/dynamics.h"
#include "nn/gemm.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/clock.h"
#include "base/threads.h"
#include "bench/ae_step.h"
#include "bench/measure.h"

#include <stdlib.h>
#include <string.h>
#define N_ACTIONS 8

static void rate_row(const char *name, Stat s, double per_call, const char *unit, int threads) {
    printf("%s,%.6g,%s,%d\n", name, per_call / s.best, unit, threads);
    printf("%s_median,%.6g,%s,%d\n", name, per_call / s.median, unit, threads);
    fflush(stdout);
}

static void time_row(const char *name, Stat s, int threads) {
    printf("%s,%.6g,us,%d\n", name, 1e6 * s.best, threads);
    printf("%s_median,%.6g,us,%d\n", name, 1e6 * s.median, threads);
    fflush(stdout);
}

static void ok(int rc, const Err *err) {
    if (rc != 0) die("%s", err->msg);
}

// ---- conv dynamics training step (one step, teacher-forced)
typedef struct { DynModel *m; Adam opt; const float *z, *a, *target; float *dd; int B; } DynTrain;

static void dyn_train_step(void *p) {
    DynTrain *c = p;
    size_t n = (size_t)c->B * c->m->Z;
    ParamArena *ar = dynm_arena(c->m);
    arena_zero_grad(ar);
    dynm_forward_step(c->m, 0, c->z, c->a, c->B);
    (void)mse_loss_forward(dynm_delta(c->m, 0), c->target, n);
    memset(c->dd, 0, n * sizeof(float));
    mse_loss_backward(c->dd, dynm_delta(c->m, 0), c->target, n, 1.0f);
    dynm_backward_step(c->m, 0, c->dd, NULL, NULL, c->B);
    adam_step(&c->opt, ar->params, ar->grads, ar->m, ar->v, ar->n);
}

// ---- play loop: one dynamics step and one decode per frame, batch 1
typedef struct { AE *ae; DynModel *dyn; float *z, *a, *frame; int frames; } Loop;

static void loop_frames(void *p) {
    Loop *c = p;
    for (int f = 0; f < c->frames; f++) {
        dynm_forward_step(c->dyn, 0, c->z, c->a, 1);
        memcpy(c->z, dynm_znext(c->dyn, 0), (size_t)c->dyn->Z * sizeof(float));
        ae_decode(c->ae, c->z, 1, c->frame);
    }
}

// One autoencoder size: training rows (do_train) and the play loop at 1 thread and all.
static void bench_family(const AEConfig *cfg, int B, const char *train_name, const char *loop_name, int do_train,
                         int do_loop, int frames, double budget, int nt, Rng *rng) {
    Err err;
    AE ae;
    ok(ae_init(&ae, cfg, B, rng, &err), &err);
    const int Z = ae.cfg.latent_dim;
    size_t n = (size_t)B * cfg->C * cfg->H * cfg->W;
    float *x = xmalloc_floats(n), *drecon = xmalloc_floats(n), *out = xmalloc_floats(n), *z = xmalloc_floats(Z);
    for (size_t i = 0; i < n; i++) x[i] = rng_uniformf(rng, 0.0f, 1.0f);
    if (do_train) {
        AETrain tr = {&ae, adam_default(1e-3f), x, drecon, B, n};
        rate_row(train_name, measure_s(ae_train_step, &tr, 2, budget), B, "samples/s", nt);
    }
    if (do_loop) {
        DynModel dyn;
        DynConfig dc = {Z, N_ACTIONS, 64, 1, 0};
        ok(dynm_init_for_ae(&dyn, &ae.cfg, &dc, 2, 1, 0, 0, NULL, 1, rng, &err), &err);
        ParamArena *ar = dynm_arena(&dyn);
        for (size_t i = 0; i < ar->n; i++) ar->params[i] += 0.01f * rng_normal(rng);   // not the identity
        float a[N_ACTIONS] = {0};
        a[6] = 1.0f;
        ae_encode(&ae, x, 1, z);
        Loop lp = {&ae, &dyn, z, a, out, frames};
        int tl[2] = {1, nt};
        for (int i = 0; i < (nt > 1 ? 2 : 1); i++) {
            set_threads(tl[i]);
            rate_row(loop_name, measure_s(loop_frames, &lp, 1, budget), frames, "frames/s", tl[i]);
        }
        set_threads(nt);
        dynm_free(&dyn);
    }
    free(x), free(drecon), free(out), free(z);
    ae_free(&ae);
}

// ---- one 3x3 conv on the dynamics' grid
typedef struct { const ConvShape *s; float *out, *inp, *w, *b, *dout, *dinp, *dw, *db, *work; int B; } ConvCall;

static void conv_fwd(void *p) {
    ConvCall *c = p;
    conv2d_forward_act(c->out, c->inp, c->w, c->b, CONV_ACT_RELU, c->B, c->s, c->work);
}

static void conv_bwd(void *p) {
    ConvCall *c = p;
    conv2d_backward_act(c->dinp, c->dw, c->db, c->dout, c->out, CONV_ACT_RELU, CONV_DINP_SET | CONV_DINP_RELU,
                        c->inp, c->w, c->B, c->s, c->work);
}

static void bench_conv(double budget, int nt, Rng *rng) {
    ConvShape s = conv2d_shape(64, 10, 10, 64, 3, 1, 1);
    const int Bs[2] = {128, 1};
    for (int k = 0; k < 2; k++) {
        int B = Bs[k];
        size_t ni = (size_t)B * 64 * 100, nw = 64 * 64 * 9;
        ConvCall c = {&s, xmalloc_floats(ni), xmalloc_floats(ni), xmalloc_floats(nw), xmalloc_floats(64),
                      xmalloc_floats(ni), xmalloc_floats(ni), xmalloc_floats(nw), xmalloc_floats(64),
                      xmalloc_floats(conv2d_workspace(&s, B)), B};
        for (size_t i = 0; i < ni; i++) c.inp[i] = rng_normal(rng), c.dout[i] = rng_normal(rng);
        for (size_t i = 0; i < nw; i++) c.w[i] = 0.05f * rng_normal(rng);
        conv_fwd(&c);
        char name[64];
        snprintf(name, sizeof name, "conv3x3_10x10_c64_fwd_b%d_us", B);
        time_row(name, measure_s(conv_fwd, &c, 5, budget), nt);
        snprintf(name, sizeof name, "conv3x3_10x10_c64_bwd_b%d_us", B);
        time_row(name, measure_s(conv_bwd, &c, 5, budget), nt);
        free(c.out), free(c.inp), free(c.w), free(c.b), free(c.dout), free(c.dinp), free(c.dw), free(c.db),
            free(c.work);
    }
}

static int want(const char *only, const char *name) { return !only || strcmp(only, name) == 0; }

int main(int argc, char **argv) {
    int nt;
    const double budget = bench_start(argc, argv, "bench_spatial", &nt);
    Rng rng;
    rng_seed(&rng, 42);
    const char *only = getenv("NEMU_BENCH_ONLY");
    AEConfig s80 = {80, 80, 1, 3, 32, 0, 0.0f, 16};
    if (want(only, "sae80") || want(only, "sloop80"))
        bench_family(&s80, 128, "sae80_train_samples_per_s", "sloop80_b1_fps", want(only, "sae80"),
                     want(only, "sloop80"), 20, budget, nt, &rng);
    if (want(only, "cdyn80")) {
        Err err;
        const int B = 128;
        ConvDynConfig c = {16, 10, 10, N_ACTIONS, 64, 2, 1, 0, 1, 0};
        DynModel dyn;
        ok(dynm_conv_init(&dyn, &c, B, &rng, &err), &err);
        size_t nz = (size_t)B * dyn.Z;
        float *z = xmalloc_floats(nz), *a = xmalloc_floats((size_t)B * N_ACTIONS), *target = xmalloc_floats(nz);
        float *dd = xmalloc_floats(nz);
        for (size_t i = 0; i < nz; i++) z[i] = rng_normal(&rng), target[i] = 0.1f * rng_normal(&rng);
        for (int i = 0; i < B; i++) a[i * N_ACTIONS + (int)rng_below(&rng, N_ACTIONS)] = 1.0f;
        DynTrain dt = {&dyn, adam_default(1e-3f), z, a, target, dd, B};
        rate_row("cdyn80_train_samples_per_s", measure_s(dyn_train_step, &dt, 3, budget), B, "samples/s", nt);
        free(z), free(a), free(target), free(dd);
        dynm_free(&dyn);
    }
    AEConfig s240 = {240, 256, 3, 4, 32, 0, 0.0f, 16};
    if (want(only, "sae240rgb") || want(only, "sloop240rgb"))
        bench_family(&s240, 16, "sae240rgb_train_samples_per_s", "sloop240rgb_b1_fps", want(only, "sae240rgb"),
                     want(only, "sloop240rgb"), 4, budget, nt, &rng);
    if (want(only, "conv")) bench_conv(budget, nt, &rng);
    return 0;
}
