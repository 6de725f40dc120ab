/*
 * test_closed_loop.c - how closed-loop rollouts step (evaluation/closed_loop.h).
 * The latent deadband (evaluation/deadband.h):
 *   - latent_deadband keeps exactly the cells whose change has RMS < eps (spatial: the Lc
 *     channels of a grid position; flat: one element), touches nothing else, and counts them;
 *     eps = 0 is off
 *   - in closed loop (a spatial autoencoder and the conv dynamics): a small constant drift in
 *     every cell is stopped (z stays encode(start), bit for bit) while a larger one passes
 *     unchanged
 *   - ./eval's rollouts (rollout_eval) and ./play's emulator (AeDynEmu) apply it identically:
 *     the same frames, bit for bit, with a deadband that keeps some cells and not others
 * Re-encoding (dynamics.reencode):
 *   - closed_loop_reencode is encode(decode(z)), and with compose > 0 encode(the composed frame)
 *   - a dynamics that changes nothing, re-encoded every step with compose > 0, stays at
 *     encode(start) bit for bit (the composed frame is the start frame); with compose = 0 the
 *     autoencoder's own loss moves it (what compose is for)
 *   - ./eval's rollouts and ./play's emulator re-encode identically (bit for bit), samples of
 *     one start (S > 1) as a single rollout, and re-encoding changes the frames
 */
#include "evaluation/closed_loop.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/rng.h"
#include "data/dataset.h"
#include "evaluation/deadband.h"
#include "evaluation/emulation_eval.h"
#include "evaluation/rollout.h"
#include "nn/dyn_conv.h"
#include "nn/model.h"
#include "tests/test.h"

static void test_cells(void) {
    // spatial: Lc = 2 channels, P = 3 cells; sample 2 repeats sample 1 shifted
    const int Z = 6, Lc = 2;
    const float z[12] = {0, 0, 0, 1, 1, 1, /* */ 5, 5, 5, 5, 5, 5};
    // changes per cell (c0, c1): cell 0 (0.05, 0.05) RMS 0.05; cell 1 (0.3, 0) RMS 0.212; cell 2 (0.1, 0.1) RMS 0.1
    const float d[6] = {0.05f, 0.3f, 0.1f, 0.05f, 0, 0.1f};
    float zn[12];
    for (int i = 0; i < 12; i++) zn[i] = z[i] + d[i % 6];
    float want[12];
    memcpy(want, zn, sizeof want);
    for (int s = 0; s < 2; s++) want[s * 6 + 0] = z[s * 6 + 0], want[s * 6 + 3] = z[s * 6 + 3];   // cell 0 kept
    long kept = latent_deadband(z, zn, 2, Z, Lc, 0.08f);
    EXPECT(kept == 2 && !memcmp(zn, want, sizeof want), "spatial: only cell 0 (RMS 0.05 < 0.08) kept, in both "
           "samples (kept %ld)", kept);
    kept = latent_deadband(z, zn, 2, Z, Lc, 0.2f);   // now cell 2 (RMS 0.1) too, not cell 1 (0.212)
    EXPECT(kept == 4 && zn[2] == z[2] && zn[5] == z[5] && zn[1] == z[1] + 0.3f, "spatial: cells below 0.2 "
           "kept, cell 1 moved (kept %ld)", kept);
    float zf[4] = {0, 0, 0, 0}, zfn[4] = {0.01f, -0.02f, 0.5f, -0.03f};
    kept = latent_deadband(zf, zfn, 1, 4, 0, 0.025f);
    EXPECT(kept == 2 && zfn[0] == 0 && zfn[1] == 0 && zfn[2] == 0.5f && zfn[3] == -0.03f, "flat: elements with "
           "|change| < 0.025 kept (kept %ld)", kept);
    float keep[4];
    memcpy(keep, zfn, sizeof keep);
    EXPECT(latent_deadband(zf, zfn, 1, 4, 0, 0) == 0 && !memcmp(keep, zfn, sizeof keep), "eps = 0: off");
    EXPECT(latent_cells(6, 2) == 3 && latent_cells(32, 0) == 32, "cells per sample");
}

