/*
 * test_dynamics.c - nn/dynamics.h: the DynModel wrapper over the flat MLP, the VAE head
 * (temperature 0 = the mean bit for bit, sampling with fed eps, KL and its gradient) and
 * K-step rollout training with scheduled sampling:
 *   - pass-through: DynModel of a deterministic Dyn gives dyn_rollout's outputs bit for bit
 *     and its gradients; a 1-step rollout is the phase-1 MSE on the delta bit for bit;
 *   - directional derivative checks (all params along one random direction vs grad . d) of
 *     one VAE step and of 5-step rollouts: deterministic and VAE, open loop and scheduled
 *     sampling with given coin flips;
 *   - the PyTorch fixture tests/fixtures/dyn_phase3.h5 (make_dynamics_fixtures.py): the
 *     VAE head with given eps, and a 3-step rollout loss with scheduled sampling (given coins)
 *     and every parameter gradient, for a deterministic and a VAE model.
 */
#include <math.h>
#include <string.h>

#include "nn/dynamics.h"
#include "tests/fixture_h5.h"
#include "base/h5.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "src/config.h"
#include "tests/test.h"

typedef struct {
    DynModel *m;
    const float *ztrue, *a;
    const uint8_t *feed;
    int K, B;
} RollCtx;

static double roll_loss(RollCtx *c, int backward) {
    DynLoss L = dynm_rollout_forward(c->m, c->ztrue, c->a, c->feed, c->K, c->B);
    if (backward) {
        arena_zero_grad(dynm_arena(c->m));
        dynm_rollout_backward(c->m, c->ztrue, c->feed, c->K, c->B);
    }
    return L.mse + (double)c->m->beta * L.kl;
}

// |fd - grad.d| / max(|fd|, |grad.d|) along one N(0,1) direction over all params.
static double directional(const char *what, RollCtx *c, double eps, Rng *rng) {
    ParamArena *a = dynm_arena(c->m);
    size_t n = a->n;
    float *p0 = xmalloc_floats(n), *d = xmalloc_floats(n);
    memcpy(p0, a->params, n * sizeof(float));
    for (size_t i = 0; i < n; i++) d[i] = rng_normal(rng);
    roll_loss(c, 1);
    double an = 0, l[2];
    for (size_t i = 0; i < n; i++) an += (double)a->grads[i] * d[i];
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < n; i++) a->params[i] = (float)(p0[i] + (k ? -eps : eps) * d[i]);
        l[k] = roll_loss(c, 0);
    }
    memcpy(a->params, p0, n * sizeof(float));
    free(p0), free(d);
    double fd = (l[0] - l[1]) / (2 * eps), rel = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), 1e-30);
    printf("  directional %-44s fd % .8e  grad.d % .8e  rel %.2e\n", what, fd, an, rel);
    return rel;
}

static void perturb(DynModel *m, Rng *rng) {   // non-trivial LayerNorm affine and last bias
    Dyn *d = m->impl;
    for (int i = 0; i < d->IN; i++) { d->w.ln_w[i] = 1 + 0.2f * rng_normal(rng); d->w.ln_b[i] = 0.1f * rng_normal(rng); }
    for (int i = 0; i < d->OUT; i++) d->w.fc3_b[i] = 0.1f * rng_normal(rng);
}

