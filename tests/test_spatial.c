/*
 * test_spatial.c - the spatial model family (model.latent = spatial):
 *   1. PyTorch parity (fixtures from tests/make_spatial_fixtures.py, float64 reference):
 *      outputs, z, loss, every parameter gradient and 10 Adam-step losses of the spatial
 *      autoencoder at 80x80x1 (latent 16x10x10) and 32x48x3 (latent 8x4x6).
 *   2. Finite differences: the 1x1 convs to and from the grid as layers (weights, bias, input,
 *      element by element), and the whole spatial autoencoder along a random direction (with
 *      latent noise and an extra gradient on z).
 *   4. Conv dynamics (nn/dyn_conv.h): PyTorch parity (one step: delta, loss, every gradient,
 *      10 Adam steps; a 5-step open-loop rollout with BPTT through DynModel; the same rollout
 *      with a VAE head, fed eps, MSE + beta KL); central differences element by element for
 *      every tensor of a tiny model and for its input z (every layer: action planes, conv_in,
 *      pooled context, blocks, conv_out); a whole-model directional check through a 5-step
 *      rollout (params and z0, deterministic and vae; at batch 3 on the shifted GEMMs and at 17
 *      on Winograd F(4x4, 3x3)); identity at init.
 *   5. The shifted-GEMM "same" conv path (nn/conv_same.h) against direct loops in double:
 *      K 1, 3, 5, batches 1 and 3, non-square grids, ReLU or none, every dinp mode.
 *   3. Config: latent_dim derived, a mismatching latent_dim rejected; encode/decode vs forward;
 *      a checkpoint round trip (attributes latent = "spatial", latent_channels).
 *   test_spatial --export DIR   writes spatial_ae.h5 (a checkpoint) and spatial_ae_io.h5 (x, recon, z)
 *   test_spatial --import DIR   loads torch_spatial_ae.h5 (written by PyTorch) and compares its
 *                               outputs with torch_spatial_ae_io.h5
 *   (both driven by tests/test_spatial_torch.py)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/checkpoint.h"
#include "nn/conv_same.h"
#include "nn/dyn_conv.h"
#include "nn/dynamics.h"
#include "base/h5.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "nn/model.h"
#include "nn/ops.h"
#include "nn/optim.h"
#include "tests/ae_parity.h"
#include "tests/fixture_h5.h"
#include "tests/gradcheck.h"
#include "tests/torch_io.h"
#include "tests/test.h"
#ifdef _OPENMP
#include <omp.h>
#endif

// ---------------------------------------------------------------- parity

static void test_ae_fixture(const char *file) {
    AE m;
    float *x;
    int B, steps;
    hid_t f = ae_fixture_open(file, &m, &x, &B, &steps);
    const AEConfig cfg = m.cfg;
    EXPECT(m.cfg.latent_dim == cfg.latent_channels * (cfg.H >> cfg.stages) * (cfg.W >> cfg.stages),
           "latent_dim derived: %d", m.cfg.latent_dim);
    load_state_dict(f, &m.arena, "state_dict");
    ae_parity_check(f, &m, x, B, steps);
    free(x);
    ae_free(&m);
    h5_close(f);
}

// ---------------------------------------------------------------- the frozen decoder's dz (pixel loss)

// ae_decode_backward's dz [B,Z] = dL/dz of L = sum(r * decode(z)): bit for bit the dz that
// ae_backward computes on its way to the encoder (checked against PyTorch by the parity
// fixtures), at an encoded z; a central difference along dz as a sanity check; no parameter
// gradient touched. Spatial and flat.
static void test_decode_backward(int spatial) {
    printf("ae_decode_backward (%s): dL/dz through the decoder\n", spatial ? "spatial 5x2x3" : "flat 12");
    AEConfig cfg = {.H = 16, .W = 24, .C = 3, .stages = 3, .base_channels = 4, .latent_dim = spatial ? 0 : 12,
                    .latent_channels = spatial ? 5 : 0};
    Rng rng;
    rng_seed(&rng, 17 + spatial);
    AE m;
    Err err;
    CHECK(ae_init(&m, &cfg, 2, &rng, &err) == 0, "%s", err.msg);
    const int B = 2, Z = m.cfg.latent_dim;
    const size_t n = (size_t)B * 3 * 16 * 24, nz = (size_t)B * Z;
    float *x = xmalloc_floats(n), *z = xmalloc_floats(nz), *d = xmalloc_floats(nz), *dz = xmalloc_floats(nz);
    float *r = xmalloc_floats(n), *ref = xmalloc_floats(nz), *zp = xmalloc_floats(nz);
    for (size_t i = 0; i < n; i++) x[i] = (float)rng_uniform(&rng), r[i] = rng_normal(&rng);
    ae_forward(&m, x, B, NULL);
    memcpy(z, m.z, nz * sizeof(float));
    ae_backward(&m, r, NULL, B);
    memcpy(ref, m.dz, nz * sizeof(float));
    arena_zero_grad(&m.arena);
    ae_decode_forward(&m, z, B);
    ae_decode_backward(&m, r, dz, B);
    EXPECT(memcmp(dz, ref, nz * sizeof(float)) == 0, "dz equals ae_backward's bit for bit");
    double gmax = 0;
    for (size_t i = 0; i < m.arena.n; i++) gmax = fmax(gmax, fabs(m.arena.grads[i]));
    EXPECT(gmax == 0, "no parameter gradient (max %g)", gmax);
    // along d = dz/|dz| (random directions cancel below the float32 decoder's noise)
    double norm = 0;
    for (size_t i = 0; i < nz; i++) norm += (double)dz[i] * dz[i];
    for (size_t i = 0; i < nz; i++) d[i] = (float)(dz[i] / sqrt(norm));
    double an = sqrt(norm), l[2], e = 3e-3;
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < nz; i++) zp[i] = (float)(z[i] + (k ? -e : e) * d[i]);
        ae_decode_forward(&m, zp, B);
        l[k] = 0;
        for (size_t i = 0; i < n; i++) l[k] += (double)r[i] * m.recon[i];
    }
    double fd = (l[0] - l[1]) / (2 * e), rel = fabs(fd - an) / fmax(fmax(fabs(fd), fabs(an)), 1e-30);
    printf("  along dz: fd % .8e  |dz| % .8e  rel %.2e\n", fd, an, rel);
    EXPECT(rel < 2e-2, "decoder dz directional derivative: rel %.2e", rel);
    free(x); free(z); free(d); free(dz); free(r); free(ref); free(zp);
    ae_free(&m);
}

// ---------------------------------------------------------------- 1x1 conv layer, element-wise FD

// L = sum(r * act(conv1x1(x) + b)) in double; act 0 none, 1 ReLU
static double conv1_loss(const float *x, const float *w, const float *b, const float *r, int act, int B,
                         const ConvShape *s, float *out, float *work) {
    conv2d_forward_act(out, x, w, b, act ? CONV_ACT_RELU : CONV_ACT_NONE, B, s, work);
    double L = 0;
    size_t n = (size_t)B * s->OC * s->OH * s->OW;
    for (size_t i = 0; i < n; i++) L += (double)r[i] * out[i];
    return L;
}

static void test_conv1x1_fd(int act) {
    printf("conv 1x1 finite differences (%s)\n", act ? "ReLU" : "no activation");
    const int B = 2, C = 5, OC = 3, H = 4, W = 6;
    ConvShape s = conv2d_shape(C, H, W, OC, 1, 1, 0);
    Rng rng;
    rng_seed(&rng, 11 + act);
    size_t nx = (size_t)B * C * H * W, nw = (size_t)OC * C, no = (size_t)B * OC * H * W;
    float *x = xmalloc_floats(nx), *w = xmalloc_floats(nw), *b = xmalloc_floats(OC), *r = xmalloc_floats(no);
    float *out = xmalloc_floats(no), *work = xmalloc_floats(conv2d_workspace(&s, B));
    float *dx = xmalloc_floats(nx), *dw = xmalloc_floats(nw), *db = xmalloc_floats(OC);
    for (size_t i = 0; i < nx; i++) x[i] = rng_normal(&rng);
    for (size_t i = 0; i < nw; i++) w[i] = rng_normal(&rng) * 0.5f;
    for (int i = 0; i < OC; i++) b[i] = rng_normal(&rng) * 0.1f;
    for (size_t i = 0; i < no; i++) r[i] = rng_normal(&rng);
    conv1_loss(x, w, b, r, act, B, &s, out, work);
    memset(dw, 0, nw * sizeof(float));
    memset(db, 0, OC * sizeof(float));
    conv2d_backward_act(dx, dw, db, r, out, act ? CONV_ACT_RELU : CONV_ACT_NONE, CONV_DINP_SET, x, w, B, &s, work);
    float *sets[3] = {x, w, b}, *grads[3] = {dx, dw, db};
    size_t ns[3] = {nx, nw, (size_t)OC};
    const char *names[3] = {"dinp", "dw", "db"};
    const double eps = 1e-3;
    for (int k = 0; k < 3; k++) {
        float *fd = xmalloc_floats(ns[k]);
        for (size_t i = 0; i < ns[k]; i++) {
            float v = sets[k][i];
            sets[k][i] = (float)(v + eps);
            double lp = conv1_loss(x, w, b, r, act, B, &s, out, work);
            sets[k][i] = (float)(v - eps);
            double lm = conv1_loss(x, w, b, r, act, B, &s, out, work);
            sets[k][i] = v;
            fd[i] = (float)((lp - lm) / (2 * eps));
        }
        // ReLU kinks within eps of a pre-activation would be FD noise: none at these draws
        expect_close(names[k], grads[k], fd, (long)ns[k], 2e-3, 2e-3);
        free(fd);
    }
    free(x); free(w); free(b); free(r); free(out); free(work); free(dx); free(dw); free(db);
}

// ---------------------------------------------------------------- whole autoencoder, directional

static void test_ae_directional(void) {
    printf("spatial autoencoder directional check (16x24x3, 3 stages, base 4, latent 5x2x3, noise 0.1, B=2)\n");
    AEConfig cfg = {.H = 16, .W = 24, .C = 3, .stages = 3, .base_channels = 4, .latent_noise = 0.1f,
                    .latent_channels = 5};
    Rng rng;
    rng_seed(&rng, 7);
    AE m;
    Err err;
    CHECK(ae_init(&m, &cfg, 2, &rng, &err) == 0, "%s", err.msg);
    const int B = 2, Z = m.cfg.latent_dim;
    EXPECT(Z == 30, "Z = 5*2*3 = 30, got %d", Z);
    size_t n = (size_t)B * 3 * 16 * 24;
    float *x = xmalloc_floats(n), *target = xmalloc_floats(n), *drecon = xmalloc_floats(n);
    float *rz = xmalloc_floats((size_t)B * Z);
    for (size_t i = 0; i < n; i++) { x[i] = (float)rng_uniform(&rng); target[i] = (float)rng_uniform(&rng); }
    for (int i = 0; i < B * Z; i++) rz[i] = 0.01f * rng_normal(&rng);
    AECtx c = {&m, x, target, rz, drecon, B, 99};
    float *scale = param_scale(&m.arena, 0);
    Seg seg = {m.arena.params, m.arena.grads, m.arena.n, scale};
    double fd, an, rel = directional("spatial autoencoder (all params)", &seg, 1, ae_loss, &c, 1e-4, &rng, &fd, &an);
    EXPECT(rel < 5e-3, "spatial autoencoder directional derivative: rel %.2e", rel);
    // encode/decode equal the noise-free forward; the noise is applied with an Rng
    ae_forward(&m, x, B, NULL);
    float *r0 = xmalloc_floats(n), *z = xmalloc_floats((size_t)B * Z), *out = xmalloc_floats(n);
    memcpy(r0, m.recon, n * sizeof(float));
    ae_encode(&m, x, B, z);
    ae_decode(&m, z, B, out);
    EXPECT(memcmp(out, r0, n * sizeof(float)) == 0, "ae_decode(ae_encode(x)) equals ae_forward without noise");
    Rng nr;
    rng_seed(&nr, 5);
    ae_forward(&m, x, B, &nr);
    double diff = 0;
    for (size_t i = 0; i < n; i++) diff = fmax(diff, fabs(r0[i] - m.recon[i]));
    EXPECT(diff > 1e-4, "latent noise changes the reconstruction (max diff %.3g)", diff);
    free(r0); free(z); free(out); free(scale);
    free(x); free(target); free(drecon); free(rz);
    ae_free(&m);
}

static void test_config(void) {
    Err err;
    AEConfig c = {.H = 80, .W = 80, .C = 1, .stages = 3, .base_channels = 32, .latent_channels = 16};
    EXPECT(ae_config_check(&c, &err) == 0 && ae_config_latent_dim(&c) == 1600, "80x80 spatial 16: Z = 1600");
    c.latent_dim = 1600;
    EXPECT(ae_config_check(&c, &err) == 0, "latent_dim equal to the grid accepted");
    c.latent_dim = 32;
    EXPECT(ae_config_check(&c, &err) == -1, "latent_dim other than the grid rejected");
    printf("  rejected: %s\n", err.msg);
    c.latent_dim = 0;
    c.latent_channels = -1;
    EXPECT(ae_config_check(&c, &err) == -1, "negative latent_channels rejected");
}

// ---------------------------------------------------------------- conv dynamics

static ConvDynConfig cdyn_cfg_of(hid_t f, int max_steps) {
    ConvDynConfig c = {(int)attr_i(f, "channels"), (int)attr_i(f, "height"), (int)attr_i(f, "width"),
                       (int)attr_i(f, "A"), (int)attr_i(f, "hidden"), (int)attr_i(f, "blocks"), max_steps,
                       (int)attr_i(f, "vae"), 1, 0, {0}, 0};
    return c;
}

static float cdyn_step_loss(ConvDyn *m, const float *z, const float *a, const float *target, int B, float *dd) {
    size_t n = (size_t)B * m->Z;
    cdyn_forward_step(m, 0, z, a, B);
    float loss = mse_loss_forward(cdyn_head(m, 0), target, n);
    memset(dd, 0, n * sizeof(float));
    mse_loss_backward(dd, cdyn_head(m, 0), target, n, 1.0f);
    cdyn_backward_step(m, 0, dd, NULL, NULL, B);
    return loss;
}

// A 5-step rollout through DynModel (open loop), compared with roll_* of the fixture.
static void check_rollout(hid_t f, const ConvDynConfig *base) {
    Err err;
    int B = (int)attr_i(f, "B"), K = (int)attr_i(f, "K");
    ConvDynConfig c = *base;
    c.max_steps = K;
    Rng rng;
    rng_seed(&rng, 2);
    DynModel dm;
    CHECK(dynm_conv_init(&dm, &c, B, &rng, &err) == 0, "%s", err.msg);
    ParamArena *ar = dynm_arena(&dm);
    load_state_dict(f, ar, "state_dict");
    size_t n;
    float *ra = read_all(f, "roll_a", &n), *rz = read_all(f, "roll_z", &n), *eps = read_all(f, "eps", &n);
    double beta = 0;
    Err e2;
    CHECK(h5_attr_read_f64(f, "/", "beta", &beta, &e2) == 0, "%s", e2.msg);
    if (c.vae) {
        dm.eps_in = eps;
        dm.temperature = 1.0f;
        dm.beta = (float)beta;
    }
    arena_zero_grad(ar);
    DynLoss L = dynm_rollout_forward(&dm, rz, ra, NULL, K, B);
    dynm_rollout_backward(&dm, rz, NULL, K, B);
    float got = (float)(L.mse + (c.vae ? beta * L.kl : 0.0)), kl = (float)L.kl;
    float *want = read_all(f, "roll_loss", NULL);
    compare("rollout loss", &got, want, 1);
    free(want);
    if (c.vae) {
        want = read_all(f, "roll_kl", NULL);
        compare("rollout KL (sum over steps)", &kl, want, 1);
        free(want);
    }
    want = read_all(f, "roll_zhat", &n);
    size_t nz = (size_t)B * dm.Z;
    float *zhat = xmalloc_floats((size_t)K * nz);
    for (int k = 0; k < K; k++) memcpy(zhat + k * nz, dynm_znext(&dm, k), nz * sizeof(float));
    compare("rollout z_1..z_K", zhat, want, n);
    free(want);
    compare_grads(ar, f, "roll_grads");
    free(zhat); free(ra); free(rz); free(eps);
    dynm_free(&dm);
}

static void test_cdyn_fixture(const char *file) {
    Err err;
    hid_t f = fixture_h5(file);
    ConvDynConfig c = cdyn_cfg_of(f, 1);
    int B = (int)attr_i(f, "B");
    if (!c.vae) {
        Rng rng;
        rng_seed(&rng, 1);
        ConvDyn m;
        CHECK(cdyn_init(&m, &c, B, &rng, &err) == 0, "%s", err.msg);
        load_state_dict(f, &m.arena, "state_dict");
        size_t n;
        float *z = read_all(f, "z", &n), *a = read_all(f, "a", &n), *target = read_all(f, "target", &n);
        float *dd = xmalloc_floats((size_t)B * m.Z);
        arena_zero_grad(&m.arena);
        float loss = cdyn_step_loss(&m, z, a, target, B, dd);
        compare_step(f, cdyn_head(&m, 0), loss, &m.arena);
        int steps = (int)attr_i(f, "adam_steps");
        Adam opt = adam_default((float)1e-3);
        arena_zero_adam(&m.arena);
        float *losses = xmalloc_floats((size_t)steps);
        for (int s = 0; s < steps; s++) {
            arena_zero_grad(&m.arena);
            losses[s] = cdyn_step_loss(&m, z, a, target, B, dd);
            adam_step(&opt, m.arena.params, m.arena.grads, m.arena.m, m.arena.v, m.arena.n);
        }
        compare_adam_losses(f, losses, steps, 1e-6);
        free(losses); free(z); free(a); free(target); free(dd);
        cdyn_free(&m);
    }
    check_rollout(f, &c);
    h5_close(f);
}

// L = sum(r * head) + sum(rz * znext) of one step, in double
static double cdyn_probe(ConvDyn *m, const float *z, const float *a, const float *r, const float *rz, int B) {
    cdyn_forward_step(m, 0, z, a, B);
    double L = 0;
    const float *h = cdyn_head(m, 0);
    for (size_t i = 0; i < (size_t)B * m->OUT; i++) L += (double)r[i] * h[i];
    if (!m->cfg.vae)
        for (size_t i = 0; i < (size_t)B * m->Z; i++) L += (double)rz[i] * cdyn_znext(m, 0)[i];
    return L;
}

typedef struct { ConvDyn *m; const float *z, *a, *r, *rz; int B; } ProbeCtx;
static double probe_loss(void *c) {
    ProbeCtx *p = c;
    return cdyn_probe(p->m, p->z, p->a, p->r, p->rz, p->B);
}

static void test_cdyn_fd(int vae) {
    printf("conv dynamics central differences, every element (grid 2x3x4, 3 buttons, hidden 5, 2 blocks%s)\n",
           vae ? ", vae head" : "");
    ConvDynConfig c = {2, 3, 4, 3, 5, 2, 1, vae, 1, 0, {0}, 0};
    Rng rng;
    rng_seed(&rng, 21 + vae);
    ConvDyn m;
    Err err;
    CHECK(cdyn_init(&m, &c, 2, &rng, &err) == 0, "%s", err.msg);
    const int B = 2;
    for (size_t i = 0; i < m.arena.n; i++) m.arena.params[i] += 0.2f * rng_normal(&rng);   // conv_out off zero
    size_t nz = (size_t)B * m.Z, no = (size_t)B * m.OUT;
    float *z = xmalloc_floats(nz), *a = xmalloc_floats((size_t)B * 3), *r = xmalloc_floats(no);
    float *rz = xmalloc_floats(nz), *dz = xmalloc_floats(nz);
    for (size_t i = 0; i < nz; i++) { z[i] = rng_normal(&rng); rz[i] = rng_normal(&rng); }
    for (int i = 0; i < B * 3; i++) a[i] = (float)(rng_below(&rng, 2));
    a[0] = 1, a[3] = 0.5f;
    for (size_t i = 0; i < no; i++) r[i] = rng_normal(&rng);
    cdyn_probe(&m, z, a, r, rz, B);
    arena_zero_grad(&m.arena);
    memset(dz, 0, nz * sizeof(float));
    cdyn_backward_step(&m, 0, r, vae ? NULL : rz, dz, B);
    ProbeCtx pc = {&m, z, a, r, rz, B};
    fd_every_element(&m.arena, z, dz, nz, "z", probe_loss, &pc, 1e-3, 3e-3, 3e-3);
    free(z); free(a); free(r); free(rz); free(dz);
    cdyn_free(&m);
}

typedef struct {
    DynModel *dm;
    float *ztrue;   // [K+1][B][Z]; ztrue[0] = z0 perturbed with the params
    const float *a;
    int K, B;
} RollCtx;

static double roll_loss(void *vc, int backward) {
    RollCtx *c = vc;
    if (backward) arena_zero_grad(dynm_arena(c->dm));
    DynLoss L = dynm_rollout_forward(c->dm, c->ztrue, c->a, NULL, c->K, c->B);
    if (backward) dynm_rollout_backward(c->dm, c->ztrue, NULL, c->K, c->B);
    return L.mse + (c->dm->vae ? c->dm->beta * L.kl : 0.0);
}

// B >= 16 takes Winograd F(4x4, 3x3) for the 3x3 layers (conv_plan), below the shifted GEMMs
static void test_cdyn_rollout_directional(int vae, int B) {
    printf("conv dynamics directional check through a 5-step rollout (grid 3x5x6, 8 buttons, hidden 8%s, B=%d)\n",
           vae ? ", vae, fed eps, beta 0.5" : "", B);
    const int K = 5, A = 8;
    ConvDynConfig c = {3, 5, 6, A, 8, 2, K, vae, 1, 0, {0}, 0};
    Rng rng;
    rng_seed(&rng, 31 + vae);
    DynModel dm;
    Err err;
    CHECK(dynm_conv_init(&dm, &c, B, &rng, &err) == 0, "%s", err.msg);
    ParamArena *ar = dynm_arena(&dm);
    for (size_t i = 0; i < ar->n; i++) ar->params[i] += 0.05f * rng_normal(&rng);
    const int Z = dm.Z;
    size_t nz = (size_t)B * Z;
    float *ztrue = xmalloc_floats((K + 1) * nz), *a = xmalloc_floats((size_t)K * B * A), *eps = NULL;
    for (size_t i = 0; i < (K + 1) * nz; i++) ztrue[i] = rng_normal(&rng);
    for (int i = 0; i < K * B * A; i++) a[i] = (float)rng_below(&rng, 2);
    if (vae) {
        eps = xmalloc_floats((size_t)K * nz);
        for (size_t i = 0; i < (size_t)K * nz; i++) eps[i] = rng_normal(&rng);
        dm.eps_in = eps;
        dm.beta = 0.5f;
    }
    RollCtx rc = {&dm, ztrue, a, K, B};
    // dL/dz0 is not returned by dynm_rollout_backward: z0 moves with the params through the
    // loss only, so the direction covers the params; z's gradient is covered element-wise above
    float *scale = param_scale(ar, 1e-2);
    Seg seg = {ar->params, ar->grads, ar->n, scale};
    // e 3e-4: measured rel (deterministic, vae) 1.2e-2/2.8e-2 at 1e-2, 2.5e-3/1.0e-2 at 3e-3,
    // 7.7e-4/1.3e-3 at 3e-4, 2.7e-3/9.6e-4 at 1e-4 (ReLU kinks above, float32 losses below)
    double fd, an, rel = directional("conv dynamics rollout (all params)", &seg, 1, roll_loss, &rc, 3e-4, &rng, &fd, &an);
    EXPECT(rel < 5e-3, "conv dynamics rollout directional derivative: rel %.2e", rel);
    free(scale); free(ztrue); free(a); free(eps);
    dynm_free(&dm);
}

static void test_cdyn_identity(void) {
    printf("conv dynamics: identity at init, batch of 1 equals batch of 4\n");
    ConvDynConfig c = {16, 10, 10, 8, 64, 2, 1, 0, 1, 0, {0}, 0};
    Rng rng;
    rng_seed(&rng, 5);
    ConvDyn m;
    Err err;
    CHECK(cdyn_init(&m, &c, 4, &rng, &err) == 0, "%s", err.msg);
    size_t nz = (size_t)4 * m.Z;
    float *z = xmalloc_floats(nz), a[32] = {0}, *z1 = xmalloc_floats(m.Z);
    for (size_t i = 0; i < nz; i++) z[i] = rng_normal(&rng);
    a[3] = a[9] = 1;
    cdyn_forward_step(&m, 0, z, a, 4);
    EXPECT(memcmp(cdyn_znext(&m, 0), z, nz * sizeof(float)) == 0, "zero conv_out: z' = z");
    for (size_t i = 0; i < m.arena.n; i++) m.arena.params[i] += 0.01f * rng_normal(&rng);
    cdyn_forward_step(&m, 0, z, a, 4);
    memcpy(z1, cdyn_znext(&m, 0), (size_t)m.Z * sizeof(float));
    cdyn_forward_step(&m, 0, z, a, 1);
    expect_close("B=1 vs B=4 first sample", cdyn_znext(&m, 0), z1, m.Z, 1e-6, 1e-5);
    ConvDyn v;   // a VAE head: mean channels zero, log-variance channels at DYN_VAE_LOGVAR_INIT
    ConvDynConfig cv = c;
    cv.vae = 1;
    CHECK(cdyn_init(&v, &cv, 1, &rng, &err) == 0, "%s", err.msg);
    const float *ob = v.arena.params + v.arena.t[v.i_out + 1].offset;
    int good = 1;
    for (int k = 0; k < 32; k++) good &= ob[k] == (k < 16 ? 0.0f : DYN_VAE_LOGVAR_INIT);
    EXPECT(good, "vae conv_out bias: 16 zeros, then 16 x %g", DYN_VAE_LOGVAR_INIT);
    cdyn_free(&v);
    cdyn_free(&m);
    ConvDynConfig bad = c;
    bad.blocks = 0;
    EXPECT(cdyn_init(&m, &bad, 4, &rng, &err) == -1, "0 blocks rejected");
    free(z); free(z1);
}

// ---------------------------------------------------------------- the "same" conv path

static void test_conv_same(void) {
    printf("conv_same (shifted GEMMs) vs direct loops\n");
    static const int shapes[][6] = {   // C, OC, H, W, K, B
        {3, 5, 4, 6, 3, 1}, {6, 4, 5, 7, 3, 3}, {4, 4, 3, 3, 1, 2}, {2, 3, 6, 5, 5, 2}, {16, 8, 10, 10, 3, 3}};
    Rng rng;
    rng_seed(&rng, 41);
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const int C = shapes[k][0], OC = shapes[k][1], H = shapes[k][2], W = shapes[k][3], K = shapes[k][4],
                  B = shapes[k][5];
        ConvShape s = conv2d_shape(C, H, W, OC, K, 1, K / 2);
        EXPECT(conv_same_fits(&s), "conv_same takes %dx%d K%d", H, W, K);
        size_t ni = (size_t)B * C * H * W, no = (size_t)B * OC * H * W, nw = (size_t)OC * C * K * K;
        float *x = xmalloc_floats(ni), *w = xmalloc_floats(nw), *b = xmalloc_floats(OC), *y = xmalloc_floats(no);
        float *yref = xmalloc_floats(no), *g = xmalloc_floats(no), *dx = xmalloc_floats(ni), *dw = xmalloc_floats(nw);
        float *db = xmalloc_floats(OC), *dxr = xmalloc_floats(ni), *dwr = xmalloc_floats(nw), *dbr = xmalloc_floats(OC);
        float *work = xmalloc_floats(conv_same_workspace(&s, B));
        for (size_t i = 0; i < ni; i++) x[i] = rng_normal(&rng);
        for (size_t i = 0; i < nw; i++) w[i] = rng_normal(&rng);
        for (int i = 0; i < OC; i++) b[i] = rng_normal(&rng);
        for (size_t i = 0; i < no; i++) g[i] = rng_normal(&rng);
        for (int act = 0; act < 2; act++) {
            conv2d_forward_naive(yref, x, w, b, B, &s);
            if (act)
                for (size_t i = 0; i < no; i++) yref[i] = yref[i] > 0 ? yref[i] : 0;
            conv_same_forward(y, x, w, b, act ? CONV_ACT_RELU : CONV_ACT_NONE, B, &s, work);
            char name[96];
            snprintf(name, sizeof name, "forward %dx%dx%d->%d K%d B%d %s", C, H, W, OC, K, B, act ? "relu" : "none");
            expect_close(name, y, yref, (long)no, 1e-5, 1e-4);
            // reference backward in double: gp = g * act'(y)
            memset(dxr, 0, ni * sizeof(float)), memset(dwr, 0, nw * sizeof(float)), memset(dbr, 0, OC * sizeof(float));
            for (int n = 0; n < B; n++)
                for (int o = 0; o < OC; o++)
                    for (int i = 0; i < H; i++)
                        for (int j = 0; j < W; j++) {
                            size_t yo = (((size_t)n * OC + o) * H + i) * W + j;
                            double gp = act && !(yref[yo] > 0) ? 0.0 : g[yo];
                            dbr[o] += (float)gp;
                            for (int c = 0; c < C; c++)
                                for (int kh = 0; kh < K; kh++)
                                    for (int kw = 0; kw < K; kw++) {
                                        int ih = i + kh - K / 2, iw = j + kw - K / 2;
                                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                        size_t xo = (((size_t)n * C + c) * H + ih) * W + iw;
                                        size_t wo = (((size_t)o * C + c) * K + kh) * K + kw;
                                        dwr[wo] += (float)(gp * x[xo]);
                                        dxr[xo] += (float)(gp * w[wo]);
                                    }
                        }
            for (int flags = 0; flags < 4; flags++) {   // dinp: add or set, with or without the ReLU mask
                for (size_t i = 0; i < ni; i++) dx[i] = 0.5f;
                for (size_t i = 0; i < nw; i++) dw[i] = 0.25f;
                for (int i = 0; i < OC; i++) db[i] = 0.125f;
                conv_same_backward(dx, dw, db, g, y, act ? CONV_ACT_RELU : CONV_ACT_NONE, flags, x, w, B, &s, work);
                float *want = xmalloc_floats(ni > nw ? ni : nw);
                for (size_t i = 0; i < ni; i++) {
                    float v = (flags & CONV_DINP_RELU) && !(x[i] > 0) ? 0.0f : dxr[i];
                    want[i] = (flags & CONV_DINP_SET) ? v : 0.5f + v;
                }
                snprintf(name, sizeof name, "  dinp flags %d", flags);
                expect_close(name, dx, want, (long)ni, 1e-4, 1e-4);
                for (size_t i = 0; i < nw; i++) want[i] = 0.25f + dwr[i];
                expect_close("  dw (accumulates)", dw, want, (long)nw, 1e-4, 1e-4);
                for (int i = 0; i < OC; i++) want[i] = 0.125f + dbr[i];
                expect_close("  db (accumulates)", db, want, OC, 1e-4, 1e-4);
                free(want);
            }
        }
        free(x); free(w); free(b); free(y); free(yref); free(g); free(dx); free(dw); free(db);
        free(dxr); free(dwr); free(dbr); free(work);
    }
}

// ---------------------------------------------------------------- checkpoints, PyTorch interchange

static const AEConfig SP_CFG = {.H = 32, .W = 48, .C = 3, .stages = 3, .base_channels = 4, .latent_channels = 6};

static void test_checkpoint_roundtrip(void) {
    printf("spatial checkpoint round trip\n");
    Rng rng;
    rng_seed(&rng, 3);
    Err err;
    AE a, b;
    CHECK(ae_init(&a, &SP_CFG, 1, &rng, &err) == 0, "%s", err.msg);
    CkptMeta meta, got;
    ckpt_meta_init(&meta, NULL);
    ckpt_meta_ae(&meta, &SP_CFG);
    char path[] = "/tmp/nemu_test_spatial_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    CHECK(checkpoint_save(path, &a.arena, &meta, &err) == 0, "%s", err.msg);
    AEConfig c;
    EXPECT(checkpoint_read_meta(path, &got, &err) == 0 && ckpt_meta_to_ae_config(&got, &c, &err) == 0, "%s", err.msg);
    EXPECT(c.latent_channels == 6 && c.latent_dim == 6 * 4 * 6, "config back: channels %d, latent_dim %d",
           c.latent_channels, c.latent_dim);
    CHECK(ae_init(&b, &c, 1, &rng, &err) == 0, "%s", err.msg);
    EXPECT(checkpoint_load(path, &b.arena, "autoencoder", &got, &err) == 0, "%s", err.msg);
    EXPECT(memcmp(a.arena.params, b.arena.params, a.arena.n * sizeof(float)) == 0, "weights back bit for bit");
    // a flat model refuses a spatial checkpoint (names differ), with a message
    AEConfig flat = SP_CFG;
    flat.latent_channels = 0;
    flat.latent_dim = 144;
    AE f;
    CHECK(ae_init(&f, &flat, 1, &rng, &err) == 0, "%s", err.msg);
    EXPECT(checkpoint_load(path, &f.arena, "autoencoder", &got, &err) == -1, "flat model loads a spatial checkpoint");
    printf("  rejected: %s\n", err.msg);
    // conv dynamics: attributes back, and the flat reader refuses them with a message
    ConvDynConfig dc = cdyn_config_for(&SP_CFG, 8, 12, 3, 1, 1, 1, 0), dback;
    DynModel dm;
    CHECK(dynm_conv_init(&dm, &dc, 1, &rng, &err) == 0, "%s", err.msg);
    ckpt_meta_init(&meta, NULL);
    ckpt_meta_dynm(&meta, &dm);
    CHECK(checkpoint_save(path, dynm_arena(&dm), &meta, &err) == 0, "%s", err.msg);
    EXPECT(checkpoint_read_meta(path, &got, &err) == 0 && ckpt_meta_to_conv_dyn_config(&got, &dback, &err) == 0,
           "%s", err.msg);
    EXPECT(memcmp(&dback, &dc, sizeof dc) == 0, "conv dynamics config back");
    DynConfig flatd;
    EXPECT(ckpt_meta_to_dyn_config(&got, &flatd, &err) == -1, "the flat reader refuses a conv checkpoint");
    printf("  rejected: %s\n", err.msg);
    DynModel dm2;
    int Z = 0, vae = 0;
    EXPECT(dynm_init_from_meta(&dm2, &got, 1, 3, &rng, &Z, &vae, &err) == 0 && Z == 6 * 4 * 6 && vae == 1 &&
           dm2.max_steps == 3, "dynm_init_from_meta: %s", err.msg);
    EXPECT(checkpoint_load(path, dynm_arena(&dm2), "dynamics", &got, &err) == 0, "%s", err.msg);
    EXPECT(memcmp(dynm_arena(&dm)->params, dynm_arena(&dm2)->params, dynm_arena(&dm)->n * sizeof(float)) == 0,
           "conv dynamics weights back bit for bit");
    dynm_free(&dm);
    dynm_free(&dm2);
    unlink(path);
    ae_free(&a); ae_free(&b); ae_free(&f);
}

static int export_dir(const char *dir) {
    char path[1024];
    Rng rng;
    rng_seed(&rng, 78);
    Err err;
    const int B = 2;
    hsize_t dz[4] = {B, 6, 4, 6};
    export_ae(dir, "spatial_ae", &SP_CFG, B, &rng, 4, dz);
    CkptMeta meta;
    // conv dynamics (deterministic), conv_out off zero
    ConvDynConfig dc = cdyn_config_for(&SP_CFG, 8, 12, 2, 1, 0, 1, 0);
    DynModel dm;
    CHECK(dynm_conv_init(&dm, &dc, B, &rng, &err) == 0, "%s", err.msg);
    ParamArena *ar = dynm_arena(&dm);
    for (size_t i = 0; i < ar->n; i++) ar->params[i] += 0.05f * rng_normal(&rng);
    ckpt_meta_init(&meta, NULL);
    ckpt_meta_dynm(&meta, &dm);
    save_in(dir, "spatial_dyn.h5", ar, &meta);
    float *z = xmalloc_floats((size_t)B * dm.Z), act[2 * 8] = {0};
    for (int i = 0; i < B * dm.Z; i++) z[i] = rng_normal(&rng);
    act[2] = act[8 + 7] = act[8 + 1] = 1;
    dynm_forward_step(&dm, 0, z, act, B);
    hsize_t da[2] = {B, 8};
    write_io(in_dir(path, dir, "spatial_dyn_io.h5"), "z", z, 4, dz, "a", act, 2, da, "delta", dynm_delta(&dm, 0), 4, dz);
    free(z);
    dynm_free(&dm);
    printf("exported spatial checkpoints to %s\n", dir);
    return 0;
}

static int import_dir(const char *dir) {
    char path[1024];
    Err err;
    CkptMeta meta;
    Rng rng;
    rng_seed(&rng, 1);
    AEConfig c = import_ae_check(dir, "torch_spatial_ae", "spatial autoencoder");
    EXPECT(c.latent_channels > 0, "torch checkpoint read as spatial");
    // conv dynamics with a vae head, from its attributes alone
    snprintf(path, sizeof path, "%s/torch_spatial_dyn.h5", dir);
    CHECK(checkpoint_read_meta(path, &meta, &err) == 0, "%s", err.msg);
    DynModel dm;
    int Z = 0, vae = 0;
    CHECK(dynm_init_from_meta(&dm, &meta, 2, 1, &rng, &Z, &vae, &err) == 0, "torch conv dynamics: %s", err.msg);
    EXPECT(vae == 1 && dm.OUT == 2 * Z, "read as a vae (OUT %d, Z %d)", dm.OUT, Z);
    EXPECT(checkpoint_load(path, dynm_arena(&dm), "dynamics", &meta, &err) == 0, "load: %s", err.msg);
    hid_t f = open_in(dir, "torch_spatial_dyn_io.h5");
    size_t nz, na, nh;
    float *zz = read_all(f, "z", &nz), *act = read_all(f, "a", &na), *head = read_all(f, "head", &nh);
    h5_close(f);
    const int B = (int)(nz / (size_t)Z);
    dm.temperature = 0;
    dynm_forward_step(&dm, 0, zz, act, B);
    expect_close("torch->nemu conv dynamics vae head", dynm_head(&dm, 0), head, (long)nh, 1e-6, 1e-4);
    free(zz); free(act); free(head);
    dynm_free(&dm);
    return test_summary();
}

int main(int argc, char **argv) {
#ifdef _OPENMP
    omp_set_num_threads(1);   // tiny models (see test_model.c)
#endif
    if (argc == 3 && strcmp(argv[1], "--export") == 0) return export_dir(argv[2]);
    if (argc == 3 && strcmp(argv[1], "--import") == 0) return import_dir(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--export DIR | --import DIR]\n", argv[0]);
        return 2;
    }
    test_config();
    test_conv_same();
    test_checkpoint_roundtrip();
    test_conv1x1_fd(0);
    test_conv1x1_fd(1);
    test_ae_fixture("spatial_ae_gray80.h5");
    test_ae_fixture("spatial_ae_rgb.h5");
    test_ae_directional();
    test_decode_backward(1);
    test_decode_backward(0);
    test_cdyn_identity();
    test_cdyn_fd(0);
    test_cdyn_fd(1);
    test_cdyn_fixture("spatial_dyn.h5");
    test_cdyn_fixture("spatial_dyn_vae.h5");
    test_cdyn_rollout_directional(0, 3);
    test_cdyn_rollout_directional(1, 3);
    test_cdyn_rollout_directional(0, 17);   // Winograd: a group of 16 and one of 1
    test_cdyn_rollout_directional(1, 17);
    return test_summary();
}