// A synthetic dataset: one episode of T frames, a bright square walking right; action 0 every step.
static void make_data(Dataset *d, int T, int C, int H, int W, int A) {
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "synthetic");
    d->n_episodes = 1, d->C = C, d->H = H, d->W = W, d->A = A;
    d->ep_id = xmalloc(sizeof(int));
    d->frame_off = xmalloc(2 * sizeof(int64_t));
    d->step_off = xmalloc(2 * sizeof(int64_t));
    d->ep_id[0] = 0, d->frame_off[0] = d->step_off[0] = 0, d->frame_off[1] = T, d->step_off[1] = T - 1;
    d->n_frames = T, d->n_steps = T - 1;
    const size_t F = (size_t)C * H * W;
    d->frames = xmalloc((size_t)T * F);
    d->actions = xcalloc((size_t)(T - 1) * A, 1);
    for (int t = 0; t < T; t++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int in = x >= t % (W - 4) && x < t % (W - 4) + 4 && y >= 4 && y < 8;
                d->frames[(size_t)t * F + (size_t)y * W + x] = (uint8_t)(in ? 220 : 20 + 4 * y);
            }
    for (int t = 0; t + 1 < T; t++) d->actions[(size_t)t * A + (t & 1)] = 1;
}

static float *tensor(DynModel *dm, const char *name) {
    ParamArena *a = dynm_arena(dm);
    for (int i = 0; i < a->n_tensors; i++)
        if (!strcmp(a->t[i].name, name)) return a->params + a->t[i].offset;
    return NULL;
}

// The models of both tests: a spatial autoencoder (16x16 grey, latent 3x4x4) and a conv
// dynamics (hidden 8, no hypotheses, no history) at max batch max_B, on make_data's episode.
enum { FX_C = 1, FX_H = 16, FX_W = 16, FX_A = 2, FX_T = 24, FX_LC = 3 };
typedef struct {
    Dataset d;
    Rng rng;
    AE ae;
    DynModel dm;
} Fixture;

static void fixture_init(Fixture *f, uint64_t seed, int max_B) {
    const AEConfig ac = {.H = FX_H, .W = FX_W, .C = FX_C, .stages = 2, .base_channels = 4, .latent_channels = FX_LC};
    make_data(&f->d, FX_T, FX_C, FX_H, FX_W, FX_A);
    rng_seed(&f->rng, seed);
    Err err = {{0}};
    EXPECT(ae_init(&f->ae, &ac, max_B, &f->rng, &err) == 0, "ae_init: %s", err.msg);
    ConvDynConfig dc = cdyn_config_for(&f->ae.cfg, FX_A, 8, 1, 1, 0, 1, 0);
    EXPECT(dynm_conv_init(&f->dm, &dc, max_B, &f->rng, &err) == 0, "dyn: %s", err.msg);
}

static void fixture_free(Fixture *f) {
    dynm_free(&f->dm);
    ae_free(&f->ae);
    free(f->d.ep_id), free(f->d.frame_off), free(f->d.step_off), free(f->d.frames), free(f->d.actions);
}

