/*
 * bench_models.c - nemu's models timed through the same API ./train and the interactive
 * loop use (nn/model.h, nn/ops.h losses, nn/optim.h Adam); everything is allocated before
 * the timed loops. Counterparts of bench/torch_ref.py, row for row:
 *   ae80_train_samples_per_s              batch 128, L1 loss, Adam: forward+backward+step
 *   ae80_encode_decode_b128_samples_per_s ae_encode + ae_decode, batch 128
 *   loop80_b1_fps                         z += dyn([z,a]); frame = ae_decode(z); batch 1;
 *                                         at 1 thread and at all threads
 *   dyn_train_samples_per_s               batch 128, one step, MSE on the delta, Adam
 *   dyn_rollout5_train_samples_per_s      batch 128 windows of K = 5 steps, open loop (each
 *                                         step on its own prediction), the 5 steps' MSE summed,
 *                                         BPTT through all, Adam (nn/dynamics.h, as ./train
 *                                         with rollout_steps = 5, sampling 1 -> 1)
 *   ae240rgb_train_samples_per_s          240x256x3, 4 stages, latent 256, batch 16
 *   loop240rgb_b1_fps                     as loop80 with that model
 * CSV rows `name,value,unit,threads` on stdout (best repeat; `name_median` the median).
 * Each measurement: warm-up, then repeats until ~NEMU_BENCH_BUDGET_S seconds (default 2,
 * at least 3 repeats). `bench_models quick` halves the budget; NEMU_BENCH_ONLY=ae80, dyn,
 * ae240rgb, loop80 or loop240rgb runs one group only (the loop ones without training; for A/B
 * runs of settings and for profiling).
 */
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

static void row(const char *name, Stat s, const char *unit, int threads) {
    printf("%s,%.6g,%s,%d\n", name, s.best, unit, threads);
    printf("%s_median,%.6g,%s,%d\n", name, s.median, unit, threads);
    fflush(stdout);
}

static void fill_uniform(float *x, size_t n, Rng *rng) {
    for (size_t i = 0; i < n; i++) x[i] = rng_uniformf(rng, 0.0f, 1.0f);
}

// ---- autoencoder training step: the same calls as ./train
typedef struct { AE *m; const float *x; float *z, *out; int B; } AEInfer;

static void ae_encdec(void *p) {
    AEInfer *c = p;
    ae_encode(c->m, c->x, c->B, c->z);
    ae_decode(c->m, c->z, c->B, c->out);
}

// ---- interactive loop: one dynamics step and one decode per frame, batch 1
typedef struct { AE *ae; Dyn *dyn; float *z, *a, *frame; int Z, frames; } Loop;

static void loop_frames(void *p) {
    Loop *c = p;
    for (int f = 0; f < c->frames; f++) {
        dyn_forward_step(c->dyn, 0, c->z, c->a, 1);
        memcpy(c->z, dyn_znext(c->dyn, 0), (size_t)c->Z * sizeof(float));
        ae_decode(c->ae, c->z, 1, c->frame);
    }
}

// ---- dynamics training step (one step, teacher-forced)
typedef struct { Dyn *m; Adam opt; const float *z, *a, *target; float *ddelta; int B, Z; } DynTrain;

static void dyn_train_step(void *p) {
    DynTrain *c = p;
    size_t n = (size_t)c->B * c->Z;
    arena_zero_grad(&c->m->arena);
    dyn_forward_step(c->m, 0, c->z, c->a, c->B);
    (void)mse_loss_forward(dyn_delta(c->m, 0), c->target, n);
    memset(c->ddelta, 0, n * sizeof(float));
    mse_loss_backward(c->ddelta, dyn_delta(c->m, 0), c->target, n, 1.0f);
    dyn_backward_step(c->m, 0, c->ddelta, NULL, NULL, c->B);
    ParamArena *a = &c->m->arena;
    adam_step(&c->opt, a->params, a->grads, a->m, a->v, a->n);
}

// ---- K-step rollout training step (open loop, summed MSE, BPTT)
typedef struct { DynModel *m; Adam opt; const float *ztrue, *a; int B, K; } RollTrain;

static void rollout_train_step(void *p) {
    RollTrain *c = p;
    ParamArena *a = dynm_arena(c->m);
    arena_zero_grad(a);
    (void)dynm_rollout_forward(c->m, c->ztrue, c->a, NULL, c->K, c->B);
    dynm_rollout_backward(c->m, c->ztrue, NULL, c->K, c->B);
    adam_step(&c->opt, a->params, a->grads, a->m, a->v, a->n);
}

static void init_or_die(int rc, const Err *err) {
    if (rc != 0) die("%s", err->msg);
}

