/*
 * test_perceptual.c - the perceptual term of the autoencoder loss (nn/perceptual.c,
 * train.perceptual_weight, roadmap 2.1):
 *   - zero (and a zero gradient) when the reconstruction is the frame
 *   - finite differences of the term w.r.t. the reconstruction: a directional check over every
 *     element and central differences of single elements, gray (GEMM paths) and RGB frames
 *     (the direct and Winograd paths of the frozen convs), with scale
 *   - the frozen weights are a copy: changing or freeing the autoencoder does not move them
 *   - PyTorch parity: tests/fixtures/perceptual.h5 (tests/make_perceptual_fixtures.py), the
 *     loss and d(scale * loss)/dr of the mean over stages of F.mse_loss(phi_s(r), phi_s(x))
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/rng.h"
#include "nn/model.h"
#include "nn/perceptual.h"
#include "tests/fixture_h5.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

typedef struct {
    Perceptual *p;
    float *r, *dr;
    const float *x;
    int B;
    float scale;
} PCtx;

static double perc_loss(void *vctx, int backward) {
    PCtx *c = vctx;
    double loss = perc_forward(c->p, c->r, c->x, c->B);
    if (backward) {
        memset(c->dr, 0, (size_t)c->B * c->p->C * c->p->H * c->p->W * sizeof(float));
        perc_backward(c->p, c->dr, c->B, c->scale);
    }
    return c->scale * loss;
}

static void make_ae(AE *ae, int C, int H, int W, int S, int base, uint64_t seed) {
    AEConfig ac = {H, W, C, S, base, 8, 0.0f, 0};
    Rng rng;
    rng_seed(&rng, seed);
    Err err;
    CHECK(ae_init(ae, &ac, 2, &rng, &err) == 0, "%s", err.msg);
}

static void test_fd(int C, int H, int W, int S, int base, float scale) {
    printf("frames %dx%dx%d, %d stages of base %d, scale %g\n", C, H, W, S, base, scale);
    AE ae;
    make_ae(&ae, C, H, W, S, base, 3 + C);
    Perceptual p;
    perc_init(&p, &ae, 2);
    const int B = 2;
    const size_t n = (size_t)B * C * H * W;
    float *x = xmalloc_floats(n), *r = xmalloc_floats(n), *dr = xmalloc_floats(n);
    Rng rng;
    rng_seed(&rng, 77);
    for (size_t i = 0; i < n; i++) {
        x[i] = rng_uniformf(&rng, 0, 1);
        r[i] = fminf(fmaxf(x[i] + 0.3f * rng_normal(&rng), 0), 1);
    }
    PCtx c = {&p, r, dr, x, B, scale};
    // identical frames: zero loss, zero gradient
    double loss0 = perc_forward(&p, x, x, B);
    memset(dr, 0, n * sizeof(float));
    perc_backward(&p, dr, B, scale);
    EXPECT(loss0 == 0.0f && maxabs(dr, n) == 0.0, "r = x: loss %g, max |grad| %g", loss0, maxabs(dr, n));
    Seg seg = {r, dr, n, NULL};
    double fd, an, rel = directional("perceptual w.r.t. the reconstruction", &seg, 1, perc_loss, &c, 1e-3, &rng, &fd, &an);
    EXPECT(rel < 2e-3 && fabs(an) > 0, "directional derivative: rel %.3g (fd %.6g, grad.d %.6g)", rel, fd, an);
    // single elements, central differences in double
    perc_loss(&c, 1);
    float *g = xmalloc_floats(n);
    memcpy(g, dr, n * sizeof(float));
    int bad = 0;
    for (int k = 0; k < 12; k++) {
        size_t i = (size_t)(rng_uniformf(&rng, 0, 1) * (n - 1));
        float keep = r[i];
        const float h = 1e-3f;
        r[i] = keep + h;
        double up = perc_loss(&c, 0);
        r[i] = keep - h;
        double dn = perc_loss(&c, 0);
        r[i] = keep;
        double f = (up - dn) / (2 * h);
        if (fabs(f - g[i]) > 1e-3 * maxabs(g, n) + 2e-2 * fabs(g[i])) {
            bad++;
            printf("  element %zu: fd %.6g analytic %.6g\n", i, f, g[i]);
        }
    }
    EXPECT(bad == 0, "central differences of single elements: %d of 12 off", bad);
    // the frozen weights are a copy
    double before = perc_forward(&p, r, x, B);
    for (size_t i = 0; i < ae.arena.n; i++) ae.arena.params[i] = 0;
    ae_free(&ae);
    double after = perc_forward(&p, r, x, B);
    EXPECT(before == after && before > 0, "the frozen copy: %g before zeroing the autoencoder, %g after", before, after);
    free(x), free(r), free(dr), free(g);
    perc_free(&p);
}

static void test_parity(const char *name) {
    hid_t f = fixture_open("perceptual.h5", "make_perceptual_fixtures.py");
    if (f < 0) return;
    Err err;
    int64_t v[6];
    const char *an[6] = {"B", "C", "H", "W", "S", "base"};
    for (int k = 0; k < 6; k++) CHECK(h5_attr_read_i64(f, name, an[k], &v[k], &err) == 0, "%s", err.msg);
    const int B = (int)v[0], C = (int)v[1], H = (int)v[2], W = (int)v[3], S = (int)v[4], base = (int)v[5];
    AE ae;
    make_ae(&ae, C, H, W, S, base, 1);
    char path[160];
    for (int s = 0; s < S; s++) {
        size_t nw, nb;
        snprintf(path, sizeof path, "%s/encoder_conv.%d.weight", name, 2 * s);
        float *w = read_all(f, path, &nw);
        snprintf(path, sizeof path, "%s/encoder_conv.%d.bias", name, 2 * s);
        float *b = read_all(f, path, &nb);
        CHECK(nw == (size_t)ae.enc[s].OC * ae.enc[s].C * 16 && nb == (size_t)ae.enc[s].OC, "fixture %s sizes", path);
        memcpy(ae.w.enc_w[s], w, nw * sizeof(float));
        memcpy(ae.w.enc_b[s], b, nb * sizeof(float));
        free(w), free(b);
    }
    Perceptual p;
    perc_init(&p, &ae, B);
    ae_free(&ae);
    size_t n;
#define R(k) (snprintf(path, sizeof path, "%s/" k, name), read_all(f, path, &n))
    float *x = R("x"), *r = R("r"), *loss = R("loss"), *scale = R("scale"), *dref = R("dr");
#undef R
    float *dr = xcalloc(n, sizeof(float));
    double got = perc_forward(&p, r, x, B);
    perc_backward(&p, dr, B, scale[0]);
    EXPECT(fabs(got - loss[0]) <= 1e-5 * fabs(loss[0]), "%s: loss %.9g vs PyTorch %.9g", name, got, loss[0]);
    snprintf(path, sizeof path, "%s: dL/dr vs PyTorch", name);
    compare(path, dr, dref, n);
    free(x), free(r), free(loss), free(scale), free(dref), free(dr);
    perc_free(&p);
    h5_close(f);
}

int main(void) {
    test_fd(1, 16, 16, 2, 4, 1.0f);
    test_fd(3, 48, 48, 3, 16, 0.25f);
    test_parity("gray");
    test_parity("rgb");
    return test_summary();
}