static void test_closed_loop(void) {
    const int C = FX_C, H = FX_H, W = FX_W, A = FX_A, B = 4, Lc = FX_LC;
    Fixture f;
    fixture_init(&f, 17, B);
    const int Z = f.ae.cfg.latent_dim;
    const size_t F = (size_t)C * H * W;
    float *bias = tensor(&f.dm, "conv_out.bias");
    EXPECT(bias != NULL, "conv_out.bias found");

    // conv_out's weights are zero at init: the delta is its bias, the same in every cell
    Emulator em;
    AeDynEmu ctx;
    emulator_ae_dyn(&em, &ctx, &f.ae, &f.dm);
    float *x0 = xmalloc_floats(F), *z0 = xmalloc_floats(Z), a[2] = {1, 0};
    dataset_frame(&f.d, 0, 0, x0);
    ae_encode(&f.ae, x0, 1, z0);
    for (int c = 0; c < Lc; c++) bias[c] = 0.01f;   // RMS 0.01 per cell: below 0.02
    ctx.loop.deadband = 0.02f;
    em.start(em.ctx, x0, 1);
    for (int k = 0; k < 50; k++) em.step(em.ctx, a, 1);
    EXPECT(!memcmp(ctx.z, z0, (size_t)Z * sizeof(float)) && ctx.kept == ctx.cells && ctx.cells == 50L * Z / Lc,
           "a drift of 0.01 per step under a deadband of 0.02: z stays encode(start) bit for bit over 50 steps");
    for (int c = 0; c < Lc; c++) bias[c] = 0.05f;   // above the deadband: every step passes as without it
    em.start(em.ctx, x0, 1);
    ctx.kept = 0;
    for (int k = 0; k < 5; k++) em.step(em.ctx, a, 1);
    float *want = xmalloc_floats(Z);
    memcpy(want, z0, (size_t)Z * sizeof(float));
    for (int k = 0; k < 5; k++)
        for (int i = 0; i < Z; i++) want[i] += 0.05f;
    double dev = 0;
    for (int i = 0; i < Z; i++) dev = fmax(dev, fabs(ctx.z[i] - want[i]));
    EXPECT(ctx.kept == 0 && dev < 1e-6, "a delta of 0.05 passes a deadband of 0.02 (max dev %g)", dev);

    // random weights: cells change by different amounts; eval's rollouts = play's emulator
    ParamArena *ar = dynm_arena(&f.dm);
    for (size_t i = 0; i < ar->n; i++) ar->params[i] += 0.05f * rng_normal(&f.rng);
    const int steps[3] = {1, 5, 12};
    StartPoint sp[B];
    for (int i = 0; i < B; i++) sp[i] = (StartPoint){0, 2 * i};
    // a deadband between the smallest and the largest cell change of the first step
    em.start(em.ctx, x0, 1);
    dynm_forward_step(&f.dm, 0, ctx.z, a, 1);
    double lo = 1e30, hi = 0;
    const int P = Z / Lc;
    for (int p = 0; p < P; p++) {
        double s = 0;
        for (int c = 0; c < Lc; c++) s += pow(dynm_znext(&f.dm, 0)[c * P + p] - ctx.z[c * P + p], 2);
        lo = fmin(lo, sqrt(s / Lc)), hi = fmax(hi, sqrt(s / Lc));
    }
    const float eps = (float)sqrt(lo * hi);
    RolloutResult r;
    rollout_eval(&f.ae, &f.dm, &f.d, sp, B, steps, 3, B, 1, &(ClosedLoop){0, eps, 0, 0}, NULL, &r);
    float *x = xmalloc_floats((size_t)B * F), *act = xmalloc_floats((size_t)B * A), *out = xmalloc_floats((size_t)B * F);
    for (int i = 0; i < B; i++) dataset_frame(&f.d, 0, sp[i].t, x + i * F);
    ctx.loop.deadband = eps;
    ctx.kept = ctx.cells = 0;
    em.start(em.ctx, x, B);
    int same = 1;
    for (int k = 1, j = 0; k <= steps[2]; k++) {
        for (int i = 0; i < B; i++) dataset_action(&f.d, 0, sp[i].t + k - 1, act + i * A);
        em.step(em.ctx, act, B);
        if (k != steps[j]) continue;
        em.draw(em.ctx, out, B);
        for (int i = 0; i < B; i++) same &= !memcmp(out + i * F, r.pic_pred + ((size_t)i * 3 + j) * F, F * sizeof(float));
        j++;
    }
    EXPECT(ctx.kept > 0 && ctx.kept < ctx.cells, "deadband %g keeps some cells, not all (%ld of %ld)", eps, ctx.kept,
           ctx.cells);
    EXPECT(same, "rollout_eval and the emulator draw the same frames, bit for bit, under the deadband");
    rollout_result_free(&r);
    rollout_eval(&f.ae, &f.dm, &f.d, sp, B, steps, 3, B, 1, &(ClosedLoop){0, 0, 0, 0}, NULL, &r);
    int differ = 0;
    for (int i = 0; i < B; i++) differ |= memcmp(out + i * F, r.pic_pred + ((size_t)i * 3 + 2) * F, F * sizeof(float)) != 0;
    EXPECT(differ, "without the deadband the 12-step frames differ (the deadband acted)");
    rollout_result_free(&r);
    free(x0), free(z0), free(want), free(x), free(act), free(out);
    emulator_ae_dyn_free(&ctx);
    fixture_free(&f);
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void test_reencode(void) {
    const int C = FX_C, H = FX_H, W = FX_W, A = FX_A, B = 4;
    Fixture f;
    fixture_init(&f, 23, 2 * B);
    const int Z = f.ae.cfg.latent_dim;
    const size_t F = (size_t)C * H * W;
    float *x0 = xmalloc_floats(F), *z0 = xmalloc_floats(Z), *d0 = xmalloc_floats(F), *frames = xmalloc_floats(F);
    float *z = xmalloc_floats(Z), *want = xmalloc_floats(Z), a[2] = {1, 0};
    dataset_frame(&f.d, 0, 3, x0);
    ae_encode(&f.ae, x0, 1, z0);
    ae_decode(&f.ae, z0, 1, d0);

    // the step itself
    for (int i = 0; i < Z; i++) z[i] = z0[i] + 0.3f * (float)rng_normal(&f.rng);
    memcpy(want, z, (size_t)Z * sizeof(float));
    ae_decode(&f.ae, want, 1, frames);
    ae_encode(&f.ae, frames, 1, want);
    closed_loop_reencode(&f.ae, z, 1, x0, d0, 0, frames);
    EXPECT(!memcmp(z, want, (size_t)Z * sizeof(float)), "compose 0: z <- encode(decode(z)) bit for bit");
    for (int i = 0; i < Z; i++) z[i] = z0[i] + 0.3f * (float)rng_normal(&f.rng);
    float *dec = xmalloc_floats(F);
    ae_decode(&f.ae, z, 1, dec);
    float tau = 0;   // the median change from d0: half the pixels keep the start frame's value
    for (size_t i = 0; i < F; i++) frames[i] = fabsf(dec[i] - d0[i]);
    qsort(frames, F, sizeof(float), cmp_float);
    tau = frames[F / 2];
    emu_compose(dec, x0, d0, C, H, W, tau);
    ae_encode(&f.ae, dec, 1, want);
    int kept = 0, moved = 0;
    ae_decode(&f.ae, z, 1, frames);
    for (size_t i = 0; i < F; i++) kept += dec[i] == x0[i], moved += dec[i] != x0[i];
    closed_loop_reencode(&f.ae, z, 1, x0, d0, tau, frames);
    EXPECT(!memcmp(z, want, (size_t)Z * sizeof(float)) && !memcmp(frames, dec, F * sizeof(float)) && kept > 0 &&
           moved > 0, "compose %g: z <- encode(the composed frame), the frame left in scratch (%d pixels of the "
           "start frame, %d of the decoder)", tau, kept, moved);

    // a dynamics that changes nothing: conv_out is zero at init, so its bias is the delta
    float *bias = tensor(&f.dm, "conv_out.bias");
    EXPECT(bias != NULL, "conv_out.bias found");
    for (int c = 0; c < FX_LC; c++) bias[c] = 0;
    Emulator em;
    AeDynEmu ctx;
    emulator_ae_dyn(&em, &ctx, &f.ae, &f.dm);
    ctx.loop = (ClosedLoop){0.05f, 0, 1, 0};
    em.start(em.ctx, x0, 1);
    for (int k = 0; k < 20; k++) em.step(em.ctx, a, 1);
    EXPECT(!memcmp(ctx.z, z0, (size_t)Z * sizeof(float)), "no change, compose 0.05, re-encoded every step: z stays "
           "encode(start) bit for bit over 20 steps");
    ctx.loop = (ClosedLoop){0, 0, 1, 0};
    em.start(em.ctx, x0, 1);
    for (int k = 0; k < 20; k++) em.step(em.ctx, a, 1);
    double dev = 0;
    for (int i = 0; i < Z; i++) dev = fmax(dev, fabs(ctx.z[i] - z0[i]));
    EXPECT(dev > 1e-4, "no change, compose 0, re-encoded every step: encode(decode(.)) moves z (max %g)", dev);

    // random weights: eval's rollouts = play's emulator, with samples; re-encoding acts
    ParamArena *ar = dynm_arena(&f.dm);
    for (size_t i = 0; i < ar->n; i++) ar->params[i] += 0.05f * rng_normal(&f.rng);
    const int steps[3] = {1, 5, 12};
    StartPoint sp[B];
    for (int i = 0; i < B; i++) sp[i] = (StartPoint){0, 2 * i};
    const ClosedLoop loop = {0.1f, 0, 3, 0};
    RolloutResult r, r2, r0;
    rollout_eval(&f.ae, &f.dm, &f.d, sp, B, steps, 3, B, 1, &loop, NULL, &r);
    rollout_eval(&f.ae, &f.dm, &f.d, sp, B, steps, 3, B, 2, &loop, NULL, &r2);
    rollout_eval(&f.ae, &f.dm, &f.d, sp, B, steps, 3, B, 1, &(ClosedLoop){0.1f, 0, 0, 0}, NULL, &r0);
    float *x = xmalloc_floats((size_t)B * F), *act = xmalloc_floats((size_t)B * A), *out = xmalloc_floats((size_t)B * F);
    for (int i = 0; i < B; i++) dataset_frame(&f.d, 0, sp[i].t, x + i * F);
    ctx.loop = loop;
    em.start(em.ctx, x, B);
    int same = 1, same2 = 1, differ = 0;
    for (int k = 1, j = 0; k <= steps[2]; k++) {
        for (int i = 0; i < B; i++) dataset_action(&f.d, 0, sp[i].t + k - 1, act + i * A);
        em.step(em.ctx, act, B);
        if (k != steps[j]) continue;
        em.draw(em.ctx, out, B);
        for (int i = 0; i < B; i++) {
            size_t o = ((size_t)i * 3 + j) * F;
            same &= !memcmp(out + i * F, r.pic_pred + o, F * sizeof(float));
            same2 &= !memcmp(r2.pic_pred + o, r.pic_pred + o, F * sizeof(float));
            differ |= j == 2 && memcmp(r0.pic_pred + o, r.pic_pred + o, F * sizeof(float)) != 0;
        }
        j++;
    }
    EXPECT(same, "rollout_eval and the emulator draw the same frames, bit for bit, re-encoding every 3 steps");
    EXPECT(same2, "two samples of a start re-encode as one rollout (the same frames, bit for bit)");
    EXPECT(differ, "re-encoding every 3 steps changes the 12-step frames");
    rollout_result_free(&r), rollout_result_free(&r2), rollout_result_free(&r0);
    free(x0), free(z0), free(d0), free(frames), free(z), free(want), free(dec), free(x), free(act), free(out);
    emulator_ae_dyn_free(&ctx);
    fixture_free(&f);
}

int main(void) {
    test_cells();
    test_closed_loop();
    test_reencode();
    return test_summary();
}
