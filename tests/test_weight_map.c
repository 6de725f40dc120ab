/*
 * test_weight_map.c - the weight map of the autoencoder loss (train.weight_map,
 * train.weight_map_gain; src/train_weight_map.c, nn/wloss.c):
 *   - weight_map_weights and weights_mul on known values
 *   - central finite differences of the L1 under a map's weights times changed_weight's
 *   - the whole autoencoder (flat and spatial latent) trained on that loss: directional check
 *     of every parameter's gradient (tests/gradcheck.h)
 *   - PyTorch and Pillow parity: tests/fixtures/weightmap.h5 (tests/make_weightmap_fixtures.py):
 *     a grey and an RGB map written as PNG, read and resized by weight_map_build as the frames
 *     are, composed with changed_weight, (w * (pred - target).abs()).mean() and its gradient
 *   - the Tetris HUD mask (data/game_hud.h): the digit cells, and configs/tetris_hud_mask.png is it
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/rng.h"
#include "data/game.h"
#include "data/game_hud.h"
#include "data/png.h"
#include "nn/ops.h"
#include "nn/wloss.h"
#include "src/train.h"
#include "tests/fixture_h5.h"
#include "tests/gradcheck.h"
#include "tests/test.h"

static char g_tmp[256];

static void test_weights(void) {
    const uint8_t map[3] = {0, 255, 51};   // H=1, W=3
    float w[6];
    weight_map_weights(map, 2, 1, 3, 10.0f, w);
    const float want[6] = {1, 11, 3, 1, 11, 3};
    int ok = 1;
    for (int i = 0; i < 6; i++) ok &= fabsf(w[i] - want[i]) <= 1e-6f;
    EXPECT(ok, "map weights %g %g %g | %g %g %g", w[0], w[1], w[2], w[3], w[4], w[5]);
    const float m[6] = {2, 2, 1, 0.5f, 1, 1};
    weights_mul(w, m, 6);
    EXPECT(w[0] == 2 && w[1] == 22 && w[2] == 3 && w[3] == 0.5f && w[4] == 11, "weights_mul");
}

// Central differences of wl1 under composed weights (map x changed), away from the kinks.
static void test_fd(void) {
    enum { C = 2, H = 3, W = 4, N = C * H * W };
    Rng rng;
    rng_seed(&rng, 21);
    uint8_t map[H * W], cur[N], prev[N];
    float p[N], t[N], w[N], wm[N], g[N] = {0};
    for (int i = 0; i < H * W; i++) map[i] = (uint8_t)(rng_uniform(&rng) * 256);
    for (int i = 0; i < N; i++) {
        cur[i] = (uint8_t)(i * 37), prev[i] = i % 5 ? cur[i] : (uint8_t)(cur[i] + 1);
        p[i] = rng_uniformf(&rng, 0, 1), t[i] = rng_uniformf(&rng, 0, 1);
    }
    changed_weights(cur, prev, C, H, W, 4.0f, w);
    weight_map_weights(map, C, H, W, 30.0f, wm);
    weights_mul(w, wm, N);
    wl1_loss_backward(g, p, t, w, N, 1.0f);
    int ok = 1, n = 0;
    for (int i = 0; i < N; i++) {
        if (fabsf(p[i] - t[i]) < 1e-2f) continue;
        const float h = 1e-3f, keep = p[i];
        p[i] = keep + h;
        double up = wl1_loss_forward(p, t, w, N);
        p[i] = keep - h;
        double dn = wl1_loss_forward(p, t, w, N);
        p[i] = keep;
        double fd = (up - dn) / (2 * h);
        n++;
        if (fabs(fd - g[i]) > 1e-4 + 1e-2 * fabs(g[i])) ok = 0, printf("  element %d: fd %.6g analytic %.6g\n", i, fd, g[i]);
    }
    EXPECT(ok && n > N / 2, "finite differences of the L1 under map x changed weights (%d elements)", n);
}

typedef struct {
    AE *m;
    const float *x, *w;
    float *drecon;
    int B;
} WCtx;

// L = weighted L1(recon, x): the autoencoder loss of ./train with a weight map
static double wae_loss(void *vctx, int backward) {
    WCtx *c = vctx;
    size_t n = (size_t)c->B * c->m->cfg.C * c->m->cfg.H * c->m->cfg.W;
    ae_forward(c->m, c->x, c->B, NULL);
    double loss = 0;   // in double: wl1_loss_forward's float result is too coarse for the differences
    for (size_t i = 0; i < n; i++) loss += (double)c->w[i] * fabs((double)c->m->recon[i] - c->x[i]);
    loss /= (double)n;
    if (backward) {
        arena_zero_grad(&c->m->arena);
        memset(c->drecon, 0, n * sizeof(float));
        wl1_loss_backward(c->drecon, c->m->recon, c->x, c->w, n, 1.0f);
        ae_backward(c->m, c->drecon, NULL, c->B);
    }
    return loss;
}

static void test_ae_directional(int spatial) {
    AEConfig cfg = {.H = 16, .W = 16, .C = 1, .stages = 2, .base_channels = 4, .latent_dim = spatial ? 0 : 6,
                    .latent_channels = spatial ? 3 : 0};
    Rng rng;
    rng_seed(&rng, spatial ? 5 : 6);
    AE m;
    Err err;
    CHECK(ae_init(&m, &cfg, 2, &rng, &err) == 0, "%s", err.msg);
    const int B = 2, P = 16 * 16;
    size_t n = (size_t)B * P;
    float *x = xmalloc_floats(n), *w = xmalloc_floats(n), *wm = xmalloc_floats(P), *drecon = xmalloc_floats(n);
    uint8_t map[16 * 16], cur[16 * 16], prev[16 * 16];
    for (int i = 0; i < P; i++) {
        map[i] = (i / 16 >= 2 && i / 16 < 5 && i % 16 >= 8) ? 255 : 0;   // a "digit" box
        // pixels far from the initial recon (~0.5), so that no |recon - x| kink lies within the step
        static const uint8_t levels[4] = {0, 40, 215, 255};
        cur[i] = levels[(int)(rng_uniform(&rng) * 4) & 3], prev[i] = i % 7 ? cur[i] : (uint8_t)~cur[i];
    }
    weight_map_weights(map, 1, 16, 16, 30.0f, wm);
    for (int b = 0; b < B; b++) {
        changed_weights(cur, prev, 1, 16, 16, 4.0f, w + b * P);
        weights_mul(w + b * P, wm, P);
        for (int i = 0; i < P; i++) x[b * P + i] = cur[i] / 255.0f;
    }
    WCtx c = {&m, x, w, drecon, B};
    float *scale = param_scale(&m.arena, 0);
    Seg seg = {m.arena.params, m.arena.grads, m.arena.n, scale};
    double fd, an, rel = directional(spatial ? "spatial AE, weighted L1 (all params)" : "flat AE, weighted L1 (all params)",
                                     &seg, 1, wae_loss, &c, 1e-4, &rng, &fd, &an);
    EXPECT(rel < 5e-3 && fabs(an) > 0, "%s autoencoder on the weighted L1: directional derivative rel %.2e",
           spatial ? "spatial" : "flat", rel);
    free(x), free(w), free(wm), free(drecon), free(scale);
    ae_free(&m);
}

static void test_parity_case(hid_t f, const char *name) {
    char p[128];
#define RD(k) (snprintf(p, sizeof p, "%s/" k, name), read_all(f, p, NULL))
    size_t nmap;
    snprintf(p, sizeof p, "%s/map", name);
    float *mapf = read_all(f, p, &nmap);
    float *cur = RD("cur"), *prev = RD("prev"), *wmap_ref = RD("w_map"), *wref = RD("w"), *pred = RD("pred");
    float *loss_ref = RD("loss"), *dref = RD("dpred"), *gain = RD("gain"), *alpha = RD("alpha"), *scale = RD("scale");
#undef RD
    Err err = {{0}};
    int64_t n64, H, W, C, rgb;
    h5_attr_read_i64(f, name, "n", &n64, &err), h5_attr_read_i64(f, name, "H", &H, &err);
    h5_attr_read_i64(f, name, "W", &W, &err), h5_attr_read_i64(f, name, "C", &C, &err);
    h5_attr_read_i64(f, name, "rgb", &rgb, &err);
    int rank;
    hsize_t dims[8];
    snprintf(p, sizeof p, "%s/map", name);
    free(h5_read_floats_alloc(f, p, &rank, dims, &err));
    const int sh = (int)dims[0], sw = (int)dims[1], sc = rgb ? 3 : 1;
    // the map as a PNG, as a user would give it
    uint8_t *px = xmalloc(nmap);
    for (size_t i = 0; i < nmap; i++) px[i] = (uint8_t)mapf[i];
    char png[240];
    snprintf(png, sizeof png, "%.180s/%.40s.png", g_tmp, name);
    CHECK(png_write(png, px, sw, sh, sc, &err) == 0, "%s", err.msg);
    Config cfg;
    config_defaults(&cfg);
    snprintf(cfg.train.weight_map, sizeof cfg.train.weight_map, "%s", png);
    cfg.train.weight_map_gain = gain[0];
    Dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.src_h = sh, ds.src_w = sw, ds.src_c = sc, ds.H = (int)H, ds.W = (int)W, ds.C = (int)C;
    float *wm = weight_map_build(&cfg, &ds);
    const size_t F = (size_t)C * H * W, n = (size_t)n64;
    snprintf(p, sizeof p, "%s: map weights (Pillow's resize) vs the fixture", name);
    expect_close(p, wm, wmap_ref, (long)F, 1e-5, 1e-6);
    // composed with changed_weight as ./train's ae_step does
    float *w = xmalloc_floats(n), *d = xcalloc(n, sizeof(float)), *target = xmalloc_floats(n);
    uint8_t *cu = xmalloc(n), *pu = xmalloc(n);
    for (size_t i = 0; i < n; i++) cu[i] = (uint8_t)cur[i], pu[i] = (uint8_t)prev[i], target[i] = cur[i] / 255.0f;
    for (int b = 0; b < 2; b++) {
        if (alpha[0] > 0) {
            changed_weights(cu + b * F, pu + b * F, (int)C, (int)H, (int)W, alpha[0], w + b * F);
            weights_mul(w + b * F, wm, F);
        } else memcpy(w + b * F, wm, F * sizeof(float));
    }
    snprintf(p, sizeof p, "%s: composed weights vs the fixture", name);
    expect_close(p, w, wref, (long)n, 1e-5, 1e-6);
    float got = wl1_loss_forward(pred, target, w, n);
    wl1_loss_backward(d, pred, target, w, n, scale[0]);
    EXPECT(fabsf(got - loss_ref[0]) <= 1e-5f * fabsf(loss_ref[0]), "%s: loss %.9g vs PyTorch %.9g", name, got,
           loss_ref[0]);
    snprintf(p, sizeof p, "%s: dpred vs PyTorch", name);
    expect_close(p, d, dref, (long)n, 1e-7, 1e-5);
    free(mapf), free(cur), free(prev), free(wmap_ref), free(wref), free(pred), free(loss_ref), free(dref), free(gain);
    free(alpha), free(scale), free(px), free(wm), free(w), free(d), free(target), free(cu), free(pu);
}

static void test_parity(void) {
    hid_t f = fixture_open("weightmap.h5", "make_weightmap_fixtures.py");
    if (f < 0) return;
    test_parity_case(f, "grey");
    test_parity_case(f, "rgb");
    h5_close(f);
}

// The Tetris HUD mask: 255 exactly on the 8x8 cells of the score, TOP, lines and level digits,
// and the committed configs/tetris_hud_mask.png holds the same pixels.
static void test_hud_mask(void) {
    const GameDef *g = game_find("tetris");
    CHECK(g, "tetris");
    uint8_t *px = xmalloc((size_t)g->H * g->W);
    EXPECT(game_hud_mask(g, px) == 4, "4 number fields");
    size_t on = 0;
    for (size_t i = 0; i < (size_t)g->H * g->W; i++) on += px[i] == 255;
    EXPECT(on == (6 + 6 + 3 + 2) * 64, "17 digit cells of 8x8: %zu pixels", on);
    EXPECT(px[62 * g->W + 192] == 255 && px[69 * g->W + 239] == 255 && px[61 * g->W + 192] == 0 &&
           px[62 * g->W + 240] == 0, "the score's cells, not beyond");
    EXPECT(px[34 * g->W + 192] == 255 && px[20 * g->W + 148] == 255 && px[172 * g->W + 215] == 255 &&
           px[20 * g->W + 147] == 0, "TOP, lines (after LINES-) and level");
    EXPECT(game_hud_mask(game_find("maze"), px) == 0, "a game without known fields: none");
    Image img;
    Err err;
    const char *root = getenv("NEMU_ROOT");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/tetris_hud_mask.png", root ? root : ".");
    if (png_read(path, &img, &err) == 0) {
        game_hud_mask(g, px);
        EXPECT(img.w == g->W && img.h == g->H && img.c == 1 && !memcmp(img.px, px, (size_t)g->H * g->W),
               "configs/tetris_hud_mask.png is ./gen tetris --hud-mask's mask (%dx%dx%d)", img.w, img.h, img.c);
        image_free(&img);
    } else EXPECT(0, "%s", err.msg);
    free(px);
}

int main(void) {
    test_mkdtemp(g_tmp, sizeof g_tmp, "weightmap");
    test_weights();
    test_fd();
    test_ae_directional(0);
    test_ae_directional(1);
    test_parity();
    test_hud_mask();
    test_rm_tree(g_tmp);
    return test_summary();
}
