/*
 * bench_finite.c - what the finiteness checks of issue #16 cost (nn/finite.h): one
 * arena_check_finite over params, Adam m and v of the default autoencoders (80x80 grey, base 32;
 * flat latent 32 and spatial 16x10x10), beside one training step at batch 128 (the calls of
 * ./train). ./train checks at most three times an epoch (ae_best.h5, ae_last.h5 written; a
 * resume's load), so the share of an epoch is 3 checks over the default epoch's 251 training
 * batches (80 episodes x 401 frames / 128) of steps. Rows: finite_check_<family> (ms),
 * train_step_<family> (ms), finite_share_<family> (% of an epoch).
 */
#include <stdio.h>
#include <string.h>

#include "bench/ae_step.h"
#include "bench/measure.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "nn/finite.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"

#define EPOCH_BATCHES 251
#define CHECKS_PER_EPOCH 3

static void check(void *p) {
    Err err;
    CHECK(arena_check_finite(p, 1, "bench", &err) == 0, "%s", err.msg);
}

static void bench(const char *family, AEConfig cfg, int threads) {
    const int B = 128;
    Rng rng;
    rng_seed(&rng, 1);
    AE ae;
    Err err;
    CHECK(ae_init(&ae, &cfg, B, &rng, &err) == 0, "%s", err.msg);
    size_t n = (size_t)B * cfg.C * cfg.H * cfg.W;
    float *x = xmalloc_floats(n), *d = xmalloc_floats(n);
    for (size_t i = 0; i < n; i++) x[i] = rng_uniformf(&rng, 0.0f, 1.0f);
    AETrain s = {&ae, adam_default(1e-3f), x, d, B, n};
    Stat st = measure_s(ae_train_step, &s, 2, 2.0);
    Stat fc = measure_s(check, &ae.arena, 3, 0.5);
    printf("finite_check_%s,%.4g,ms,%d\nfinite_check_%s_median,%.4g,ms,%d\n", family, fc.best * 1e3, threads, family,
           fc.median * 1e3, threads);
    printf("train_step_%s,%.4g,ms,%d\ntrain_step_%s_median,%.4g,ms,%d\n", family, st.best * 1e3, threads, family,
           st.median * 1e3, threads);
    printf("finite_share_%s,%.3g,%%epoch,%d\n", family,
           100.0 * CHECKS_PER_EPOCH * fc.median / (EPOCH_BATCHES * st.median), threads);
    fflush(stdout);
    free(x);
    free(d);
    ae_free(&ae);
}

int main(int argc, char **argv) {
    (void)argc;
    set_progname(argv[0]);
    const int threads = 2;
    set_threads(threads);
    bench("flat", (AEConfig){80, 80, 1, 3, 32, 32, 0.0f, 0}, threads);
    bench("spatial", (AEConfig){80, 80, 1, 3, 32, 0, 0.0f, 16}, threads);
    return 0;
}