// DynModel over a deterministic Dyn = the Dyn itself; K = 1 loss = phase-1 MSE on the delta,
// bit for bit.
static void test_passthrough(void) {
    const int Z = 5, A = 3, B = 7, K = 4;
    DynConfig cfg = {.latent_dim = Z, .n_actions = A, .hidden = 12, .max_steps = K};
    Rng r1, r2;
    rng_seed(&r1, 3), rng_seed(&r2, 3);
    Dyn ref;
    DynModel m;
    Err err;
    CHECK(dyn_init(&ref, &cfg, B, &r1, &err) == 0, "%s", err.msg);
    CHECK(dynm_flat_init(&m, &cfg, B, &r2, &err) == 0, "%s", err.msg);
    size_t nz = (size_t)B * Z;
    float *zt = xmalloc_floats((K + 1) * nz), *a = xmalloc_floats((size_t)K * B * A), *dzs = xmalloc_floats(K * nz);
    for (size_t i = 0; i < (K + 1) * nz; i++) zt[i] = rng_normal(&r1);
    for (int i = 0; i < K * B; i++) a[i * A + rng_below(&r1, A)] = 1;
    dyn_rollout_forward(&ref, zt, a, K, B);
    double want = 0;
    for (int k = 0; k < K; k++) {
        want += mse_loss_forward(dyn_znext(&ref, k), zt + (k + 1) * nz, nz);
        mse_loss_backward(dzs + k * nz, dyn_znext(&ref, k), zt + (k + 1) * nz, nz, 1.0f);
    }
    arena_zero_grad(&ref.arena);
    dyn_rollout_backward(&ref, dzs, K, B, NULL);
    RollCtx c = {&m, zt, a, NULL, K, B};
    double got = roll_loss(&c, 1);
    EXPECT(fabs(got - want) <= 1e-5 * want, "open-loop rollout loss %.9g vs dyn_rollout %.9g", got, want);
    EXPECT(!memcmp(dynm_znext(&m, K - 1), dyn_znext(&ref, K - 1), nz * sizeof(float)), "rollout znext differs");
    expect_close("open-loop rollout grads vs dyn_rollout_backward", dynm_arena(&m)->grads, ref.arena.grads,
                 (long)ref.arena.n, 1e-6, 1e-4);
    // K = 1: MSE(znext, z1) is MSE(delta, z1 - z0), and so are its gradients
    float *target = xmalloc_floats(nz), *dd = xmalloc_floats(nz);
    for (size_t i = 0; i < nz; i++) target[i] = zt[nz + i] - zt[i];
    dyn_forward_step(&ref, 0, zt, a, B);
    want = mse_loss_forward(dyn_delta(&ref, 0), target, nz);
    arena_zero_grad(&ref.arena);
    memset(dd, 0, nz * sizeof(float));
    mse_loss_backward(dd, dyn_delta(&ref, 0), target, nz, 1.0f);
    dyn_backward_step(&ref, 0, dd, NULL, NULL, B);
    c.K = 1;
    got = roll_loss(&c, 1);
    EXPECT(got == want, "1-step rollout loss %.9g vs phase-1 delta MSE %.9g", got, want);
    EXPECT(!memcmp(dynm_arena(&m)->grads, ref.arena.grads, ref.arena.n * sizeof(float)),
           "1-step rollout grads differ from phase 1's bit for bit");
    free(zt), free(a), free(dzs), free(target), free(dd);
    dyn_free(&ref);
    dynm_free(&m);
}

