/*
 * test_wloss.c - the changed-pixel-weighted L1 (nn/wloss.c, train.changed_weight):
 *   - weights on known frames (a change in one channel weighs the whole pixel)
 *   - with every weight 1 it is the plain L1, forward to float rounding and backward bit for bit
 *   - central finite differences of the loss against wl1_loss_backward
 *   - PyTorch parity: tests/fixtures/wloss.h5 (tests/make_wloss_fixtures.py): the weights of
 *     two frames, (w * (pred - target).abs()).mean() and its gradient, ties included
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/h5.h"
#include "nn/ops.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "nn/wloss.h"
#include "tests/fixture_h5.h"
#include "tests/test.h"

static void test_weights(void) {
    // C=2, H=1, W=3: pixel 1 differs in channel 1 only, pixel 2 in both, pixel 0 not at all
    uint8_t cur[6] = {10, 20, 30, 40, 50, 60}, prev[6] = {10, 20, 31, 40, 51, 60};
    prev[1] = 20, prev[4] = 51;   // channel 1 of pixel 1
    prev[2] = 31;                 // channel 0 of pixel 2
    float w[6];
    changed_weights(cur, prev, 2, 1, 3, 4.0f, w);
    float want[6] = {1, 5, 5, 1, 5, 5};
    EXPECT(!memcmp(w, want, sizeof w), "weights %g %g %g | %g %g %g", w[0], w[1], w[2], w[3], w[4], w[5]);
}

static void test_plain_and_fd(void) {
    enum { N = 40 };
    Rng rng;
    rng_seed(&rng, 9);
    float p[N], t[N], w[N], one[N], g1[N] = {0}, g2[N] = {0};
    for (int i = 0; i < N; i++) {
        p[i] = rng_uniformf(&rng, -1, 1), t[i] = rng_uniformf(&rng, -1, 1);
        w[i] = rng_uniformf(&rng, 1, 4), one[i] = 1;
    }
    EXPECT(fabsf(wl1_loss_forward(p, t, one, N) - l1_loss_forward(p, t, N)) <= 1e-7f, "w = 1: the L1 forward");
    wl1_loss_backward(g1, p, t, one, N, 0.5f);
    l1_loss_backward(g2, p, t, N, 0.5f);
    EXPECT(!memcmp(g1, g2, sizeof g1), "w = 1: the L1 gradient bit for bit");
    // finite differences (double-checked away from the kinks: |p - t| > 1e-2 for every element)
    float g[N] = {0};
    wl1_loss_backward(g, p, t, w, N, 1.0f);
    int ok = 1;
    for (int i = 0; i < N; i++) {
        if (fabsf(p[i] - t[i]) < 1e-2f) continue;
        const float h = 1e-3f;
        float keep = p[i];
        p[i] = keep + h;
        double up = wl1_loss_forward(p, t, w, N);
        p[i] = keep - h;
        double dn = wl1_loss_forward(p, t, w, N);
        p[i] = keep;
        double fd = (up - dn) / (2 * h);
        if (fabs(fd - g[i]) > 1e-4 + 1e-2 * fabs(g[i])) {
            ok = 0;
            printf("  element %d: fd %.6g analytic %.6g\n", i, fd, g[i]);
        }
    }
    EXPECT(ok, "finite differences of the weighted L1");
}

static float *rd(hid_t f, const char *path, size_t n) {
    Err err;
    int rank;
    hsize_t dims[8];
    float *x = h5_read_floats_alloc(f, path, &rank, dims, &err);
    if (!x) { EXPECT(0, "fixture %s: %s", path, err.msg); return xcalloc(n, sizeof(float)); }
    return x;
}

static void test_parity(void) {
    hid_t f = fixture_open("wloss.h5", "make_wloss_fixtures.py");
    Err err = {{0}};
    if (f < 0) return;
    // the weights of the two frames [2,3,5,4], alpha 4
    const int B = 2, C = 3, H = 5, W = 4;
    const size_t F = (size_t)C * H * W;
    float *cur = rd(f, "frames_u8/cur", B * F), *prev = rd(f, "frames_u8/prev", B * F);
    float *wref = rd(f, "frames/w", B * F), *w = xmalloc_floats(B * F);
    uint8_t *cu = xmalloc(B * F), *pu = xmalloc(B * F);
    for (size_t i = 0; i < B * F; i++) cu[i] = (uint8_t)cur[i], pu[i] = (uint8_t)prev[i];
    for (int b = 0; b < B; b++) changed_weights(cu + b * F, pu + b * F, C, H, W, 4.0f, w + b * F);
    EXPECT(!memcmp(w, wref, B * F * sizeof(float)), "changed weights = the fixture's");
    const char *cases[2] = {"frames", "random"};
    for (int k = 0; k < 2; k++) {
        char p[64];
        int64_t n64;
        snprintf(p, sizeof p, "%s", cases[k]);
        if (h5_attr_read_i64(f, p, "n", &n64, &err) < 0) { EXPECT(0, "%s", err.msg); continue; }
        size_t n = (size_t)n64;
#define R(name) (snprintf(p, sizeof p, "%s/" name, cases[k]), rd(f, p, n))
        float *pred = R("pred"), *target = R("target"), *wt = R("w"), *loss = R("loss"), *scale = R("scale");
        float *dref = R("dpred"), *d = xcalloc(n, sizeof(float));
#undef R
        float got = wl1_loss_forward(pred, target, wt, n);
        wl1_loss_backward(d, pred, target, wt, n, scale[0]);
        EXPECT(fabsf(got - loss[0]) <= 1e-6f * fabsf(loss[0]) + 1e-7f, "%s: loss %.9g vs PyTorch %.9g", cases[k], got,
               loss[0]);
        char nm[64];
        snprintf(nm, sizeof nm, "%s: dpred vs PyTorch", cases[k]);
        expect_close(nm, d, dref, (long)n, 1e-7, 1e-5);
        free(pred), free(target), free(wt), free(loss), free(scale), free(dref), free(d);
    }
    free(cur), free(prev), free(wref), free(w), free(cu), free(pu);
    h5_close(f);
}

int main(void) {
    test_weights();
    test_plain_and_fd();
    test_parity();
    return test_summary();
}
