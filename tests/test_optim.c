/*
 * test_optim.c - Adam / AdamW / gradient clipping (nn/optim.c): answers known in closed form
 * (one and two Adam steps on a quadratic, pure AdamW decay, clipping a 3-4-5 vector), and
 * parity with torch.optim over 10 steps from tests/fixtures/ops.h5.
 */
#include <stdlib.h>
#include <string.h>
#include "base/h5.h"
#include "base/alloc.h"
#include "nn/optim.h"
#include "tests/fixture_h5.h"
#include "tests/test.h"

// f(p) = 0.5 * a_i * (p_i - c_i)^2: grad a_i (p_i - c_i). Steps 1 and 2 of Adam in double.
static void test_adam_quadratic(void) {
    enum { N = 4 };
    const double a[N] = {1.0, 3.0, 0.5, 10.0}, c[N] = {0.5, -1.0, 2.0, 0.0};
    float p[N] = {1.0f, 0.0f, -1.0f, 0.25f}, g[N], m[N] = {0}, v[N] = {0};
    double pd[N], md[N] = {0}, vd[N] = {0};
    const double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (int i = 0; i < N; i++) pd[i] = p[i];
    Adam opt = adam_default(0.1f);
    EXPECT(opt.beta1 == 0.9f && opt.beta2 == 0.999f && opt.eps == 1e-8f && opt.weight_decay == 0 &&
           opt.decoupled == 0 && opt.t == 0, "adam_default: torch's defaults");
    float want[N];
    for (int step = 1; step <= 2; step++) {
        for (int i = 0; i < N; i++) g[i] = (float)(a[i] * (p[i] - c[i]));
        adam_step(&opt, p, g, m, v, N);
        for (int i = 0; i < N; i++) {
            double gi = g[i];
            md[i] = b1 * md[i] + (1 - b1) * gi;
            vd[i] = b2 * vd[i] + (1 - b2) * gi * gi;
            double mh = md[i] / (1 - pow(b1, step)), vh = vd[i] / (1 - pow(b2, step));
            pd[i] -= lr * mh / (sqrt(vh) + eps);
            want[i] = (float)pd[i];
        }
        if (step == 1) {
            // first step moves every coordinate by lr against the sign of its gradient
            float s1[N];
            for (int i = 0; i < N; i++) s1[i] = (float)(pd[i] + lr * (g[i] > 0 ? 1 : -1));
            float p0[N] = {1.0f, 0.0f, -1.0f, 0.25f};
            expect_close("adam step 1 = p0 - lr*sign(g)", s1, p0, N, 1e-6, 1e-6);
        }
        char name[64];
        snprintf(name, sizeof name, "adam quadratic step %d (closed form)", step);
        expect_close(name, p, want, N, 1e-6, 1e-6);
    }
    EXPECT(opt.t == 2, "adam t counts steps (t=%ld)", opt.t);
    // many steps converge to the minimum
    for (int k = 0; k < 2000; k++) {
        for (int i = 0; i < N; i++) g[i] = (float)(a[i] * (p[i] - c[i]));
        opt.lr = k < 1000 ? 0.05f : 0.005f;
        adam_step(&opt, p, g, m, v, N);
    }
    float cf[N];
    for (int i = 0; i < N; i++) cf[i] = (float)c[i];
    expect_close("adam converges on the quadratic", p, cf, N, 5e-3, 0);
}

static void test_weight_decay(void) {
    enum { N = 3 };
    // AdamW with zero gradients: m = v = 0, so only the decay acts: p_t = p0 (1 - lr wd)^t
    float p[N] = {1.0f, -2.0f, 0.5f}, g[N] = {0}, m[N] = {0}, v[N] = {0}, want[N];
    Adam opt = adam_default(0.01f);
    opt.weight_decay = 0.1f;
    opt.decoupled = 1;
    for (int t = 0; t < 5; t++) adam_step(&opt, p, g, m, v, N);
    float p0[N] = {1.0f, -2.0f, 0.5f};
    for (int i = 0; i < N; i++) want[i] = (float)(p0[i] * pow(1 - 0.01 * 0.1, 5));
    expect_close("adamw zero grad: p0 (1-lr wd)^5", p, want, N, 1e-7, 1e-6);

    // Adam (L2) with zero gradients: g_eff = wd p, so step 1 moves by lr against sign(p)
    float q[N] = {1.0f, -2.0f, 0.5f};
    memset(m, 0, sizeof m); memset(v, 0, sizeof v);
    Adam l2 = adam_default(0.01f);
    l2.weight_decay = 0.1f;
    adam_step(&l2, q, g, m, v, N);
    for (int i = 0; i < N; i++) want[i] = p0[i] - 0.01f * (p0[i] > 0 ? 1 : -1);
    expect_close("adam L2 zero grad: step 1 = p0 - lr sign(p0)", q, want, N, 1e-6, 1e-6);

    // wd 0 and zero grads: nothing moves
    float r[N] = {1.0f, -2.0f, 0.5f};
    memset(m, 0, sizeof m); memset(v, 0, sizeof v);
    Adam plain = adam_default(0.01f);
    adam_step(&plain, r, g, m, v, N);
    expect_close("adam zero grad, no decay: unchanged", r, p0, N, 0, 0);
}