// VAE: T = 0 gives delta = mean bit for bit (no eps drawn); T > 0 uses exp(logvar/2) * eps.
static void test_vae_temperature(void) {
    const int Z = 4, A = 2, B = 3;
    DynConfig cfg = {.latent_dim = Z, .n_actions = A, .hidden = 8, .max_steps = 1, .vae = 1};
    Rng r;
    rng_seed(&r, 9);
    DynModel m;
    Err err;
    CHECK(dynm_flat_init(&m, &cfg, B, &r, &err) == 0, "%s", err.msg);
    EXPECT(m.OUT == 2 * Z && ((Dyn *)m.impl)->OUT == 2 * Z, "vae head: OUT %d, want %d", m.OUT, 2 * Z);
    const float *b5 = ((Dyn *)m.impl)->w.fc3_b;
    EXPECT(b5[0] == 0 && b5[Z - 1] == 0 && b5[Z] == DYN_VAE_LOGVAR_INIT && b5[2 * Z - 1] == DYN_VAE_LOGVAR_INIT,
           "vae head init: mean bias 0, log-variance bias %g", DYN_VAE_LOGVAR_INIT);
    perturb(&m, &r);
    float z[12], a[6] = {1, 0, 0, 1, 1, 1}, eps[12];
    for (int i = 0; i < B * Z; i++) z[i] = rng_normal(&r), eps[i] = rng_normal(&r);
    m.temperature = 0;
    m.rng = &r;
    uint64_t before = r.s[0];
    dynm_forward_step(&m, 0, z, a, B);
    EXPECT(r.s[0] == before, "temperature 0 drew from the rng");
    int same = 1;
    const float *h = dynm_head(&m, 0);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < Z; j++) {
            same &= dynm_delta(&m, 0)[b * Z + j] == h[b * 2 * Z + j];
            same &= dynm_znext(&m, 0)[b * Z + j] == z[b * Z + j] + h[b * 2 * Z + j];
        }
    EXPECT(same, "temperature 0: delta is not the mean bit for bit");
    m.temperature = 0.5f;
    m.eps_in = eps;
    dynm_forward_step(&m, 0, z, a, B);
    double maxd = 0;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < Z; j++) {
            double want = h[b * 2 * Z + j] + 0.5 * exp(0.5 * h[b * 2 * Z + Z + j]) * eps[b * Z + j];
            maxd = fmax(maxd, fabs(dynm_delta(&m, 0)[b * Z + j] - want));
        }
    EXPECT(maxd < 1e-6, "sampled delta off by %.3g", maxd);
    double kl = 0;
    for (int b = 0; b < B; b++)
        for (int j = 0; j < Z; j++) {
            double mu = h[b * 2 * Z + j], lv = h[b * 2 * Z + Z + j];
            kl += -0.5 * (1 + lv - mu * mu - exp(lv));
        }
    kl /= B * Z;
    EXPECT(fabs(dynm_kl(&m, 0, B) - kl) < 1e-9, "KL %.9g vs %.9g", dynm_kl(&m, 0, B), kl);
    dynm_free(&m);
}

// Directional checks through a 5-step rollout: deterministic and VAE, open loop and with
// scheduled sampling (fixed coin flips), beta > 0 so the KL gradient is in.
static void test_rollout_directional(void) {
    const int Z = 6, A = 3, B = 9, K = 5;
    printf("rollout directional checks (Z=%d A=%d hidden 16, B=%d, K=%d)\n", Z, A, B, K);
    Rng r;
    rng_seed(&r, 21);
    size_t nz = (size_t)B * Z;
    float *zt = xmalloc_floats((K + 1) * nz), *a = xmalloc_floats((size_t)K * B * A);
    float *eps = xmalloc_floats(K * nz);
    uint8_t feed[5 * 9];
    for (size_t i = 0; i < (K + 1) * nz; i++) zt[i] = rng_normal(&r);
    for (int i = 0; i < K * B; i++) a[i * A + rng_below(&r, A)] = 1;
    for (size_t i = 0; i < K * nz; i++) eps[i] = rng_normal(&r);
    int fed = 0;
    for (int i = 0; i < K * B; i++) fed += feed[i] = rng_uniform(&r) < 0.5;
    for (int vae = 0; vae < 2; vae++) {
        DynConfig cfg = {.latent_dim = Z, .n_actions = A, .hidden = 16, .max_steps = K, .vae = vae};
        DynModel m;
        Err err;
        CHECK(dynm_flat_init(&m, &cfg, B, &r, &err) == 0, "%s", err.msg);
        perturb(&m, &r);
        m.eps_in = eps;
        m.beta = vae ? 0.3f : 0.0f;
        RollCtx c = {&m, zt, a, NULL, 1, B};
        char what[96];
        for (int mode = 0; mode < 3; mode++) {   // 1 step; K open loop; K with coins
            c.K = mode ? K : 1;
            c.feed = mode == 2 ? feed : NULL;
            snprintf(what, sizeof what, "%s %s", vae ? "vae (beta 0.3, fed eps)" : "deterministic",
                     mode == 0 ? "1 step" : mode == 1 ? "5-step open loop" : "5-step sched. sampling");
            double rel = directional(what, &c, 1e-3, &r);
            EXPECT(rel < 2e-3, "%s: directional rel %.2e", what, rel);
        }
        dynm_free(&m);
    }
    EXPECT(fed > 5 && fed < K * B - 5, "coin flips not mixed (%d of %d)", fed, K * B);
    free(zt), free(a), free(eps);
}

