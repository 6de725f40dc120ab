/*
 * ae_step.h - one autoencoder training step as the benches time it (bench_models.c,
 * bench_spatial.c, bench_finite.c): zero grads, forward, L1 loss, backward, Adam; and the
 * start of a model bench (program name, BLAS, the time budget per row, the thread count).
 * Header-only, as each bench is one program.
 */
#ifndef NEMU_BENCH_AE_STEP_H
#define NEMU_BENCH_AE_STEP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/err.h"
#include "base/threads.h"
#include "nn/gemm.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"

typedef struct {
    AE *m;
    Adam opt;
    const float *x;     // [B,C,H,W]
    float *drecon;      // [B,C,H,W]
    int B;
    size_t n;           // B*C*H*W
} AETrain;

static inline void ae_train_step(void *p) {
    AETrain *c = p;
    arena_zero_grad(&c->m->arena);
    ae_forward(c->m, c->x, c->B, NULL);
    (void)l1_loss_forward(c->m->recon, c->x, c->n);
    memset(c->drecon, 0, c->n * sizeof(float));
    l1_loss_backward(c->drecon, c->m->recon, c->x, c->n, 1.0f);
    ae_backward(c->m, c->drecon, NULL, c->B);
    ParamArena *a = &c->m->arena;
    adam_step(&c->opt, a->params, a->grads, a->m, a->v, a->n);
}

// Program name, BLAS set-up and a line naming its core and *nt threads; returns the time
// budget per row: $NEMU_BENCH_BUDGET_S (default 2 s), halved by the argument "quick".
static inline double bench_start(int argc, char **argv, const char *name, int *nt) {
    set_progname(argv[0]);
    blas_init(argc, argv);
    double budget = getenv("NEMU_BENCH_BUDGET_S") ? atof(getenv("NEMU_BENCH_BUDGET_S")) : 2.0;
    if (argc > 1 && strcmp(argv[1], "quick") == 0) budget *= 0.5;
    *nt = omp_threads();
    fprintf(stderr, "%s: BLAS core %s, %d threads\n", name, blas_core(), *nt);
    return budget;
}

#endif
