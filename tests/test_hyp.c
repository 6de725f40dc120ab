/*
 * test_hyp.c - the multiple-hypothesis head of nn/dynamics.h on the conv dynamics:
 *   - choice: T = 0 takes the most probable candidate, the oracle the one nearest the target
 *     (also through dynm_forward_step_oracle, which counts its choices and agreements, and per
 *     cell: each grid cell its own nearest candidate),
 *     T = 1 draws candidates at softmax(logits) rates (20,000 draws);
 *   - a chooser per cell (dynamics.hyp_choice = cell): T = 0 each cell takes the candidate of its
 *     largest logit, the oracle counts the cells whose largest was their nearest;
 *   - directional derivative (all params along one random direction vs grad . d) of a 3-step
 *     rollout loss with the oracle: the winner's MSE, the others' relaxed MSE and the CE; the
 *     rollout stepping on from the winner, and from the most probable (dynamics.hyp_feed); the
 *     same with a chooser per cell (each cell's CE towards its nearest; fed per cell);
 *   - what it is for: a bimodal toy (the same z and button go to z + 1 or z - 1, 50/50). A
 *     single delta learns the average (about 0: the "faded piece"); 2 hypotheses learn both
 *     futures, +1 and -1, each drawn about half the time at T = 1;
 *   - PyTorch parity (tests/make_hyp_fixtures.py -> fixtures/spatial_dyn_hyp.h5, and
 *     spatial_dyn_hyp_cell.h5 with a chooser per cell): a 4-step oracle rollout's choices,
 *     latents, loss and every parameter gradient;
 *   - checkpoint attributes: hypotheses and hyp_choice round-trip; a vae with hypotheses, and a
 *     chooser per cell without hypotheses, are refused.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/dyn_conv.h"
#include "nn/optim.h"
#include "base/alloc.h"
#include "base/h5.h"
#include "base/rng.h"
#include "tests/test.h"
#include "tests/fixture_h5.h"
#include "tests/gradcheck.h"

static int make_cfg(DynModel *dm, const ConvDynConfig *c, int B, uint64_t seed) {
    Rng rng;
    rng_seed(&rng, seed);
    Err err;
    int rc = dynm_conv_init(dm, c, B, &rng, &err);
    if (rc < 0) printf("  %s\n", err.msg);
    return rc;
}

static int make(DynModel *dm, int M, int K, int B, uint64_t seed, ConvDynConfig *out) {
    ConvDynConfig c = {2, 3, 4, 3, 6, 2, K, 0, M, 0, {0}, 0};
    if (out) *out = c;
    return make_cfg(dm, &c, B, seed);
}

static void test_choice(void) {
    printf("hypotheses: T = 0 most probable, oracle nearest, T = 1 at softmax rates\n");
    DynModel dm;
    CHECK(make(&dm, 3, 1, 1, 7, NULL) == 0, "init");
    ParamArena *ar = dynm_arena(&dm);
    Rng rng;
    rng_seed(&rng, 8);
    for (size_t i = 0; i < ar->n; i++) ar->params[i] += 0.3f * rng_normal(&rng);
    const int Z = dm.Z;
    float z[24], a[3] = {1, 0, 1};
    for (int j = 0; j < Z; j++) z[j] = rng_normal(&rng);
    dm.temperature = 0;
    dynm_forward_step(&dm, 0, z, a, 1);
    const float *p = dm.prob;
    int best = 0;
    for (int c = 1; c < 3; c++) best = p[c] > p[best] ? c : best;
    EXPECT(dm.choice[0] == best, "T = 0 chose %d, most probable %d (p %.3f %.3f %.3f)", dm.choice[0], best, p[0],
           p[1], p[2]);
    const float *head = dynm_head(&dm, 0);
    EXPECT(memcmp(dynm_delta(&dm, 0), head + (size_t)best * Z, Z * sizeof(float)) == 0, "delta = candidate %d", best);
    int ok = 1;
    for (int j = 0; j < Z; j++) ok &= dynm_znext(&dm, 0)[j] == z[j] + head[(size_t)best * Z + j];
    EXPECT(ok, "znext = z + delta");
    // oracle: the target is candidate 2 plus a little
    int want = (best + 1) % 3;
    for (int j = 0; j < Z; j++) dm.tgt[j] = head[(size_t)want * Z + j] + 1e-3f;
    dm.oracle = 1;
    dynm_forward_step(&dm, 0, z, a, 1);
    EXPECT(dm.choice[0] == want, "oracle chose %d, nearest is %d", dm.choice[0], want);
    dm.oracle = 0;
    // dynm_forward_step_oracle (./eval --hyp-oracle): the target is the true next latent - z;
    // it counts the choice and whether the most probable was it, and leaves the oracle off
    float ztrue[24];
    for (int j = 0; j < Z; j++) ztrue[j] = z[j] + head[(size_t)want * Z + j] - 1e-3f;
    const long n0 = dm.oracle_choices, a0 = dm.oracle_agree;
    dynm_forward_step_oracle(&dm, 0, z, a, ztrue, 0, 1);
    EXPECT(dm.choice[0] == want && !dm.oracle, "step_oracle chose %d, nearest is %d; oracle left %d", dm.choice[0],
           want, dm.oracle);
    EXPECT(dm.oracle_choices == n0 + 1 && dm.oracle_agree == a0, "step_oracle counted 1 choice, not the most probable: "
           "%ld %ld", dm.oracle_choices - n0, dm.oracle_agree - a0);
    for (int j = 0; j < Z; j++) ztrue[j] = z[j] + head[(size_t)best * Z + j];
    dynm_forward_step_oracle(&dm, 0, z, a, ztrue, 0, 1);
    EXPECT(dm.choice[0] == best && dm.oracle_agree == a0 + 1, "step_oracle: the most probable was the nearest");
    // per cell: cell p's target is candidate p % 3 there (+ a little): delta takes each cell's own
    const int P = dm.P, L = Z / P;
    for (int p = 0; p < P; p++)
        for (int ch = 0; ch < L; ch++) ztrue[ch * P + p] = z[ch * P + p] + head[(size_t)(p % 3) * Z + ch * P + p] + 1e-4f;
    dynm_forward_step_oracle(&dm, 0, z, a, ztrue, 1, 1);
    ok = !dm.oracle && !dm.oracle_cell && L * P == Z;
    for (int p = 0; p < P; p++)
        for (int ch = 0; ch < L; ch++) {
            const float want_d = head[(size_t)(p % 3) * Z + ch * P + p];
            ok &= dynm_delta(&dm, 0)[ch * P + p] == want_d && dynm_znext(&dm, 0)[ch * P + p] == z[ch * P + p] + want_d;
        }
    EXPECT(ok, "step_oracle per cell: each of the %d cells took its own nearest candidate (%d channels each)", P, L);
    // T = 1: rates
    dm.temperature = 1;
    dm.rng = &rng;
    int count[3] = {0};
    const int N = 20000;
    for (int i = 0; i < N; i++) {
        dynm_forward_step(&dm, 0, z, a, 1);
        count[dm.choice[0]]++;
    }
    double worst = 0;
    for (int c = 0; c < 3; c++) {
        double r = (double)count[c] / N, sd = sqrt(p[c] * (1 - p[c]) / N);
        double zsc = fabs(r - p[c]) / (sd + 1e-12);
        worst = zsc > worst ? zsc : worst;
        printf("  candidate %d: p %.4f drawn %.4f\n", c, p[c], r);
    }
    EXPECT(worst < 5, "draw rates within 5 sd of softmax (worst %.2f sd)", worst);
    dynm_free(&dm);
}

// A chooser per cell: T = 0 each cell takes the candidate of its largest logit (delta pieced
// together); the oracle fits the frame's nearest and counts, cell by cell, whether the largest
// logit was the nearest there.
static void test_cell_choice(void) {
    printf("hypotheses chosen per cell: T = 0 each cell its largest logit, the oracle counts cells\n");
    DynModel dm;
    ConvDynConfig c = {2, 3, 4, 3, 6, 2, 1, 0, 3, 0, {0}, 1};
    CHECK(make_cfg(&dm, &c, 1, 7) == 0 && dm.choice_cell, "init");
    ParamArena *ar = dynm_arena(&dm);
    Rng rng;
    rng_seed(&rng, 8);
    for (size_t i = 0; i < ar->n; i++) ar->params[i] += 0.3f * rng_normal(&rng);
    const int Z = dm.Z, P = dm.P, L = Z / P, M = 3;
    float z[24], a[3] = {1, 0, 1}, ztrue[24];
    for (int j = 0; j < Z; j++) z[j] = rng_normal(&rng);
    dm.temperature = 0;
    dynm_forward_step(&dm, 0, z, a, 1);
    const float *head = dynm_head(&dm, 0), *pl = head + (size_t)M * Z;
    int ok = 1, kinds = 0, seen[3] = {0};
    for (int p = 0; p < P; p++) {
        int best = 0;
        for (int k = 1; k < M; k++) best = pl[k * P + p] > pl[best * P + p] ? k : best;
        seen[best] = 1;
        ok &= dm.cfed[p] == best;
        for (int ch = 0; ch < L; ch++)
            ok &= dynm_delta(&dm, 0)[ch * P + p] == head[(size_t)best * Z + ch * P + p] &&
                  dynm_znext(&dm, 0)[ch * P + p] == z[ch * P + p] + head[(size_t)best * Z + ch * P + p];
    }
    for (int k = 0; k < M; k++) kinds += seen[k];
    EXPECT(ok, "each of the %d cells took the candidate of its largest logit (%d candidates among them)", P, kinds);
    // the oracle: cell p's truth is candidate p % 3 there; the frame's nearest becomes delta, and
    // the agreement counts cells
    for (int p = 0; p < P; p++)
        for (int ch = 0; ch < L; ch++) ztrue[ch * P + p] = z[ch * P + p] + head[(size_t)(p % 3) * Z + ch * P + p];
    int agree = 0;
    for (int p = 0; p < P; p++) agree += dm.cfed[p] == p % 3;
    const long n0 = dm.oracle_choices, a0 = dm.oracle_agree;
    dynm_forward_step_oracle(&dm, 0, z, a, ztrue, 0, 1);
    ok = 1;
    for (int p = 0; p < P; p++) ok &= dm.cnear[p] == p % 3;
    EXPECT(ok && dm.oracle_choices - n0 == P && dm.oracle_agree - a0 == agree,
           "oracle: each cell's nearest found, %ld cells counted, %ld agreed (want %d, %d)", dm.oracle_choices - n0,
           dm.oracle_agree - a0, P, agree);
    ok = memcmp(dynm_delta(&dm, 0), head + (size_t)dm.choice[0] * Z, Z * sizeof(float)) == 0;
    EXPECT(ok, "oracle: delta is the frame's nearest candidate %d whole", dm.choice[0]);
    dynm_free(&dm);
}

typedef struct {
    DynModel *m;
    const float *ztrue, *a;
    int K, B;
} Ctx;

static double roll_loss(void *vc, int backward) {
    Ctx *c = vc;
    if (backward) arena_zero_grad(dynm_arena(c->m));
    c->m->oracle = 1;
    DynLoss L = dynm_rollout_forward(c->m, c->ztrue, c->a, NULL, c->K, c->B);
    if (backward) dynm_rollout_backward(c->m, c->ztrue, NULL, c->K, c->B);
    c->m->oracle = 0;
    return L.mse + L.hyp;
}

// most_probable: dynamics.hyp_feed = most_probable, the loss fits the nearest candidate, the
// rollout steps on from the most probable (the gradient reaches each through its own path).
static void directional_feed(int most_probable, int per_cell) {
    printf("hypotheses: directional check through a 3-step rollout (3 candidates, oracle, CE, relaxed MSE; fed: %s; "
           "chosen %s)\n", most_probable ? "the most probable" : "the nearest", per_cell ? "per cell" : "per frame");
    const int K = 3, B = 4, M = 3;
    DynModel dm;
    ConvDynConfig cfg = {2, 3, 4, 3, 6, 2, K, 0, M, 0, {0}, per_cell};
    CHECK(make_cfg(&dm, &cfg, B, 11) == 0, "init");
    dm.feed_most_probable = most_probable;
    ParamArena *ar = dynm_arena(&dm);
    Rng rng;
    rng_seed(&rng, 12);
    for (size_t i = 0; i < ar->n; i++) ar->params[i] += 0.2f * rng_normal(&rng);
    const size_t nz = (size_t)B * dm.Z;
    float *ztrue = xmalloc_floats((K + 1) * nz), *a = xmalloc_floats((size_t)K * B * 3);
    for (size_t i = 0; i < (K + 1) * nz; i++) ztrue[i] = rng_normal(&rng);
    for (int i = 0; i < K * B * 3; i++) a[i] = (float)rng_below(&rng, 2);
    Ctx c = {&dm, ztrue, a, K, B};
    double L0 = roll_loss(&c, 0);
    const int P = dm.P, cells = 12 * P;   // 12 = K * B, the steps of all samples
    int choice0[12], *fed0 = xmalloc((size_t)cells * sizeof *fed0), *near0 = xmalloc((size_t)cells * sizeof *near0);
    int differ = 0;
    memcpy(choice0, dm.choice, sizeof choice0);
    memcpy(fed0, dm.cfed, (size_t)cells * sizeof *fed0);
    memcpy(near0, dm.cnear, (size_t)cells * sizeof *near0);
    for (int i = 0; i < cells; i++) differ += choice0[i / P] != fed0[i];
    EXPECT(most_probable ? differ > 0 : differ == 0, "fed another candidate than the nearest in %d of %d cells", differ,
           cells);
    EXPECT(L0 > 0 && isfinite(L0), "loss %g", L0);
    float *scale = param_scale(ar, 1e-2);
    Seg seg = {ar->params, ar->grads, ar->n, scale};
    double fd, an, rel = directional("hypotheses rollout (all params)", &seg, 1, roll_loss, &c, 3e-4, &rng, &fd, &an);
    EXPECT(rel < 5e-3, "hypotheses rollout directional derivative: rel %.2e", rel);
    roll_loss(&c, 0);
    EXPECT(memcmp(choice0, dm.choice, sizeof choice0) == 0 && memcmp(fed0, dm.cfed, (size_t)cells * sizeof *fed0) == 0 &&
           (!per_cell || memcmp(near0, dm.cnear, (size_t)cells * sizeof *near0) == 0),
           "no winner, no fed candidate and no cell's nearest changed under the probe");
    free(scale); free(ztrue); free(a); free(fed0); free(near0);
    dynm_free(&dm);
}

static void test_directional(void) {
    directional_feed(0, 0);
    directional_feed(1, 0);
    directional_feed(0, 1);
    directional_feed(1, 1);
}

// The same (z, button) goes to z + 1 or z - 1 at random. Returns the mean |delta| at T = 0 and
// the share of T = 1 draws whose delta is near +1 and near -1.
static void bimodal(int M, double *mean_abs, double *share_up, double *share_down) {
    const int B = 32, steps = 600;
    DynModel dm;
    CHECK(make(&dm, M, 1, B, 21, NULL) == 0, "init");
    ParamArena *ar = dynm_arena(&dm);
    float *mo = xmalloc_floats(ar->n), *vo = xmalloc_floats(ar->n);
    Adam opt = adam_default(3e-3f);
    Rng rng;
    rng_seed(&rng, 22);
    const int Z = dm.Z;
    float *zt = xmalloc_floats((size_t)2 * B * Z), *a = xmalloc_floats((size_t)B * 3);
    for (int i = 0; i < B * 3; i++) a[i] = i % 3 == 0;
    for (int it = 0; it < steps; it++) {
        for (int b = 0; b < B; b++) {
            float s = rng_below(&rng, 2) ? 1.0f : -1.0f;
            for (int j = 0; j < Z; j++) {
                zt[(size_t)b * Z + j] = 0.5f;
                zt[(size_t)(B + b) * Z + j] = 0.5f + s;
            }
        }
        arena_zero_grad(ar);
        dm.oracle = 1;
        dynm_rollout_forward(&dm, zt, a, NULL, 1, B);
        dynm_rollout_backward(&dm, zt, NULL, 1, B);
        dm.oracle = 0;
        adam_step(&opt, ar->params, ar->grads, mo, vo, ar->n);
    }
    dm.temperature = 0;
    dynm_forward_step(&dm, 0, zt, a, 1);
    double acc = 0;
    for (int j = 0; j < Z; j++) acc += fabs(dynm_delta(&dm, 0)[j]);
    *mean_abs = acc / Z;
    dm.temperature = 1;
    dm.rng = &rng;
    int up = 0, down = 0;
    const int N = 400;
    for (int i = 0; i < N; i++) {
        dynm_forward_step(&dm, 0, zt, a, 1);
        double m = 0;
        for (int j = 0; j < Z; j++) m += dynm_delta(&dm, 0)[j];
        m /= Z;
        up += fabs(m - 1) < 0.2, down += fabs(m + 1) < 0.2;
    }
    *share_up = (double)up / N, *share_down = (double)down / N;
    free(mo); free(vo); free(zt); free(a);
    dynm_free(&dm);
}

static void test_bimodal(void) {
    printf("hypotheses: a bimodal future (z + 1 or z - 1, 50/50)\n");
    double m1, u1, d1, m2, u2, d2;
    bimodal(1, &m1, &u1, &d1);
    bimodal(2, &m2, &u2, &d2);
    printf("  1 delta:      mean |delta| %.3f, draws near +1 %.2f, near -1 %.2f\n", m1, u1, d1);
    printf("  2 hypotheses: mean |delta| %.3f, draws near +1 %.2f, near -1 %.2f\n", m2, u2, d2);
    EXPECT(m1 < 0.2 && u1 == 0 && d1 == 0, "one delta averages the two futures (|delta| %.3f)", m1);
    EXPECT(fabs(m2 - 1) < 0.2, "2 hypotheses: the most probable is a whole step (|delta| %.3f)", m2);
    EXPECT(u2 > 0.3 && d2 > 0.3 && u2 + d2 > 0.95, "2 hypotheses: both futures drawn (%.2f up, %.2f down)", u2, d2);
}

static void fixture_file(const char *name, int per_cell) {
    printf("%s (PyTorch): 4-step oracle rollout with 3 hypotheses, chosen %s\n", name,
           per_cell ? "per cell" : "per frame");
    Err err;
    hid_t f = h5_open(fixture(name), 0, &err);
    CHECK(f >= 0, "%s", err.msg);
    const int B = (int)attr_i(f, "B"), K = (int)attr_i(f, "K");
    ConvDynConfig c = {(int)attr_i(f, "channels"), (int)attr_i(f, "height"), (int)attr_i(f, "width"),
                       (int)attr_i(f, "A"), (int)attr_i(f, "hidden"), (int)attr_i(f, "blocks"), K, 0,
                       (int)attr_i(f, "M"), 0, {0}, per_cell};
    DynModel dm;
    CHECK(make_cfg(&dm, &c, B, 2) == 0, "init");
    ParamArena *ar = dynm_arena(&dm);
    load_state_dict(f, ar, "state_dict");
    size_t n;
    float *ra = read_all(f, "roll_a", &n), *rz = read_all(f, "roll_z", &n);
    arena_zero_grad(ar);
    dm.oracle = 1;
    DynLoss L = dynm_rollout_forward(&dm, rz, ra, NULL, K, B);
    dynm_rollout_backward(&dm, rz, NULL, K, B);
    float *want = read_all(f, "roll_choice", &n);
    int same = 1;
    for (int i = 0; i < K * B; i++) same &= dm.choice[(size_t)(i / B) * dm.max_B + i % B] == (int)want[i];
    EXPECT(same, "the oracle's choices of all %d steps x %d samples", K, B);
    free(want);
    if (per_cell) {
        want = read_all(f, "roll_cell_near", &n);
        same = n == (size_t)K * B * dm.P;
        for (size_t i = 0; same && i < n; i++) same &= dm.cnear[(i / ((size_t)B * dm.P)) * dm.max_B * dm.P + i % ((size_t)B * dm.P)] == (int)want[i];
        EXPECT(same, "each cell's nearest candidate, all %d steps x %d samples x %d cells", K, B, dm.P);
        free(want);
    }
    float got = (float)L.mse;
    want = read_all(f, "roll_mse", NULL);
    compare("rollout MSE of the chosen (sum over steps)", &got, want, 1);
    free(want);
    got = (float)(L.mse + L.hyp);
    want = read_all(f, "roll_loss", NULL);
    compare(per_cell ? "rollout loss (MSE + cells' CE + relaxed)" : "rollout loss (MSE + CE + relaxed)", &got, want, 1);
    free(want);
    want = read_all(f, "roll_zhat", &n);
    const size_t nz = (size_t)B * dm.Z;
    float *zhat = xmalloc_floats((size_t)K * nz);
    for (int k = 0; k < K; k++) memcpy(zhat + k * nz, dynm_znext(&dm, k), nz * sizeof(float));
    compare("rollout z_1..z_K", zhat, want, n);
    free(want);
    compare_grads(ar, f, "roll_grads");
    free(zhat); free(ra); free(rz);
    h5_close(f);
    dynm_free(&dm);
}

static void test_fixture(void) {
    fixture_file("spatial_dyn_hyp.h5", 0);
    fixture_file("spatial_dyn_hyp_cell.h5", 1);
}

static void test_meta(void) {
    printf("hypotheses: checkpoint attributes, refusals\n");
    DynModel dm;
    ConvDynConfig c, back;
    CHECK(make(&dm, 4, 1, 2, 3, &c) == 0, "init");
    CkptMeta meta;
    ckpt_meta_init(&meta, "dynamics");
    ckpt_meta_dynm(&meta, &dm);
    Err err;
    EXPECT(ckpt_meta_to_conv_dyn_config(&meta, &back, &err) == 0 && back.hyp == 4, "hypotheses = %d", back.hyp);
    EXPECT(dynm_stochastic(&dm), "4 hypotheses: stochastic");
    EXPECT(!back.hyp_cell && !ckpt_get(&meta, "hyp_choice"), "chosen per frame: no hyp_choice attribute");
    dynm_free(&dm);
    ConvDynConfig cell = c;
    cell.hyp_cell = 1;
    CHECK(make_cfg(&dm, &cell, 2, 3) == 0, "init per cell");
    ckpt_meta_init(&meta, "dynamics");
    ckpt_meta_dynm(&meta, &dm);
    EXPECT(ckpt_meta_to_conv_dyn_config(&meta, &back, &err) == 0 && back.hyp_cell == 1 && back.hyp == 4,
           "hyp_choice = cell round-trips");
    dynm_free(&dm);
    ckpt_set_str(&meta, "hyp_choice", "pixel");
    EXPECT(ckpt_meta_to_conv_dyn_config(&meta, &back, &err) == -1 && strstr(err.msg, "hyp_choice"),
           "hyp_choice 'pixel' refused: %s", err.msg);
    ConvDynConfig bad = c;
    bad.vae = 1;
    Rng rng;
    rng_seed(&rng, 1);
    EXPECT(dynm_conv_init(&dm, &bad, 2, &rng, &err) == -1 && strstr(err.msg, "vae"), "vae + hypotheses refused: %s",
           err.msg);
    bad = c;
    bad.hyp = DYN_HYP_MAX + 1;
    EXPECT(dynm_conv_init(&dm, &bad, 2, &rng, &err) == -1, "%d hypotheses refused", DYN_HYP_MAX + 1);
    bad = c;
    bad.hyp = 1, bad.hyp_cell = 1;
    EXPECT(dynm_conv_init(&dm, &bad, 2, &rng, &err) == -1 && strstr(err.msg, "per cell"),
           "a chooser per cell without hypotheses refused: %s", err.msg);
}

int main(void) {
    test_choice();
    test_cell_choice();
    test_directional();
    test_bimodal();
    test_fixture();
    test_meta();
    return test_summary();
}