// ---------------------------------------------------------------- PyTorch fixture

static float *fx(hid_t f, const char *g, const char *name, size_t *n_out) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", g, name);
    return read_all(f, path, n_out);
}

static void expect_scalar(const char *what, double got, hid_t f, const char *g, const char *name) {
    float *w = fx(f, g, name, NULL);
    EXPECT(fabs(got - w[0]) <= 1e-5 * fabs(w[0]) + 1e-7, "%s/%s: %.9g vs torch %.9g", g, what, got, w[0]);
    printf("  %-28s nemu %.9g  torch %.9g\n", what, got, w[0]);
    free(w);
}

// tests/fixtures/dyn_phase3.h5 (make_dynamics_fixtures.py): the VAE head with given eps, and
// 3-step rollouts with scheduled sampling (given coin flips), deterministic and VAE.
static void test_fixture(void) {
    char buf[1024];
    Err err;
    hid_t f = h5_open(fixture_path("dyn_phase3.h5", buf, sizeof buf), 0, &err);
    CHECK(f >= 0, "%s", err.msg);
    int64_t Z, A, Hd, B, K;
    double beta;
    CHECK(h5_attr_read_i64(f, "/", "Z", &Z, &err) == 0 && h5_attr_read_i64(f, "/", "A", &A, &err) == 0 &&
              h5_attr_read_i64(f, "/", "hidden", &Hd, &err) == 0 && h5_attr_read_i64(f, "/", "B", &B, &err) == 0 &&
              h5_attr_read_i64(f, "/", "K", &K, &err) == 0 && h5_attr_read_f64(f, "/", "beta", &beta, &err) == 0,
          "fixture: %s", err.msg);
    printf("PyTorch fixture dyn_phase3.h5 (Z=%d A=%d hidden %d, B=%d, K=%d, beta %g)\n", (int)Z, (int)A, (int)Hd,
           (int)B, (int)K, beta);
    for (int vae = 0; vae < 2; vae++) {
        const char *g = vae ? "vae" : "det";
        DynConfig cfg = {(int)Z, (int)A, (int)Hd, (int)K, vae};
        Rng r;
        rng_seed(&r, 1);
        DynModel m;
        CHECK(dynm_flat_init(&m, &cfg, (int)B, &r, &err) == 0, "%s", err.msg);
        ParamArena *pa = dynm_arena(&m);
        char group[64], name[160];
        snprintf(group, sizeof group, "%s/state_dict", g);
        load_state_dict(f, pa, group);
        m.beta = vae ? (float)beta : 0.0f;
        if (vae) {   // the head alone: delta = mean + exp(logvar/2) * eps, MSE + beta * KL
            float *z = fx(f, "vae/head", "x/z", NULL), *a = fx(f, "vae/head", "x/a", NULL);
            float *eps = fx(f, "vae/head", "x/eps", NULL), *tg = fx(f, "vae/head", "x/target", NULL);
            float *head = fx(f, "vae/head", "head", NULL), *delta = fx(f, "vae/head", "delta", NULL);
            size_t nz = (size_t)B * Z;
            m.eps_in = eps;
            dynm_forward_step(&m, 0, z, a, (int)B);
            expect_close("vae head [mean | logvar]", dynm_head(&m, 0), head, (long)(2 * nz), 1e-6, 1e-4);
            expect_close("vae sampled delta", dynm_delta(&m, 0), delta, (long)nz, 1e-6, 1e-4);
            double mse = mse_loss_forward(dynm_delta(&m, 0), tg, nz), kl = dynm_kl(&m, 0, (int)B);
            expect_scalar("vae head KL", kl, f, "vae/head", "kl");
            expect_scalar("vae head MSE + beta*KL", mse + beta * kl, f, "vae/head", "loss");
            float *dd = xmalloc_floats(nz);
            mse_loss_backward(dd, dynm_delta(&m, 0), tg, nz, 1.0f);
            arena_zero_grad(pa);
            dynm_backward_step(&m, 0, dd, NULL, NULL, (int)B);
            compare_grads(pa, f, "vae/head/grads");
            free(z), free(a), free(eps), free(tg), free(head), free(delta), free(dd);
        }
        char rg[32];
        snprintf(rg, sizeof rg, "%s/rollout", g);
        size_t nfeed;
        float *zt = fx(f, rg, "x/ztrue", NULL), *a = fx(f, rg, "x/a", NULL), *eps = fx(f, rg, "x/eps", NULL);
        float *feedf = fx(f, rg, "x/feed", &nfeed), *zn = fx(f, rg, "znext", NULL);
        uint8_t *feed = xmalloc(nfeed);
        for (size_t i = 0; i < nfeed; i++) feed[i] = feedf[i] > 0.5f;
        m.eps_in = eps;
        DynLoss L = dynm_rollout_forward(&m, zt, a, feed, (int)K, (int)B);
        arena_zero_grad(pa);
        dynm_rollout_backward(&m, zt, feed, (int)K, (int)B);
        for (int k = 0; k < K; k++) {
            snprintf(name, sizeof name, "%s rollout znext step %d", g, k + 1);
            expect_close(name, dynm_znext(&m, k), zn + (size_t)k * B * Z, (long)(B * Z), 1e-6, 1e-4);
        }
        expect_scalar(vae ? "vae rollout sum MSE" : "det rollout sum MSE", L.mse, f, rg, "mse");
        if (vae) expect_scalar("vae rollout sum KL", L.kl, f, rg, "kl");
        expect_scalar(vae ? "vae rollout loss" : "det rollout loss", L.mse + m.beta * L.kl, f, rg, "loss");
        snprintf(group, sizeof group, "%s/grads", rg);
        compare_grads(pa, f, group);
        free(zt), free(a), free(eps), free(feedf), free(zn), free(feed);
        dynm_free(&m);
    }
    h5_close(f);
}

