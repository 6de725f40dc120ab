/*
 * test_model.c - whole-model tests of nn/model.c:
 *   1. PyTorch parity (fixtures from tests/make_model_fixtures.py, float64 reference):
 *      outputs, loss, every parameter gradient and 10 Adam-step losses of the gymemu-sized
 *      autoencoder (80x80x1), a non-square RGB 4-stage autoencoder, the dynamics MLP and a
 *      3-step dynamics rollout with BPTT.
 *   2. Directional gradient checks (STYLE.md practice 6): all params perturbed along one
 *      random direction, (L(p+eps d) - L(p-eps d)) / 2eps vs grad . d, for the autoencoder
 *      (with latent noise and an extra z gradient), the dynamics MLP, and a K-step rollout.
 *   3. Config checks, init properties, encode/decode vs forward, gradient accumulation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/h5.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "base/threads.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "tests/ae_parity.h"
#include "tests/fixture_h5.h"
#include "tests/gradcheck.h"
#include "tests/test.h"
#ifdef _OPENMP
#include <omp.h>
#endif

// The splitmix64 uniforms of make_model_fixtures.py: (splitmix64((id << 32) + i) >> 40) / 2^24.
static double splitmix_u(uint64_t id, uint64_t i) {
    uint64_t z = (id << 32) + i + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 40) / (double)(1 << 24);
}

static void splitmix_state_dict(ParamArena *a) {
    for (int k = 0; k < a->n_tensors; k++) {
        const TensorInfo *t = &a->t[k];
        const TensorInfo *w = t->rank == 1 && k > 0 ? &a->t[k - 1] : t;   // a bias follows its weight
        int fan = w->rank == 4 ? w->dims[1] * w->dims[2] * w->dims[3] : w->dims[1];
        double bound = 1.0 / sqrt((double)fan);
        for (size_t i = 0; i < t->n; i++)
            a->params[t->offset + i] = (float)((2 * splitmix_u((uint64_t)k + 1, i) - 1) * bound);
    }
}

// ---------------------------------------------------------------- AE parity

static void test_ae_fixture(const char *file) {
    AE m;
    float *x;
    int B, steps;
    hid_t f = ae_fixture_open(file, &m, &x, &B, &steps);
    const size_t nx = (size_t)B * m.cfg.C * m.cfg.H * m.cfg.W;
    if (attr_i(f, "splitmix")) {
        splitmix_state_dict(&m.arena);
        size_t bad = 0;
        for (size_t i = 0; i < nx; i++) bad += x[i] != (float)splitmix_u(1000, i);
        EXPECT(bad == 0, "fixture x equals the splitmix uniforms (%zu differ)", bad);
    } else {
        load_state_dict(f, &m.arena, "state_dict");
    }
    ae_parity_check(f, &m, x, B, steps);
    free(x);
    ae_free(&m);
    h5_close(f);
}

// ---------------------------------------------------------------- dynamics parity

static float dyn_step_loss(Dyn *m, const float *z, const float *a, const float *target, int B, float *dd, int backward) {
    size_t n = (size_t)B * m->cfg.latent_dim;
    dyn_forward_step(m, 0, z, a, B);
    float loss = mse_loss_forward(dyn_delta(m, 0), target, n);
    if (backward) {
        memset(dd, 0, n * sizeof(float));
        mse_loss_backward(dd, dyn_delta(m, 0), target, n, 1.0f);
        dyn_backward_step(m, 0, dd, NULL, NULL, B);
    }
    return loss;
}

static void test_dyn_fixture(void) {
    Err err;
    hid_t f = fixture_h5("model_dyn.h5");
    int Z = (int)attr_i(f, "Z"), A = (int)attr_i(f, "A"), B = (int)attr_i(f, "B"), K = (int)attr_i(f, "K");
    int steps = (int)attr_i(f, "adam_steps");
    DynConfig cfg = {.latent_dim = Z, .n_actions = A, .hidden = (int)attr_i(f, "hidden"), .max_steps = K};
    Rng rng;
    rng_seed(&rng, 2);
    Dyn m;
    CHECK(dyn_init(&m, &cfg, B, &rng, &err) == 0, "%s", err.msg);
    load_state_dict(f, &m.arena, "state_dict");
    size_t n;
    float *z = read_all(f, "z", NULL), *a = read_all(f, "a", NULL), *zn = read_all(f, "z_next", &n);
    float *target = xmalloc_floats(n), *dd = xmalloc_floats(n);
    for (size_t i = 0; i < n; i++) target[i] = zn[i] - z[i];
    arena_zero_grad(&m.arena);
    float loss = dyn_step_loss(&m, z, a, target, B, dd, 1);
    compare_step(f, dyn_delta(&m, 0), loss, &m.arena);

    // rollout with BPTT: loss = mean over K steps of MSE(z_{t+1}, true z_{t+1})
    float *ra = read_all(f, "roll_a", NULL), *rz = read_all(f, "roll_z", NULL);
    size_t nk = (size_t)K * B * Z;
    float *zhat = xmalloc_floats(nk), *dzs = xmalloc_floats(nk);
    arena_zero_grad(&m.arena);
    dyn_rollout_forward(&m, rz, ra, K, B);
    for (int t = 0; t < K; t++) memcpy(zhat + (size_t)t * B * Z, dyn_znext(&m, t), (size_t)B * Z * sizeof(float));
    float rloss = mse_loss_forward(zhat, rz + (size_t)B * Z, nk);
    mse_loss_backward(dzs, zhat, rz + (size_t)B * Z, nk, 1.0f);
    dyn_rollout_backward(&m, dzs, K, B, NULL);
    compare_with(f, "roll_zhat", zhat);
    compare_with(f, "roll_loss", &rloss);
    compare_grads(&m.arena, f, "roll_grads");

    Adam opt = adam_default((float)1e-3);
    arena_zero_adam(&m.arena);
    float *losses = xmalloc_floats((size_t)steps);
    for (int s = 0; s < steps; s++) {
        arena_zero_grad(&m.arena);
        losses[s] = dyn_step_loss(&m, z, a, target, B, dd, 1);
        adam_step(&opt, m.arena.params, m.arena.grads, m.arena.m, m.arena.v, m.arena.n);
    }
    compare_adam_losses(f, losses, steps, 1e-7);
    char name[160];
    for (int i = 0; i < m.arena.n_tensors; i++) {
        snprintf(name, sizeof name, "adam_final/%s", m.arena.t[i].name);
        float *want = read_all(f, name, &n);
        expect_close(name, m.arena.params + m.arena.t[i].offset, want, (long)n, 2e-6, 1e-4);
        free(want);
    }
    free(losses); free(zhat); free(dzs); free(ra); free(rz);
    free(z); free(a); free(zn); free(target); free(dd);
    dyn_free(&m);
    h5_close(f);
}

// ---------------------------------------------------------------- directional checks

static void test_ae_directional(void) {
    printf("autoencoder directional check (16x24x3, 3 stages, base 4, latent 8, noise 0.1, B=2)\n");
    AEConfig cfg = {.H = 16, .W = 24, .C = 3, .stages = 3, .base_channels = 4, .latent_dim = 8, .latent_noise = 0.1f};
    Rng rng;
    rng_seed(&rng, 7);
    AE m;
    Err err;
    CHECK(ae_init(&m, &cfg, 2, &rng, &err) == 0, "%s", err.msg);
    int B = 2;
    size_t n = (size_t)B * 3 * 16 * 24;
    float *x = xmalloc_floats(n), *target = xmalloc_floats(n), *drecon = xmalloc_floats(n), *rz = xmalloc_floats(16);
    for (size_t i = 0; i < n; i++) { x[i] = (float)rng_uniform(&rng); target[i] = (float)rng_uniform(&rng); }
    for (int i = 0; i < 16; i++) rz[i] = 0.01f * rng_normal(&rng);
    AECtx c = {&m, x, target, rz, drecon, B, 99};
    // d scaled by each tensor's init bound so every layer moves by a similar relative amount
    float *scale = param_scale(&m.arena, 0);
    double fd, an;
    Seg seg = {m.arena.params, m.arena.grads, m.arena.n, scale};
    // eps 1e-4: at 1e-3 the ReLU kinks and curvature of this tiny random net already cost
    // ~2.5% (measured: rel 8e-2, 2.5e-2, 1.4e-3, 1.8e-4 at eps 1e-2, 1e-3, 3e-4, 1e-4)
    double eps = 1e-4;
    double rel = directional("autoencoder (all params)", &seg, 1, ae_loss, &c, eps, &rng, &fd, &an);
    EXPECT(rel < 5e-3, "autoencoder directional derivative: fd %.6e vs grad.d %.6e (rel %.2e)", fd, an, rel);
    // the noise really is applied when an Rng is given, and not otherwise
    ae_forward(&m, x, B, NULL);
    float *r0 = xmalloc_floats(n);
    memcpy(r0, m.recon, n * sizeof(float));
    Rng nr;
    rng_seed(&nr, 5);
    ae_forward(&m, x, B, &nr);
    double diff = 0;
    for (size_t i = 0; i < n; i++) diff = fmax(diff, fabs(r0[i] - m.recon[i]));
    EXPECT(diff > 1e-4, "latent noise changes the reconstruction (max diff %.3g)", diff);
    // ae_encode / ae_decode equal the noise-free forward
    float *z = xmalloc_floats(16), *out = xmalloc_floats(n);
    ae_encode(&m, x, B, z);
    ae_decode(&m, z, B, out);
    EXPECT(memcmp(out, r0, n * sizeof(float)) == 0, "ae_decode(ae_encode(x)) equals ae_forward without noise");
    // batch of 1 gives the same first sample
    float z1[8];
    ae_encode(&m, x, 1, z1);
    ae_encode(&m, x, 2, z);
    expect_close("B=1 vs B=2 latent", z1, z, 8, 1e-6, 1e-5);
    // backward accumulates: two backward passes give twice the gradient
    ae_loss(&c, 1);
    float *g1 = xmalloc_floats(m.arena.n);
    memcpy(g1, m.arena.grads, m.arena.n * sizeof(float));
    for (size_t i = 0; i < m.arena.n; i++) g1[i] *= 2;
    ae_backward(&m, drecon, rz, B);
    expect_close("backward accumulates (2x grads)", m.arena.grads, g1, (long)m.arena.n, 1e-7, 1e-5);
    free(g1); free(z); free(out); free(r0); free(scale);
    free(x); free(target); free(drecon); free(rz);
    ae_free(&m);
}

typedef struct {
    Dyn *m;
    float *z0;           // [B,Z], perturbed along with the params for the rollout check
    const float *a, *target;   // [K][B][A], [K][B][Z]
    float *dzs, *dz0;
    int B, K;
} DynCtx;

// K == 0: one step, L = MSE(delta, target[0]); K >= 1: rollout, L = MSE(z_1..z_K, target)
static double dyn_loss(void *vctx, int backward) {
    DynCtx *c = vctx;
    Dyn *m = c->m;
    const int Z = m->cfg.latent_dim, K = c->K ? c->K : 1;
    size_t nz = (size_t)c->B * Z;
    if (c->K) dyn_rollout_forward(m, c->z0, c->a, K, c->B);
    else dyn_forward_step(m, 0, c->z0, c->a, c->B);
    double loss = 0;
    for (int t = 0; t < K; t++) {
        const float *y = c->K ? dyn_znext(m, t) : dyn_delta(m, 0);
        for (size_t i = 0; i < nz; i++) { double e = (double)y[i] - c->target[t * nz + i]; loss += e * e; }
    }
    loss /= (double)(K * nz);
    if (backward) {
        arena_zero_grad(&m->arena);
        memset(c->dzs, 0, K * nz * sizeof(float));
        memset(c->dz0, 0, nz * sizeof(float));
        for (int t = 0; t < K; t++) {
            const float *y = c->K ? dyn_znext(m, t) : dyn_delta(m, 0);
            for (size_t i = 0; i < nz; i++) c->dzs[t * nz + i] = (float)(2.0 * (y[i] - c->target[t * nz + i]) / (K * nz));
        }
        if (c->K) dyn_rollout_backward(m, c->dzs, K, c->B, c->dz0);
        else dyn_backward_step(m, 0, c->dzs, NULL, c->dz0, c->B);
    }
    return loss;
}

// B >= 64 splits each step over two threads by rows (when there are two).
static void test_dyn_directional(int B) {
    const int Z = 6, A = 3, K = 5;
    printf("dynamics directional checks (Z=%d A=%d hidden 16, B=%d, rollout K=%d)\n", Z, A, B, K);
    DynConfig cfg = {.latent_dim = Z, .n_actions = A, .hidden = 16, .max_steps = K};
    Rng rng;
    rng_seed(&rng, 11);
    Dyn m;
    Err err;
    CHECK(dyn_init(&m, &cfg, B, &rng, &err) == 0, "%s", err.msg);
    // non-trivial LayerNorm affine and last bias so their gradients are exercised
    for (int i = 0; i < m.IN; i++) { m.w.ln_w[i] = 1 + 0.2f * rng_normal(&rng); m.w.ln_b[i] = 0.1f * rng_normal(&rng); }
    for (int i = 0; i < Z; i++) m.w.fc3_b[i] = 0.1f * rng_normal(&rng);
    size_t nz = (size_t)B * Z;
    float *z0 = xmalloc_floats(nz), *dz0 = xmalloc_floats(nz);
    float *a = xmalloc_floats((size_t)K * B * A), *target = xmalloc_floats((size_t)K * nz);
    float *dzs = xmalloc_floats((size_t)K * nz), *zero_scale = xmalloc_floats(m.arena.n);
    for (int i = 0; i < K * B; i++) a[i * A + rng_below(&rng, A)] = 1;
    for (size_t i = 0; i < K * nz; i++) target[i] = rng_normal(&rng);
    for (size_t i = 0; i < nz; i++) z0[i] = rng_normal(&rng);
    DynCtx c = {&m, z0, a, target, dzs, dz0, B, 0};
    Seg segs[2] = {{m.arena.params, m.arena.grads, m.arena.n, NULL}, {z0, dz0, nz, NULL}};
    double fd, an;
    double rel = directional("dynamics step (params, z)", segs, 2, dyn_loss, &c, 1e-3, &rng, &fd, &an);
    EXPECT(rel < 1e-3, "dynamics step directional derivative: fd %.6e vs grad.d %.6e (rel %.2e)", fd, an, rel);
    c.K = K;
    rel = directional("dynamics rollout K=5 (params, z0)", segs, 2, dyn_loss, &c, 1e-3, &rng, &fd, &an);
    EXPECT(rel < 1e-3, "rollout directional derivative: fd %.6e vs grad.d %.6e (rel %.2e)", fd, an, rel);
    // z0 alone: BPTT must carry the gradient back through all K steps
    segs[0].scale = zero_scale;
    rel = directional("dynamics rollout K=5 (z0 only)", segs, 2, dyn_loss, &c, 1e-3, &rng, &fd, &an);
    EXPECT(rel < 1e-3, "rollout dL/dz0: fd %.6e vs grad.d %.6e (rel %.2e)", fd, an, rel);
    free(z0); free(dz0); free(zero_scale);
    free(a); free(target); free(dzs);
    dyn_free(&m);
}

// A batch split over threads by rows gives the serial step's outputs and gradients.
static void test_dyn_split(void) {
    const int Z = 8, A = 4, B = 100;
    DynConfig cfg = {.latent_dim = Z, .n_actions = A, .hidden = 32, .max_steps = 1};
    Rng rng;
    rng_seed(&rng, 5);
    Dyn m;
    Err err;
    CHECK(dyn_init(&m, &cfg, B, &rng, &err) == 0, "%s", err.msg);
    size_t nz = (size_t)B * Z;
    float *z = xmalloc_floats(nz), *a = xmalloc_floats((size_t)B * A), *dd = xmalloc_floats(nz);
    float *dz1 = xmalloc_floats(nz), *dz2 = xmalloc_floats(nz), *d1 = xmalloc_floats(nz);
    float *g1 = xmalloc_floats(m.arena.n);
    for (size_t i = 0; i < nz; i++) z[i] = rng_normal(&rng), dd[i] = rng_normal(&rng);
    for (int i = 0; i < B; i++) a[i * A + rng_below(&rng, A)] = 1;
    int saved = omp_threads();
    for (int pass = 0; pass < 2; pass++) {
        omp_use_threads(pass == 0 ? 1 : 2);
        float *dz = pass == 0 ? dz1 : dz2;
        memset(dz, 0, nz * sizeof(float));
        arena_zero_grad(&m.arena);
        dyn_forward_step(&m, 0, z, a, B);
        dyn_backward_step(&m, 0, dd, dd, dz, B);
        if (pass == 0) {
            memcpy(d1, dyn_delta(&m, 0), nz * sizeof(float));
            memcpy(g1, m.arena.grads, m.arena.n * sizeof(float));
        }
    }
    omp_use_threads(saved);
    expect_close("dynamics split by rows: delta == serial", dyn_delta(&m, 0), d1, (long)nz, 1e-6, 1e-5);
    expect_close("dynamics split by rows: grads == serial", m.arena.grads, g1, (long)m.arena.n, 1e-5, 1e-4);
    expect_close("dynamics split by rows: dz == serial", dz2, dz1, (long)nz, 1e-6, 1e-5);
    free(z), free(a), free(dd), free(dz1), free(dz2), free(d1), free(g1);
    dyn_free(&m);
}

// ---------------------------------------------------------------- configs and init

static void test_configs(void) {
    Rng rng;
    rng_seed(&rng, 3);
    Err err = {{0}};
    AE m;
    AEConfig bad = {.H = 81, .W = 80, .C = 1, .stages = 3, .base_channels = 32, .latent_dim = 32};
    EXPECT(ae_init(&m, &bad, 4, &rng, &err) == -1 && strstr(err.msg, "divisible"), "81x80 rejected: %s", err.msg);
    printf("  rejected: %s\n", err.msg);
    bad = (AEConfig){.H = 240, .W = 256, .C = 3, .stages = 4, .base_channels = 32, .latent_dim = 256};
    bad.W = 252;
    EXPECT(ae_init(&m, &bad, 4, &rng, &err) == -1 && strstr(err.msg, "16"), "252 wide, 4 stages rejected: %s", err.msg);
    bad.stages = 0;
    EXPECT(ae_init(&m, &bad, 4, &rng, &err) == -1, "0 stages rejected");
    // 240x256x3 NES frames, 4 stages (base 8 and latent 16 here to keep the test small;
    // base 32 / latent 256 is 33M params, 520 MB with grads and Adam)
    AEConfig nes = {.H = 240, .W = 256, .C = 3, .stages = 4, .base_channels = 8, .latent_dim = 16};
    EXPECT(ae_init(&m, &nes, 1, &rng, &err) == 0, "240x256x3 4-stage init: %s", err.msg);
    EXPECT(m.F == 64 * 15 * 16, "flattened size %d", m.F);
    const TensorInfo *t = arena_find(&m.arena, "decoder_conv.6.weight");
    EXPECT(t && t->dims[0] == 8 && t->dims[1] == 3, "decoder_conv.6.weight is [8,3,4,4]");
    EXPECT(m.dec[3].OH == 240 && m.dec[3].OW == 256, "decoder output 240x256");
    ae_print_table(&m, stdout);
    ae_free(&m);

    // gymemu's model: names and shapes of the state_dict
    AEConfig gym = {.H = 80, .W = 80, .C = 1, .stages = 3, .base_channels = 32, .latent_dim = 32};
    CHECK(ae_init(&m, &gym, 2, &rng, &err) == 0, "%s", err.msg);
    const char *names[] = {"encoder_conv.0.weight", "encoder_conv.4.bias", "fc_enc.weight", "fc_dec.bias",
                           "decoder_conv.0.weight", "decoder_conv.4.weight"};
    int want[][4] = {{32, 1, 4, 4}, {128}, {32, 12800}, {12800}, {128, 64, 4, 4}, {32, 1, 4, 4}};
    for (int i = 0; i < 6; i++) {
        t = arena_find(&m.arena, names[i]);
        int ok = t != NULL;
        for (int k = 0; ok && k < t->rank; k++) ok = t->dims[k] == want[i][k];
        EXPECT(ok, "tensor %s has PyTorch's shape", names[i]);
    }
    EXPECT(m.arena.n_tensors == 16, "16 tensors, got %d", m.arena.n_tensors);
    t = arena_find(&m.arena, "fc_enc.weight");
    double bound = 1 / sqrt(12800.0);
    EXPECT(maxabs(m.arena.params + t->offset, t->n) <= bound && maxabs(m.arena.params + t->offset, t->n) > 0.95 * bound,
           "fc_enc.weight init within U(-1/sqrt(fan_in), +)");
    ae_print_table(&m, stdout);
    ae_free(&m);

    Dyn d;
    DynConfig dc = {.latent_dim = 32, .n_actions = 8, .hidden = 128, .max_steps = 4};
    CHECK(dyn_init(&d, &dc, 4, &rng, &err) == 0, "%s", err.msg);
    double off = 0, diag = 0;   // net.1.weight [128, 40]: orthonormal columns, W^T W = I
    for (int i = 0; i < 40; i++)
        for (int j = 0; j < 40; j++) {
            double s = 0;
            for (int r = 0; r < 128; r++) s += (double)d.w.fc1_w[r * 40 + i] * d.w.fc1_w[r * 40 + j];
            if (i == j) diag = fmax(diag, fabs(s - 1));
            else off = fmax(off, fabs(s));
        }
    EXPECT(diag < 1e-5 && off < 1e-5, "net.1.weight orthogonal (|diag-1| %.2g, |off| %.2g)", diag, off);
    EXPECT(maxabs(d.w.fc3_b, 32) == 0 && d.w.ln_w[0] == 1 && d.w.ln_b[39] == 0, "zero last bias, LayerNorm 1/0");
    dyn_print_table(&d, stdout);
    dyn_free(&d);
    DynConfig dbad = {.latent_dim = 0, .n_actions = 8, .hidden = 128, .max_steps = 1};
    EXPECT(dyn_init(&d, &dbad, 4, &rng, &err) == -1, "latent_dim 0 rejected");
    printf("  rejected: %s\n", err.msg);
}

int main(void) {
#ifdef _OPENMP
    // These models are tiny: on a loaded 2-core machine OpenMP's spinning threads made this
    // test 10-20x slower (0.5 s vs 4-11 s). Threaded kernels are covered by test_ops.
    omp_set_num_threads(1);
#endif
    test_configs();
    test_ae_fixture("model_ae_gray80.h5");
    test_ae_fixture("model_ae_rgb.h5");
    test_dyn_fixture();
    test_ae_directional();
    test_dyn_directional(3);
    test_dyn_directional(70);
    test_dyn_split();
    return test_summary();
}
