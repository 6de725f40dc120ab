/*
 * test_history.c - the conv dynamics with a history (dynamics.history = N, nn/dyn_conv.h):
 *   1. PyTorch parity (tests/make_history_fixtures.py, float64 reference): one step's delta,
 *      loss, every parameter gradient and dLoss/dz with the history held; a 5-step open-loop
 *      rollout through DynModel whose steps see their own earlier inputs as history (detached):
 *      z_1..z_K, the loss and every gradient.
 *   2. Central differences, element by element, for every tensor of a tiny model with N = 2 and
 *      for z (its own planes and its share of the difference planes); the history is an input.
 *   3. The history's bookkeeping: dynm_rollout_forward from a reset history equals stepping by
 *      hand with dynm_hist_reset / dynm_hist_push; the history changes the prediction; a history
 *      of 0 is the model without one, bit for bit.
 *   4. Checkpoint attributes (history only when > 0) round trip; a flat latent refuses it.
 *   5. --init widening: a model with a history loads a checkpoint without one (conv_in's extra
 *      input planes zero) and then steps exactly as that model, whatever its history.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/checkpoint.h"
#include "nn/dyn_conv.h"
#include "nn/dynamics.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "nn/ops.h"
#include "tests/fixture_h5.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#ifdef _OPENMP
#include <omp.h>
#endif

static ConvDynConfig cfg_of(hid_t f, int max_steps) {
    ConvDynConfig c = {(int)attr_i(f, "channels"), (int)attr_i(f, "height"), (int)attr_i(f, "width"),
                       (int)attr_i(f, "A"), (int)attr_i(f, "hidden"), (int)attr_i(f, "blocks"), max_steps, 0, 1,
                       (int)attr_i(f, "history"), {0}, 0};
    return c;
}

static void test_fixture(void) {
    printf("conv dynamics with a history: PyTorch parity (history_dyn.h5)\n");
    Err err;
    hid_t f = fixture_h5("history_dyn.h5");
    const int B = (int)attr_i(f, "B"), K = (int)attr_i(f, "K");
    ConvDynConfig c = cfg_of(f, 1);
    Rng rng;
    rng_seed(&rng, 1);
    ConvDyn m;
    CHECK(cdyn_init(&m, &c, B, &rng, &err) == 0, "%s", err.msg);
    load_state_dict(f, &m.arena, "state_dict");
    size_t n;
    float *z = read_all(f, "z", &n), *hist = read_all(f, "hist", &n), *a = read_all(f, "a", &n);
    float *target = read_all(f, "target", &n);
    const size_t nz = (size_t)B * m.Z;
    float *dd = xmalloc_floats(nz), *dz = xmalloc_floats(nz);
    arena_zero_grad(&m.arena);
    m.hist = hist;
    cdyn_forward_step(&m, 0, z, a, B);
    float loss = mse_loss_forward(cdyn_head(&m, 0), target, nz);
    memset(dd, 0, nz * sizeof(float));
    memset(dz, 0, nz * sizeof(float));
    mse_loss_backward(dd, cdyn_head(&m, 0), target, nz, 1.0f);
    cdyn_backward_step(&m, 0, dd, NULL, dz, B);
    compare_step(f, cdyn_head(&m, 0), loss, &m.arena);
    compare_with(f, "dz", dz);
    cdyn_free(&m);

    c.max_steps = K;
    DynModel dm;
    CHECK(dynm_conv_init(&dm, &c, B, &rng, &err) == 0, "%s", err.msg);
    ParamArena *ar = dynm_arena(&dm);
    load_state_dict(f, ar, "state_dict");
    float *rz = read_all(f, "roll_z", &n), *rh = read_all(f, "roll_hist", &n), *ra = read_all(f, "roll_a", &n);
    CHECK(n == (size_t)K * B * c.n_actions, "roll_a");
    memcpy(dm.hist, rh, (size_t)B * c.history * dm.Z * sizeof(float));
    arena_zero_grad(ar);
    DynLoss L = dynm_rollout_forward(&dm, rz, ra, NULL, K, B);
    dynm_rollout_backward(&dm, rz, NULL, K, B);
    float got = (float)L.mse;
    compare_with(f, "roll_loss", &got);
    float *zhat = xmalloc_floats((size_t)K * nz);
    for (int k = 0; k < K; k++) memcpy(zhat + k * nz, dynm_znext(&dm, k), nz * sizeof(float));
    compare_with(f, "roll_zhat", zhat);
    compare_grads(ar, f, "roll_grads");
    dynm_free(&dm);
    free(zhat); free(rz); free(rh); free(ra);
    free(z); free(hist); free(a); free(target); free(dd); free(dz);
    h5_close(f);
}

// L = sum(r * head) + sum(rz * znext) of one step from z with history hist, in double
static double probe(ConvDyn *m, const float *z, const float *hist, const float *a, const float *r, const float *rz,
                    int B) {
    m->hist = hist;
    cdyn_forward_step(m, 0, z, a, B);
    double L = 0;
    for (size_t i = 0; i < (size_t)B * m->OUT; i++) L += (double)r[i] * cdyn_head(m, 0)[i];
    for (size_t i = 0; i < (size_t)B * m->Z; i++) L += (double)rz[i] * cdyn_znext(m, 0)[i];
    return L;
}

typedef struct { ConvDyn *m; const float *z, *hist, *a, *r, *rz; int B; } ProbeCtx;
static double probe_loss(void *c) {
    ProbeCtx *p = c;
    return probe(p->m, p->z, p->hist, p->a, p->r, p->rz, p->B);
}

static void test_fd(void) {
    printf("conv dynamics with a history of 2: central differences, every element (grid 2x3x4, 3 buttons, hidden 5)\n");
    ConvDynConfig c = {2, 3, 4, 3, 5, 2, 1, 0, 1, 2, {0}, 0};
    Rng rng;
    rng_seed(&rng, 41);
    ConvDyn m;
    Err err;
    const int B = 2, N = 2;
    CHECK(cdyn_init(&m, &c, B, &rng, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < m.arena.n; i++) m.arena.params[i] += 0.2f * rng_normal(&rng);
    const size_t nz = (size_t)B * m.Z, no = (size_t)B * m.OUT, nh = nz * N;
    float *z = xmalloc_floats(nz), *hist = xmalloc_floats(nh), *a = xmalloc_floats((size_t)B * 3);
    float *r = xmalloc_floats(no), *rz = xmalloc_floats(nz), *dz = xmalloc_floats(nz);
    for (size_t i = 0; i < nz; i++) z[i] = rng_normal(&rng), rz[i] = rng_normal(&rng);
    for (size_t i = 0; i < nh; i++) hist[i] = rng_normal(&rng);
    for (int i = 0; i < B * 3; i++) a[i] = (float)rng_below(&rng, 2);
    for (size_t i = 0; i < no; i++) r[i] = rng_normal(&rng);
    probe(&m, z, hist, a, r, rz, B);
    arena_zero_grad(&m.arena);
    memset(dz, 0, nz * sizeof(float));
    cdyn_backward_step(&m, 0, r, rz, dz, B);
    ProbeCtx pc = {&m, z, hist, a, r, rz, B};
    fd_every_element(&m.arena, z, dz, nz, "z (history held)", probe_loss, &pc, 1e-3, 3e-3, 3e-3);
    // the history is read: moving it moves the loss
    double l0 = probe(&m, z, hist, a, r, rz, B);
    for (size_t i = 0; i < nh; i++) hist[i] += 0.1f;
    double l1 = probe(&m, z, hist, a, r, rz, B);
    EXPECT(fabs(l1 - l0) > 1e-4, "the history changes the step (loss %.6f -> %.6f)", l0, l1);
    free(z); free(hist); free(a); free(r); free(rz); free(dz);
    cdyn_free(&m);
}

// A K-step model (c.max_steps = K) and its 1-step twin with the same perturbed weights; K-step
// inputs zt [K+1][B][Z] and buttons a [K][B][A] (the caller frees them).
static void twins(ConvDynConfig c, int B, uint64_t seed, DynModel *dm, DynModel *step, float **zt, float **a) {
    Err err;
    Rng rng;
    rng_seed(&rng, seed);
    const int K = c.max_steps;
    CHECK(dynm_conv_init(dm, &c, B, &rng, &err) == 0, "%s", err.msg);
    c.max_steps = 1;
    CHECK(dynm_conv_init(step, &c, B, &rng, &err) == 0, "%s", err.msg);
    ParamArena *ar = dynm_arena(dm);
    for (size_t i = 0; i < ar->n; i++) ar->params[i] += 0.1f * rng_normal(&rng);
    memcpy(dynm_arena(step)->params, ar->params, ar->n * sizeof(float));
    const size_t nz = (size_t)B * dm->Z;
    *zt = xmalloc_floats((K + 1) * nz), *a = xmalloc_floats((size_t)K * B * c.n_actions);
    for (size_t i = 0; i < (K + 1) * nz; i++) (*zt)[i] = rng_normal(&rng);
    for (int i = 0; i < K * B * c.n_actions; i++) (*a)[i] = (float)rng_below(&rng, 2);
}

// dm's K-step open-loop rollout from zt_0 against stepping its twin by hand (forward, push);
// step's history must hold the same past as dm's. Returns the largest difference; z [B][Z] ends
// at the last step.
static double by_hand(DynModel *dm, DynModel *step, const float *zt, const float *a, int K, int B, float *z) {
    const size_t nz = (size_t)B * dm->Z;
    dynm_rollout_forward(dm, zt, a, NULL, K, B);
    memcpy(z, zt, nz * sizeof(float));
    double worst = 0;
    for (int k = 0; k < K; k++) {
        dynm_forward_step(step, 0, z, a + (size_t)k * B * dm->A, B);
        dynm_hist_push(step, z, B);
        memcpy(z, dynm_znext(step, 0), nz * sizeof(float));
        for (size_t i = 0; i < nz; i++) worst = fmax(worst, fabs(z[i] - dynm_znext(dm, k)[i]));
    }
    return worst;
}

static void test_bookkeeping(void) {
    printf("history bookkeeping: rollout training's history = stepping by hand; history 0 = no history\n");
    const int K = 6, B = 3, A = 4, N = 3;
    ConvDynConfig c = {3, 4, 5, A, 6, 2, K, 0, 1, N, {0}, 0};
    Err err;
    Rng rng;
    DynModel dm, step;
    float *zt, *a;
    twins(c, B, 7, &dm, &step, &zt, &a);
    const int Z = dm.Z;
    float *z = xmalloc_floats((size_t)B * Z);
    dynm_hist_reset(&dm, zt, B);
    dynm_hist_reset(&step, zt, B);
    double worst = by_hand(&dm, &step, zt, a, K, B, z);
    EXPECT(worst == 0, "a %d-step open-loop rollout equals %d steps by hand with reset / push (max diff %g)", K, K,
           worst);
    // the newest slot holds the last input, the oldest the input N steps before
    EXPECT(memcmp(step.hist, dynm_znext(&dm, K - 2), (size_t)Z * sizeof(float)) == 0 &&
               memcmp(step.hist + (size_t)(N - 1) * Z, dynm_znext(&dm, K - 4), (size_t)Z * sizeof(float)) == 0,
           "after %d steps the history holds inputs %d (newest) .. %d (oldest)", K, K - 1, K - N);
    dynm_free(&dm);
    dynm_free(&step);

    // history 0: the same weights as a model without it give the same step bit for bit
    ConvDynConfig c0 = {3, 4, 5, A, 6, 2, 1, 0, 1, 0, {0}, 0};
    ConvDyn m0, m1;
    rng_seed(&rng, 8);
    CHECK(cdyn_init(&m0, &c0, B, &rng, &err) == 0, "%s", err.msg);
    c0.hyp = 0;   // a config written before hypotheses: one delta
    rng_seed(&rng, 8);
    CHECK(cdyn_init(&m1, &c0, B, &rng, &err) == 0, "%s", err.msg);
    EXPECT(m0.IN == 3 + A && m0.arena.n == m1.arena.n, "history 0 adds no input planes (%d)", m0.IN);
    cdyn_free(&m0);
    cdyn_free(&m1);
    free(zt); free(a); free(z);
}

static void test_meta(void) {
    printf("checkpoint attributes: history written when > 0 and read back; a flat latent refuses it\n");
    Err err;
    ConvDynConfig c = {8, 30, 32, 8, 16, 2, 1, 0, 4, 12, {0}, 0}, back;
    CkptMeta meta;
    memset(&meta, 0, sizeof meta);
    ckpt_meta_conv_dyn(&meta, &c);
    EXPECT(ckpt_get(&meta, "history") && ckpt_meta_to_conv_dyn_config(&meta, &back, &err) == 0 &&
               back.history == 12 && back.hyp == 4, "history 12 round trips (%d)", back.history);
    c.history = 0;
    memset(&meta, 0, sizeof meta);
    ckpt_meta_conv_dyn(&meta, &c);
    EXPECT(!ckpt_get(&meta, "history"), "history 0 writes no attribute (checkpoints as before)");
    c.history = CDYN_MAX_HISTORY + 1;
    EXPECT(cdyn_config_check(&c, &err) < 0, "history %d refused: %s", c.history, err.msg);
    AEConfig flat = {.H = 80, .W = 80, .C = 1, .stages = 3, .base_channels = 8, .latent_dim = 32};
    DynConfig dc = {.latent_dim = 32, .n_actions = 8, .hidden = 16, .max_steps = 1};
    DynModel dm;
    Rng rng;
    rng_seed(&rng, 1);
    EXPECT(dynm_init_for_ae(&dm, &flat, &dc, 2, 1, 0, 3, NULL, 4, &rng, &err) < 0 && strstr(err.msg, "spatial"),
           "a flat latent refuses a history: %s", err.msg);
}

// dynamics.history as a list: the N planes read the latents hist_off[k] steps back, kept in past.
static void test_offsets(void) {
    printf("history steps back (dynamics.history = 1,3,6): past, gather, rollouts, checkpoint attributes\n");
    const int K = 8, B = 2, A = 3, N = 3;
    ConvDynConfig c = {2, 3, 4, A, 5, 2, K, 0, 1, N, {1, 3, 6}, 0};
    Err err;
    DynModel dm, step;
    float *zt, *a;
    twins(c, B, 11, &dm, &step, &zt, &a);
    EXPECT(dm.depth == 6 && dm.past != dm.hist && dm.hist_off[1] == 3, "depth 6, a past of its own (depth %d)",
           dm.depth);
    const int Z = dm.Z;
    const size_t nz = (size_t)B * Z;
    float *z = xmalloc_floats(nz);
    // a real past filled by hand (slot j = j+1 steps before), then gathered: plane k = slot off[k]-1
    for (int b = 0; b < B; b++)
        for (int j = 0; j < 6; j++)
            for (int q = 0; q < Z; q++) dm.past[((size_t)b * 6 + j) * Z + q] = (float)(100 * b + 10 * j) + q * 1e-3f;
    dynm_hist_gather(&dm, B);
    int ok = 1;
    for (int b = 0; b < B; b++)
        for (int k = 0; k < N; k++)
            ok &= memcmp(dm.hist + ((size_t)b * N + k) * Z, dm.past + ((size_t)b * 6 + c.hist_off[k] - 1) * Z,
                         (size_t)Z * sizeof(float)) == 0;
    EXPECT(ok, "gather: plane k of sample b is its past %d, %d, %d steps before", 1, 3, 6);
    memcpy(step.past, dm.past, (size_t)B * 6 * Z * sizeof(float));
    dynm_hist_gather(&step, B);
    double worst = by_hand(&dm, &step, zt, a, K, B, z);
    EXPECT(worst == 0, "a %d-step open-loop rollout from a real past equals stepping by hand (max diff %g)", K,
           worst);
    // after K pushes of inputs zin_0..zin_{K-1} (zin_k = znext_{k-1}), plane k holds zin_{K - off[k]}
    EXPECT(memcmp(step.hist, dynm_znext(&dm, K - 2), (size_t)Z * sizeof(float)) == 0 &&
               memcmp(step.hist + (size_t)1 * Z, dynm_znext(&dm, K - 4), (size_t)Z * sizeof(float)) == 0 &&
               memcmp(step.hist + (size_t)2 * Z, dynm_znext(&dm, K - 7), (size_t)Z * sizeof(float)) == 0,
           "after %d steps the planes hold the inputs of steps %d, %d, %d", K, K - 1, K - 3, K - 6);
    // the far plane matters: another latent 6 steps back changes the step
    dynm_hist_reset(&step, zt, B);
    dynm_forward_step(&step, 0, zt, a, B);
    float *d0 = xmalloc_floats(nz);
    memcpy(d0, dynm_znext(&step, 0), nz * sizeof(float));
    for (int q = 0; q < Z; q++) step.past[(size_t)5 * Z + q] += 1.0f;
    dynm_hist_gather(&step, B);
    dynm_forward_step(&step, 0, zt, a, B);
    double moved = 0;
    for (size_t i = 0; i < nz; i++) moved = fmax(moved, fabs(d0[i] - dynm_znext(&step, 0)[i]));
    EXPECT(moved > 1e-4, "the latent 6 steps back enters the step (max change %g)", moved);
    // the ring over many turns: after pushing latents numbered 1..P (sample b: 1000 b + i), plane
    // k holds number P + 1 - off[k]; a gather of a past filled by hand starts the ring over
    int rings = 1;
    for (int i = 1; i <= 4 * 6 + 1; i++) {
        for (int b = 0; b < B; b++)
            for (int q = 0; q < Z; q++) z[(size_t)b * Z + q] = (float)(1000 * b + i);
        dynm_hist_push(&step, z, B);
        for (int b = 0; b < B; b++)
            for (int k = 0; k < N; k++) {
                float want = i + 1 - c.hist_off[k] >= 1 ? (float)(1000 * b + i + 1 - c.hist_off[k]) : NAN;
                if (want == want) rings &= step.hist[((size_t)b * N + k) * Z + Z - 1] == want;
            }
    }
    for (int b = 0; b < B; b++)
        for (int j = 0; j < 6; j++)
            for (int q = 0; q < Z; q++) step.past[((size_t)b * 6 + j) * Z + q] = (float)(-10 * b - j);
    dynm_hist_gather(&step, B);
    rings &= step.hist[2 * Z] == -5.0f && step.hist[(size_t)(N + 1) * Z] == -12.0f;
    EXPECT(rings, "%d pushes (the ring turned 4 times): every plane holds the latent its steps back; then a "
                  "past filled by hand in order is read in order", 4 * 6 + 1);
    dynm_free(&dm);
    dynm_free(&step);

    // checkpoint attributes: history_offsets only when not 1..N; refused when malformed
    ConvDynConfig back;
    CkptMeta meta;
    memset(&meta, 0, sizeof meta);
    ckpt_meta_conv_dyn(&meta, &c);
    const CkptAttr *ho = ckpt_get(&meta, "history_offsets");
    EXPECT(ho && ho->type == CKPT_STR && strcmp(ho->s, "1,3,6") == 0 &&
               ckpt_meta_to_conv_dyn_config(&meta, &back, &err) == 0 && back.history == 3 && back.hist_off[2] == 6,
           "history_offsets '1,3,6' written and read back (%s)", ho ? ho->s : "none");
    ConvDynConfig d = c;
    d.hist_off[1] = 2, d.hist_off[2] = 3;   // 1,2,3: the plain history, no attribute
    memset(&meta, 0, sizeof meta);
    ckpt_meta_conv_dyn(&meta, &d);
    EXPECT(!ckpt_get(&meta, "history_offsets"), "offsets 1,2,3 write no attribute (as history = 3)");
    const char *bad[] = {"1,3", "1,3,x", "3,1,6", "1,3,300"};
    for (int i = 0; i < 4; i++) {
        memset(&meta, 0, sizeof meta);
        ckpt_meta_conv_dyn(&meta, &c);
        ckpt_set_str(&meta, "history_offsets", bad[i]);
        EXPECT(ckpt_meta_to_conv_dyn_config(&meta, &back, &err) < 0, "history_offsets '%s' refused: %s", bad[i],
               err.msg);
    }
    d.hist_off[1] = 1;
    EXPECT(cdyn_config_check(&d, &err) < 0, "offsets 1,1,3 refused: %s", err.msg);
    free(zt); free(a); free(z); free(d0);
}

static void test_widen(void) {
    printf("--init: a model with a history of 2 starts from one without it (conv_in widened with zeros)\n");
    Err err;
    Rng rng;
    rng_seed(&rng, 5);
    ConvDynConfig c0 = {3, 4, 5, 4, 6, 2, 1, 0, 2, 0, {0}, 0}, c2 = c0;
    c2.history = 2;
    ConvDyn m0, m2;
    CHECK(cdyn_init(&m0, &c0, 2, &rng, &err) == 0 && cdyn_init(&m2, &c2, 2, &rng, &err) == 0, "%s", err.msg);
    for (size_t i = 0; i < m0.arena.n; i++) m0.arena.params[i] += 0.1f * rng_normal(&rng);
    char dir[256], path[300];
    test_mkdtemp(dir, sizeof dir, "nemu_test_widen");
    snprintf(path, sizeof path, "%s/d0.h5", dir);
    CkptMeta meta;
    memset(&meta, 0, sizeof meta);
    ckpt_meta_conv_dyn(&meta, &c0);
    CHECK(checkpoint_save(path, &m0.arena, &meta, &err) == 0, "%s", err.msg);
    EXPECT(checkpoint_load_weights(path, &m2.arena, &err) == 0, "loads into the wider model: %s", err.msg);
    const size_t nz = (size_t)2 * m0.Z;
    float *z = xmalloc_floats(nz), *hist = xmalloc_floats(2 * nz), *a = xmalloc_floats(8);
    for (size_t i = 0; i < nz; i++) z[i] = rng_normal(&rng);
    for (size_t i = 0; i < 2 * nz; i++) hist[i] = rng_normal(&rng);
    for (int i = 0; i < 8; i++) a[i] = (float)rng_below(&rng, 2);
    cdyn_forward_step(&m0, 0, z, a, 2);
    m2.hist = hist;
    cdyn_forward_step(&m2, 0, z, a, 2);
    // equal up to float rounding (the wider conv sums its zero planes in another order)
    expect_close("the widened model's step against the file's, whatever the history", cdyn_head(&m2, 0),
                 cdyn_head(&m0, 0), (long)2 * m0.OUT, 1e-6, 1e-5);
    EXPECT(checkpoint_load_weights(path, &m0.arena, &err) == 0, "the same shapes still load");
    snprintf(path, sizeof path, "%s/d2.h5", dir);
    ckpt_meta_conv_dyn(&meta, &c2);
    CHECK(checkpoint_save(path, &m2.arena, &meta, &err) == 0, "%s", err.msg);
    EXPECT(checkpoint_load_weights(path, &m0.arena, &err) < 0 && strstr(err.msg, "conv_in.weight"),
           "a file with more input channels than the model is refused: %s", err.msg);
    test_rm_tree(dir);
    free(z); free(hist); free(a);
    cdyn_free(&m0);
    cdyn_free(&m2);
}

int main(void) {
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    test_fixture();
    test_fd();
    test_bookkeeping();
    test_meta();
    test_offsets();
    test_widen();
    return test_summary();
}