static void test_schedule(void) {
    EXPECT(dynm_sampling_p(0, 0.5, 0, 11) == 0 && dynm_sampling_p(0, 0.5, 10, 11) == 0.5 &&
               fabs(dynm_sampling_p(0, 0.5, 5, 11) - 0.25) < 1e-12 && dynm_sampling_p(0.2, 0.5, 0, 1) == 0.2,
           "linear sampling schedule");
}

// The phase-3 configs load and say what they are.
static void test_configs(void) {
    static const struct { const char *file; int vae; double beta; int K; double p0, p1; } want[] = {
        {"configs/tetris_vae_b1e-4.ini", 1, 1e-4, 1, 0, 0}, {"configs/tetris_vae_b1e-3.ini", 1, 1e-3, 1, 0, 0},
        {"configs/tetris_vae_b1e-2.ini", 1, 1e-2, 1, 0, 0}, {"configs/tetris_rollout_ss.ini", 0, 0, 5, 0, 0.5},
        {"configs/tetris_rollout5.ini", 0, 0, 5, 1, 1},
        {"configs/tetris_spatial_vae_b1e-4.ini", 1, 1e-4, 4, 0, 0.5},
        {"configs/tetris_spatial_vae_b1e-3.ini", 1, 1e-3, 4, 0, 0.5},
        {"configs/tetris_spatial_vae_b1e-2.ini", 1, 1e-2, 4, 0, 0.5}};
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        Config c;
        Err err;
        char path[1024];
        const char *root = getenv("NEMU_ROOT");
        snprintf(path, sizeof path, "%s/%s", root ? root : ".", want[i].file);
        int ok = config_load(&c, path, 0, NULL, &err) == 0;
        EXPECT(ok, "%s: %s", want[i].file, err.msg);
        if (!ok) continue;
        EXPECT((c.dynamics.type == DYN_VAE) == want[i].vae && c.dynamics.beta == want[i].beta &&
                   c.dynamics.rollout_steps == want[i].K && c.dynamics.sampling_start == want[i].p0 &&
                   c.dynamics.sampling_end == want[i].p1,
               "%s: type, beta, rollout_steps, sampling as named", want[i].file);
    }
}

int main(void) {
    test_passthrough();
    test_vae_temperature();
    test_rollout_directional();
    test_schedule();
    test_fixture();
    test_configs();
    return test_summary();
}
