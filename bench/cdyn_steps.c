/*
 * cdyn_steps.c - the cdyn80 training step of bench_spatial.c (conv dynamics on 16x10x10, hidden
 * 64, 2 blocks, batch 128: forward, MSE on the delta, backward, Adam) run STEPS times (default
 * 100, after 5 untimed), printing the least and median CPU time (all threads) and wall time per
 * step, and a checksum of the parameters after the last step (the same build, thread count and
 * STEPS must print the same: an A/B of two builds that should train alike). On a busy VM the
 * CPU time leaves out the time slices other processes took. For A/B runs of two libnemu builds
 * (not built by make):
 *   cc -std=c11 -D_GNU_SOURCE -O2 -I. -fopenmp bench/cdyn_steps.c build/release/libnemu.a \
 *      -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5 -lpng16 \
 *      /usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0 \
 *      -Wl,-rpath,/usr/lib/x86_64-linux-gnu/openblas-openmp/ -lgif -lz -lm -o /tmp/cdyn_steps
 *   env -u OPENBLAS_CORETYPE OMP_NUM_THREADS=1 STEPS=40 /tmp/cdyn_steps
 */
#include "nn/dyn_conv.h"
#include "nn/dynamics.h"
#include "nn/gemm.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    blas_init(argc, argv);
    const int nt = threads_use(getenv("OMP_NUM_THREADS") ? atoi(getenv("OMP_NUM_THREADS")) : 1);
    const int steps = getenv("STEPS") ? atoi(getenv("STEPS")) : 100, B = 128;
    if (steps < 1) {
        fprintf(stderr, "cdyn_steps: STEPS must be >= 1\n");
        return 1;
    }
    Rng rng;
    rng_seed(&rng, 42);
    Err err;
    ConvDynConfig c = {16, 10, 10, 8, 64, 2, 1, 0, 1, 0};
    DynModel dyn;
    if (dynm_conv_init(&dyn, &c, B, &rng, &err) < 0) {
        fprintf(stderr, "cdyn_steps: %s\n", err.msg);
        return 1;
    }
    const size_t nz = (size_t)B * dyn.Z;
    float *z = xmalloc_floats(nz), *a = xmalloc_floats((size_t)B * 8), *target = xmalloc_floats(nz);
    float *dd = xmalloc_floats(nz);
    for (size_t i = 0; i < nz; i++) z[i] = rng_normal(&rng), target[i] = 0.1f * rng_normal(&rng);
    memset(a, 0, sizeof(float) * B * 8);
    for (int i = 0; i < B; i++) a[i * 8 + (int)rng_below(&rng, 8)] = 1.0f;
    Adam opt = adam_default(1e-3f);
    ParamArena *ar = dynm_arena(&dyn);
    double *tc = malloc(sizeof(double) * steps), *tw = malloc(sizeof(double) * steps);
    for (int i = -5; i < steps; i++) {
        const double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), w0 = clock_s(CLOCK_MONOTONIC);
        arena_zero_grad(ar);
        dynm_forward_step(&dyn, 0, z, a, B);
        (void)mse_loss_forward(dynm_delta(&dyn, 0), target, nz);
        memset(dd, 0, nz * sizeof(float));
        mse_loss_backward(dd, dynm_delta(&dyn, 0), target, nz, 1.0f);
        dynm_backward_step(&dyn, 0, dd, NULL, NULL, B);
        adam_step(&opt, ar->params, ar->grads, ar->m, ar->v, ar->n);
        if (i >= 0) tc[i] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0, tw[i] = clock_s(CLOCK_MONOTONIC) - w0;
    }
    double cs = 0;   // the same model must train the same
    for (size_t i = 0; i < ar->n; i++) cs += ar->params[i] * (double)((i % 7) + 1);
    qsort(tc, steps, sizeof(double), cmp_double);
    qsort(tw, steps, sizeof(double), cmp_double);
    printf("threads %d: cpu ms/step min %.2f med %.2f | wall ms/step min %.2f med %.2f (%.0f samples/s best) | "
           "checksum %.9g\n", nt, 1e3 * tc[0], 1e3 * tc[steps / 2], 1e3 * tw[0], 1e3 * tw[steps / 2], B / tw[0], cs);
    free(z), free(a), free(target), free(dd), free(tc), free(tw);
    dynm_free(&dyn);
    return 0;
}