// Trains, infers and loops one autoencoder size. prefix "ae80"/"ae240rgb", loop "loop80"/...
static void bench_ae(const AEConfig *cfg, int B, int infer_rows, const char *train_name,
                     const char *loop_name, int do_train, double budget, int nt, Rng *rng) {
    Err err;
    AE ae;
    init_or_die(ae_init(&ae, cfg, B, rng, &err), &err);
    size_t n = (size_t)B * cfg->C * cfg->H * cfg->W;
    float *x = xmalloc_floats(n), *drecon = xmalloc_floats(n), *out = xmalloc_floats(n);
    float *z = xmalloc_floats((size_t)B * cfg->latent_dim);
    fill_uniform(x, n, rng);

    AETrain tr = {&ae, adam_default(1e-3f), x, drecon, B, n};
    if (do_train)
        row(train_name, measure(ae_train_step, &tr, B, infer_rows ? 2 : 1, budget), "samples/s", nt);
    if (do_train && infer_rows) {
        AEInfer in = {&ae, x, z, out, B};
        row("ae80_encode_decode_b128_samples_per_s", measure(ae_encdec, &in, B, 2, budget),
            "samples/s", nt);
    }

    Dyn dyn;
    DynConfig dc = {cfg->latent_dim, N_ACTIONS, 128, 1, 0};
    init_or_die(dyn_init(&dyn, &dc, 1, rng, &err), &err);
    float a[N_ACTIONS] = {0};
    a[3] = 1.0f;
    memset(z, 0, (size_t)cfg->latent_dim * sizeof(float));
    Loop lp = {&ae, &dyn, z, a, out, cfg->latent_dim, infer_rows ? 20 : 4};
    int tlist[2] = {1, nt};
    for (int i = 0; i < (nt > 1 ? 2 : 1); i++) {
        int t = tlist[i];
        set_threads(t);
        char name[64];
        snprintf(name, sizeof name, "%s_b1_fps", loop_name);
        row(name, measure(loop_frames, &lp, lp.frames, 1, budget), "frames/s", t);
    }
    set_threads(nt);
    dyn_free(&dyn);
    free(x), free(drecon), free(out), free(z);
    ae_free(&ae);
}

int main(int argc, char **argv) {
    const char *only = getenv("NEMU_BENCH_ONLY");   // one row (or pair of rows) only
    int nt;
    const double budget = bench_start(argc, argv, "bench_models", &nt);
    Rng rng;
    rng_seed(&rng, 42);

    AEConfig ae80 = {80, 80, 1, 3, 32, 32, 0.0f, 0};
    if (!only || strcmp(only, "ae80") == 0 || strcmp(only, "loop80") == 0)
        bench_ae(&ae80, 128, 1, "ae80_train_samples_per_s", "loop80", !only || strcmp(only, "loop80"), budget,
                 nt, &rng);

    // dynamics training, batch 128
    if (!only || strcmp(only, "dyn") == 0) {
        Err err;
        Dyn dyn;
        DynConfig dc = {32, N_ACTIONS, 128, 1, 0};
        int B = 128, Z = 32;
        init_or_die(dyn_init(&dyn, &dc, B, &rng, &err), &err);
        float *z = xmalloc_floats((size_t)B * Z), *a = xmalloc_floats((size_t)B * N_ACTIONS);
        float *target = xmalloc_floats((size_t)B * Z), *ddelta = xmalloc_floats((size_t)B * Z);
        for (int i = 0; i < B * Z; i++) z[i] = rng_normal(&rng), target[i] = 0.1f * rng_normal(&rng);
        for (int i = 0; i < B; i++) a[i * N_ACTIONS + (int)rng_below(&rng, N_ACTIONS)] = 1.0f;
        DynTrain dt = {&dyn, adam_default(1e-3f), z, a, target, ddelta, B, Z};
        row("dyn_train_samples_per_s", measure(dyn_train_step, &dt, B, 5, budget), "samples/s", nt);
        free(z), free(a), free(target), free(ddelta);
        dyn_free(&dyn);

        const int K = 5;   // rollout training: samples/s counts windows
        DynModel rm;
        DynConfig rc = {32, N_ACTIONS, 128, K, 0};
        init_or_die(dynm_flat_init(&rm, &rc, B, &rng, &err), &err);
        float *zt = xmalloc_floats((size_t)(K + 1) * B * Z), *ra = xmalloc_floats((size_t)K * B * N_ACTIONS);
        for (int i = 0; i < (K + 1) * B * Z; i++) zt[i] = rng_normal(&rng);
        for (int i = 0; i < K * B; i++) ra[i * N_ACTIONS + (int)rng_below(&rng, N_ACTIONS)] = 1.0f;
        RollTrain rt = {&rm, adam_default(1e-3f), zt, ra, B, K};
        row("dyn_rollout5_train_samples_per_s", measure(rollout_train_step, &rt, B, 5, budget), "samples/s", nt);
        free(zt), free(ra);
        dynm_free(&rm);
    }

    AEConfig ae240 = {240, 256, 3, 4, 32, 256, 0.0f, 0};
    if (!only || strcmp(only, "ae240rgb") == 0 || strcmp(only, "loop240rgb") == 0)
        bench_ae(&ae240, 16, 0, "ae240rgb_train_samples_per_s", "loop240rgb", !only || strcmp(only, "loop240rgb"),
                 budget, nt, &rng);
    return 0;
}