static void test_clip(void) {
    float g[2] = {3.0f, 4.0f};
    EXPECT(fabsf(grad_norm(g, 2) - 5.0f) < 1e-6f, "grad_norm(3,4) = 5");
    float n = clip_grad_norm(g, 2, 1.0f);
    float want[2] = {(float)(3 / (5 + 1e-6)), (float)(4 / (5 + 1e-6))};
    EXPECT(fabsf(n - 5.0f) < 1e-6f, "clip returns the norm before clipping (%g)", n);
    expect_close("clip (3,4) to 1: g * 1/(5+1e-6)", g, want, 2, 1e-7, 1e-6);
    float h[2] = {3.0f, 4.0f}, h0[2] = {3.0f, 4.0f};
    clip_grad_norm(h, 2, 10.0f);
    expect_close("no clip when norm < max_norm", h, h0, 2, 0, 0);
    clip_grad_norm(h, 2, 0.0f);
    expect_close("no clip when max_norm <= 0", h, h0, 2, 0, 0);
    float z[3] = {0, 0, 0}, z0[3] = {0, 0, 0};
    EXPECT(clip_grad_norm(z, 3, 1.0f) == 0.0f, "zero gradient has norm 0");
    expect_close("zero gradient stays zero", z, z0, 3, 0, 0);
}

// ---- torch.optim parity

static float *read_alloc(hid_t f, const char *grp, const char *name, size_t *n) {
    char path[128];
    snprintf(path, sizeof path, "%s/%s", grp, name);
    Err err = {{0}};
    int rank;
    hsize_t dims[H5_MAX_RANK];
    float *x = h5_read_floats_alloc(f, path, &rank, dims, &err);
    if (!x) { EXPECT(0, "fixture: %s", err.msg); *n = 0; return NULL; }
    *n = 1;
    for (int i = 0; i < rank; i++) *n *= dims[i];
    return x;
}

static void fixture_adam(hid_t f, const char *grp) {
    Err err = {{0}};
    int64_t decoupled = 0;
    double lr = 0, wd = 0;
    if (h5_attr_read_i64(f, grp, "decoupled", &decoupled, &err) < 0 ||
        h5_attr_read_f64(f, grp, "lr", &lr, &err) < 0 ||
        h5_attr_read_f64(f, grp, "weight_decay", &wd, &err) < 0) {
        EXPECT(0, "fixture: %s", err.msg);
        return;
    }
    size_t n, ng, np;
    float *p = read_alloc(f, grp, "p0", &n), *g = read_alloc(f, grp, "g", &ng), *pt = read_alloc(f, grp, "p", &np);
    if (!p || !g || !pt || n == 0 || ng % n || np != ng) {
        EXPECT(0, "fixture %s: inconsistent sizes", grp);
        free(p); free(g); free(pt);
        return;
    }
    float *m = xmalloc_floats(n), *v = xmalloc_floats(n);
    Adam opt = adam_default((float)lr);
    opt.weight_decay = (float)wd;
    opt.decoupled = (int)decoupled;
    double max_abs = 0;
    int ok = 1;
    size_t steps = ng / n;
    for (size_t t = 0; t < steps; t++) {
        adam_step(&opt, p, g + t * n, m, v, n);
        for (size_t i = 0; i < n; i++) {
            double want = pt[t * n + i], d = fabs(p[i] - want);
            if (d > max_abs) max_abs = d;
            if (d > 1e-6 + 1e-5 * fabs(want)) ok = 0;
        }
    }
    printf("  torch %-34s steps=%zu n=%zu max_abs=%.3g %s\n", grp, steps, n, max_abs, ok ? "ok" : "FAIL");
    EXPECT(ok, "%s: parameters after each of %zu steps match torch.optim (max abs diff %.3g)",
           grp, steps, max_abs);
    free(p); free(g); free(pt); free(m); free(v);
}

static void fixture_clip(hid_t f, const char *grp) {
    Err err = {{0}};
    double max_norm = 0;
    if (h5_attr_read_f64(f, grp, "max_norm", &max_norm, &err) < 0) { EXPECT(0, "fixture: %s", err.msg); return; }
    size_t n, nc, nn;
    float *g = read_alloc(f, grp, "g", &n), *want = read_alloc(f, grp, "clipped", &nc);
    float *norm = read_alloc(f, grp, "norm", &nn);
    if (g && want && norm && n == nc && nn == 1) {
        float got = clip_grad_norm(g, n, (float)max_norm);
        char name[64];
        snprintf(name, sizeof name, "torch %s norm", grp);
        expect_close(name, &got, norm, 1, 1e-6, 1e-5);
        snprintf(name, sizeof name, "torch %s grads", grp);
        expect_close(name, g, want, (long)n, 1e-7, 1e-5);
    } else EXPECT(0, "fixture %s: inconsistent sizes", grp);
    free(g); free(want); free(norm);
}

static void test_fixture(void) {
    hid_t f = fixture_open("ops.h5", NULL);
    if (f < 0) return;
    fixture_adam(f, "adam");
    fixture_adam(f, "adam_l2");
    fixture_adam(f, "adamw");
    fixture_clip(f, "clip");
    fixture_clip(f, "noclip");
    h5_close(f);
}

int main(void) {
    test_adam_quadratic();
    test_weight_decay();
    test_clip();
    test_fixture();
    return test_summary();
}
