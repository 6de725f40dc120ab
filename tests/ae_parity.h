/*
 * ae_parity.h - the autoencoder's PyTorch parity check that test_model.c (flat) and
 * test_spatial.c (spatial) run on their fixtures: with the fixture's weights loaded, one
 * L1 step on x gives the fixture's recon, z, loss and every parameter gradient (grads/<name>,
 * or for big tensors every 61st element grads_sub/<name> and the L2 norm grads_norm/<name>),
 * and 10 Adam steps (lr 1e-3) the fixture's losses. Header-only, like tests/test.h.
 */
#ifndef NEMU_TESTS_AE_PARITY_H
#define NEMU_TESTS_AE_PARITY_H

#include <stdio.h>
#include <string.h>
#include "base/alloc.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "tests/fixture_h5.h"
#include "tests/test.h"

// L1(recon, x) and, when backward, its gradients accumulated into m's arena.
static inline float ae_l1_step(AE *m, const float *x, int B, float *drecon, int backward) {
    size_t n = (size_t)B * m->cfg.C * m->cfg.H * m->cfg.W;
    ae_forward(m, x, B, NULL);
    float loss = l1_loss_forward(m->recon, x, n);
    if (backward) {
        memset(drecon, 0, n * sizeof(float));
        l1_loss_backward(drecon, m->recon, x, n, 1.0f);
        ae_backward(m, drecon, NULL, B);
    }
    return loss;
}

// Compares gradient tensor t (g: its gradient) with the fixture's, whole or subsampled.
static inline void ae_parity_grad(hid_t f, const TensorInfo *t, const float *g) {
    char name[160];
    size_t n;
    float *want;
    snprintf(name, sizeof name, "grads/%s", t->name);
    if (h5_exists(f, name)) {
        want = read_all(f, name, &n);
        CHECK(n == t->n, "%s size", name);
        compare(name, g, want, n);
        free(want);
        return;
    }
    // subsampled (every 61st element) plus the L2 norm
    snprintf(name, sizeof name, "grads_sub/%s", t->name);
    want = read_all(f, name, &n);
    float *sub = xmalloc_floats(n);
    for (size_t k = 0; k < n; k++) sub[k] = g[k * 61];
    CHECK((t->n + 60) / 61 == n, "%s size", name);
    compare(name, sub, want, n);
    free(sub);
    free(want);
    snprintf(name, sizeof name, "grads_norm/%s", t->name);
    want = read_all(f, name, NULL);
    float norm = grad_norm(g, t->n);
    compare(name, &norm, want, 1);
    free(want);
}

// Opens tests/fixtures/<file> (printing its name), builds its autoencoder m from the root
// attributes (H, W, C, stages, base_channels, latent_dim or latent_channels, B) with
// PyTorch-free init (seed 1), and reads x [B, C, H, W] (malloc'ed). Returns the open file.
static inline hid_t ae_fixture_open(const char *file, AE *m, float **x, int *B, int *steps) {
    Err err;
    hid_t f = fixture_h5(file);
    AEConfig cfg = {.H = (int)attr_i(f, "H"), .W = (int)attr_i(f, "W"), .C = (int)attr_i(f, "C"),
                    .stages = (int)attr_i(f, "stages"), .base_channels = (int)attr_i(f, "base_channels")};
    if (h5_attr_exists(f, "/", "latent_dim")) cfg.latent_dim = (int)attr_i(f, "latent_dim");
    else cfg.latent_channels = (int)attr_i(f, "latent_channels");
    *B = (int)attr_i(f, "B");
    *steps = (int)attr_i(f, "adam_steps");
    Rng rng;
    rng_seed(&rng, 1);
    CHECK(ae_init(m, &cfg, *B, &rng, &err) == 0, "%s", err.msg);
    size_t nx;
    *x = read_all(f, "x", &nx);
    CHECK(nx == (size_t)*B * cfg.C * cfg.H * cfg.W, "fixture x size");
    return f;
}

// m: the fixture's model with its weights; x: [B, C, H, W]; steps: Adam steps to compare.
static inline void ae_parity_check(hid_t f, AE *m, const float *x, int B, int steps) {
    size_t n, nx = (size_t)B * m->cfg.C * m->cfg.H * m->cfg.W;
    float *drecon = xmalloc_floats(nx);
    arena_zero_grad(&m->arena);
    float loss = ae_l1_step(m, x, B, drecon, 1);
    compare_with(f, "recon", m->recon);
    float *want = read_all(f, "z", &n);
    CHECK(n == (size_t)B * m->cfg.latent_dim, "z size");
    compare("z", m->z, want, n);
    free(want);
    compare_with(f, "loss", &loss);
    for (int i = 0; i < m->arena.n_tensors; i++) ae_parity_grad(f, &m->arena.t[i], m->arena.grads + m->arena.t[i].offset);
    // Adam steps on the same batch: the loss before each step
    Adam opt = adam_default((float)1e-3);
    arena_zero_adam(&m->arena);
    float *losses = xmalloc_floats((size_t)steps);
    for (int s = 0; s < steps; s++) {
        arena_zero_grad(&m->arena);
        losses[s] = ae_l1_step(m, x, B, drecon, 1);
        adam_step(&opt, m->arena.params, m->arena.grads, m->arena.m, m->arena.v, m->arena.n);
    }
    want = read_all(f, "adam_losses", &n);
    CHECK(n == (size_t)steps, "adam_losses size");
    expect_close("adam_losses", losses, want, (long)n, 1e-6, 1e-4);
    printf("  adam losses: %.6f -> %.6f (torch %.6f -> %.6f)\n", losses[0], losses[steps - 1], want[0], want[steps - 1]);
    free(want);
    free(losses);
    free(drecon);
}

#endif
