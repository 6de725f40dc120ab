/*
 * test_eval.c - the pieces of ./eval's rollout evaluation (evaluation/rollout.c, report.c):
 *   - Student-t quantiles and 95% intervals on known numbers
 *   - start points: seeded, distinct, never crossing an episode end, only in the listed
 *     (test) episodes, a clear error when every episode is too short
 *   - the copy and recon rows equal metrics computed by hand
 *   - a dynamics model whose last layer is zero (delta = 0) predicts decode(encode(start))
 *     at every step
 *   - the report texts (Markdown rows, CSV lines, JSON without NaN)
 * Uses a synthetic in-memory Dataset (a square moving by the action) and small random models.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "evaluation/metrics.h"
#include "evaluation/report.h"
#include "evaluation/rollout.h"
#include "nn/model.h"
#include "tests/test.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"

// ---------------------------------------------------------------- a synthetic dataset

// Episodes with the given frame counts; frame t of episode e: a 4x4 bright square whose
// position moves with t and e on a dim gradient; action t = bit pattern of (t + e) % 4.
static void make_dataset(Dataset *d, const int *frames, int n_ep, int C, int H, int W, int A) {
    memset(d, 0, sizeof *d);
    snprintf(d->path, sizeof d->path, "synthetic");
    d->n_episodes = n_ep, d->C = C, d->H = H, d->W = W, d->A = A;
    d->ep_id = xmalloc((size_t)n_ep * sizeof(int));
    d->frame_off = xmalloc((size_t)(n_ep + 1) * sizeof(int64_t));
    d->step_off = xmalloc((size_t)(n_ep + 1) * sizeof(int64_t));
    d->frame_off[0] = d->step_off[0] = 0;
    for (int e = 0; e < n_ep; e++) {
        d->ep_id[e] = 100 + e;
        d->frame_off[e + 1] = d->frame_off[e] + frames[e];
        d->step_off[e + 1] = d->step_off[e] + frames[e] - 1;
    }
    d->n_frames = d->frame_off[n_ep], d->n_steps = d->step_off[n_ep];
    size_t F = (size_t)C * H * W;
    d->frames = xmalloc((size_t)d->n_frames * F);
    d->actions = xmalloc((size_t)(d->n_steps > 0 ? d->n_steps : 1) * A);
    for (int e = 0; e < n_ep; e++)
        for (int t = 0; t < frames[e]; t++) {
            uint8_t *f = d->frames + (size_t)(d->frame_off[e] + t) * F;
            int px = (t + 3 * e) % (W - 4), py = (t / 2 + e) % (H - 4);
            for (int c = 0; c < C; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        int in = x >= px && x < px + 4 && y >= py && y < py + 4;
                        f[((size_t)c * H + y) * W + x] = (uint8_t)(in ? 230 - 20 * c : 10 + 3 * x + 2 * y + c);
                    }
            if (t < frames[e] - 1)
                for (int i = 0; i < A; i++) d->actions[(size_t)(d->step_off[e] + t) * A + i] = (uint8_t)(((t + e) % 4 >> i) & 1);
        }
}

static void free_dataset(Dataset *d) {
    free(d->ep_id), free(d->frame_off), free(d->step_off), free(d->frames), free(d->actions);
}

// ---------------------------------------------------------------- intervals

static void test_intervals(void) {
    // scipy.stats.t.ppf(0.975, df)
    const int dfs[] = {1, 2, 4, 9, 30, 1000};
    const double want[] = {12.706204736174705, 4.302652729749464, 2.7764451051977934, 2.2621571628540993,
                           2.0422724563012373, 1.9623390808264078};
    for (int i = 0; i < 6; i++) {
        double q = student_t_quantile(0.975, dfs[i]);
        EXPECT(fabs(q - want[i]) < 1e-7, "t quantile df %d: got %.12f want %.12f", dfs[i], q, want[i]);
    }
    EXPECT(fabs(student_t_cdf(0, 5) - 0.5) < 1e-15, "cdf(0) = 0.5");
    EXPECT(fabs(student_t_quantile(0.025, 4) + want[2]) < 1e-7, "lower quantile is symmetric");
    EXPECT(fabs(student_t_cdf(2.7764451051977934, 4) - 0.975) < 1e-10, "cdf at the quantile");

    const double x[5] = {1, 2, 3, 4, 5};
    Interval iv = interval95(x, 5);
    double sd = sqrt(2.5), half = want[2] * sd / sqrt(5.0);
    EXPECT(iv.n == 5 && fabs(iv.mean - 3) < 1e-12, "mean %g", iv.mean);
    EXPECT(fabs(iv.sd - sd) < 1e-12, "sd %g want %g", iv.sd, sd);
    EXPECT(fabs(iv.half - half) < 1e-8 && fabs(iv.half - 1.9632432) < 1e-6, "half %.9f want %.9f", iv.half, half);
    EXPECT(fabs(iv.lo - (3 - half)) < 1e-8 && fabs(iv.hi - (3 + half)) < 1e-8, "lo/hi");
    const double one = 0.25;
    Interval i1 = interval95(&one, 1);
    EXPECT(i1.mean == 0.25 && i1.sd == 0 && isnan(i1.half), "n = 1: no interval");
    const double same[3] = {0.5, 0.5, 0.5};
    Interval i3 = interval95(same, 3);
    EXPECT(i3.half == 0 && i3.lo == 0.5, "constant sample: zero width");
}

// ---------------------------------------------------------------- start points

static void test_starts(void) {
    const int frames[6] = {10, 31, 5, 50, 61, 200};
    Dataset d;
    make_dataset(&d, frames, 6, 1, 16, 16, 2);
    Err err;
    const int K = 30;
    const int list[4] = {0, 1, 3, 4};   // a "test" list: episode 5 (long) and 2 are not in it
    StartPoint *a, *b, *c;
    int na, nb, nc;
    EXPECT(select_starts(&d, list, 4, 5, K, 42, &a, &na, &err) == 0, "select: %s", err.msg);
    EXPECT(select_starts(&d, list, 4, 5, K, 42, &b, &nb, &err) == 0, "select again");
    EXPECT(select_starts(&d, list, 4, 5, K, 43, &c, &nc, &err) == 0, "select, other seed");
    // episode 0 (9 transitions) too short; 1: one position (t = 0); 3: 20 positions; 4: 31
    EXPECT(na == 1 + 5 + 5, "count %d", na);
    int ok = 1, inlist = 1, sorted = 1, distinct = 1;
    for (int i = 0; i < na; i++) {
        int e = a[i].e;
        ok &= a[i].t >= 0 && a[i].t + K <= dataset_ep_transitions(&d, e);
        inlist &= e == 1 || e == 3 || e == 4;
        if (i > 0 && a[i - 1].e == e) sorted &= a[i - 1].t < a[i].t, distinct &= a[i - 1].t != a[i].t;
    }
    EXPECT(ok, "every start point has K transitions after it inside its episode");
    EXPECT(inlist, "start points only in the listed episodes");
    EXPECT(sorted && distinct, "distinct and ascending within an episode");
    EXPECT(a[0].e == 1 && a[0].t == 0, "the one position of episode 1");
    EXPECT(na == nb && !memcmp(a, b, (size_t)na * sizeof *a), "same seed, same start points");
    EXPECT(na == nc && memcmp(a, c, (size_t)na * sizeof *a) != 0, "another seed, other start points");
    // an episode's choice does not depend on the other episodes listed
    const int only4[1] = {4};
    StartPoint *s4;
    int n4;
    EXPECT(select_starts(&d, only4, 1, 5, K, 42, &s4, &n4, &err) == 0 && n4 == 5 &&
               !memcmp(s4, a + 6, 5 * sizeof *s4), "per-episode seeding");
    free(s4);
    // more starts than positions: all of them
    StartPoint *all;
    int nall;
    EXPECT(select_starts(&d, only4, 1, 100, K, 1, &all, &nall, &err) == 0 && nall == 31 && all[30].t == 30,
           "all 31 positions when starts > positions (%d)", nall);
    free(all);
    // every listed episode too short: one line naming the longest
    StartPoint *none = NULL;
    int nn = -1;
    EXPECT(select_starts(&d, list, 4, 5, 61, 42, &none, &nn, &err) < 0 && none == NULL && nn == 0, "too long: error");
    EXPECT(strstr(err.msg, "/episode_104") && strstr(err.msg, "61 frames") && !strchr(err.msg, '\n'),
           "error names the longest episode: %s", err.msg);
    // with a real split: start points only in test episodes
    Split sp;
    EXPECT(dataset_split(&sp, 6, 2, 0.2, 7, &err) == 0, "split");
    StartPoint *ts;
    int nt;
    if (select_starts(&d, sp.test, sp.n_test, 3, 4, 9, &ts, &nt, &err) == 0) {
        int intest = 1;
        for (int i = 0; i < nt; i++) {
            int found = 0;
            for (int k = 0; k < sp.n_test; k++) found |= ts[i].e == sp.test[k];
            for (int k = 0; k < sp.n_train; k++) intest &= ts[i].e != sp.train[k];
            for (int k = 0; k < sp.n_val; k++) intest &= ts[i].e != sp.val[k];
            intest &= found;
        }
        EXPECT(intest && nt > 0, "split test episodes only (%d start points)", nt);
        free(ts);
    } else {
        EXPECT(0, "select on split: %s", err.msg);
    }
    split_free(&sp);
    free(a), free(b), free(c);
    free_dataset(&d);
}

// ---------------------------------------------------------------- rollouts

// The report texts (Markdown, CSV, JSON) of a rollout result r over N start points sp.
static void check_reports(const RolloutResult *r, const Dataset *d, const StartPoint *sp, int N, const int *steps,
                          int C, int H, int W) {
    RowStats *rows = report_rows(r);
    PairedStats *paired = report_paired(r);
    int ids[3] = {100, 101, 102}, *spid = xmalloc((size_t)N * sizeof(int));
    for (int i = 0; i < N; i++) spid[i] = d->ep_id[sp[i].e];
    EvalReport rep = {.run_dir = "runs/x", .run_name = "x", .dyn_ckpt = "runs/x/dyn_best.h5",
                      .ae_ckpt = "runs/x/ae_best.h5", .config_hash = 0x1234, .data_path = "d\"q.h5", .C = C,
                      .H = H, .W = W, .split_kind = "test", .split_seed = 42, .eval_ids = ids, .n_eval_eps = 3,
                      .n_split_eps = 3, .seed = 3, .starts = 4, .sp = sp, .sp_ids = spid, .n_starts = N,
                      .steps = steps, .n_steps = 3, .rows = rows, .paired = paired};
    char *md = report_markdown(&rep), *csv = report_csv(&rep), *js = report_json(&rep);
    int md_rows = 0, csv_lines = 0;
    for (char *p = md; (p = strstr(p, "\n| ")); p++) md_rows++;
    for (char *p = csv; *p; p++) csv_lines += *p == '\n';
    EXPECT(md_rows == 1 + 9 + 1 + 3, "Markdown: header + 9 rows, paired header + 3 rows (%d)", md_rows);
    EXPECT(strstr(md, "## Model against copy, paired") && strstr(md, "| 4 | "), "Markdown paired section");
    EXPECT(strstr(md, "| 4 | copy |") && strstr(md, " ± "), "Markdown copy row with interval");
    EXPECT(csv_lines == 1 + 9 && !strncmp(csv, "step,row,n,l1_mean", 18), "CSV lines %d", csv_lines);
    EXPECT(strstr(js, "\"config_hash\": \"0000000000001234\"") && strstr(js, "\"data\": \"d\\\"q.h5\"") &&
               !strstr(js, "nan") && !strstr(js, "inf"), "JSON fields and escapes");
    Interval want = interval95_metric(r->copy + N, N, METRIC_SSIM);
    EXPECT(rows[1 * ROW_KINDS + ROW_COPY].ssim.mean == want.mean, "row stats = interval of the copy SSIMs");
    double ds = 0, dl = 0;   // the paired differences by hand, step 4
    int above = 0;
    for (int i = 0; i < N; i++) {
        ds += r->model[N + i].ssim - r->copy[N + i].ssim, dl += r->copy[N + i].l1 - r->model[N + i].l1;
        above += r->model[N + i].ssim > r->copy[N + i].ssim;
    }
    EXPECT(fabs(paired[1].dssim.mean - ds / N) < 1e-12 && fabs(paired[1].dl1.mean - dl / N) < 1e-12 &&
               paired[1].ssim_above == above && paired[1].dssim.n == N,
           "paired step 4: SSIM %g (want %g), L1 %g (want %g), above %d (want %d)", paired[1].dssim.mean, ds / N,
           paired[1].dl1.mean, dl / N, paired[1].ssim_above, above);
    EXPECT(strstr(js, "\"paired\": [") && strstr(js, "\"ssim_model_minus_copy\": {") &&
               strstr(js, "\"ssim_above_copy\": "), "JSON paired member");
    free(md), free(csv), free(js), free(rows), free(paired), free(spid);
}

static void test_rollouts(void) {
    const int C = 1, H = 16, W = 16, A = 2, Z = 8;
    const int frames[3] = {25, 14, 40};
    Dataset d;
    make_dataset(&d, frames, 3, C, H, W, A);
    const size_t F = (size_t)C * H * W;
    Rng rng;
    rng_seed(&rng, 5);
    Err err;
    AE ae;
    DynModel dyn;
    AEConfig ac = {H, W, C, 2, 4, Z, 0, 0};
    DynConfig dc = {Z, A, 16, 1, 0};
    const int MAXB = 32;
    EXPECT(ae_init(&ae, &ac, MAXB, &rng, &err) == 0, "ae_init: %s", err.msg);
    EXPECT(dynm_flat_init(&dyn, &dc, MAXB, &rng, &err) == 0, "dyn_init: %s", err.msg);
    Dyn *flat = dyn.impl;
    const int eps[3] = {0, 1, 2}, steps[3] = {1, 4, 10};
    StartPoint *sp;
    int N;
    EXPECT(select_starts(&d, eps, 3, 4, 10, 3, &sp, &N, &err) == 0 && N == 4 + 4 + 4, "starts: %d", N);
    SsimWork wk;
    ssim_work_init(&wk, H, W);
    float *x0 = xmalloc_floats((size_t)N * F), *xt = xmalloc_floats(F), *z = xmalloc_floats((size_t)N * Z);
    float *dec0 = xmalloc_floats((size_t)N * F), *rz = xmalloc_floats(Z), *rec = xmalloc_floats(F);
    for (int i = 0; i < N; i++) dataset_frame(&d, sp[i].e, sp[i].t, x0 + i * F);

    // a trained-looking (random) model: the reference rows by hand
    RolloutResult r;
    rollout_eval(&ae, &dyn, &d, sp, N, steps, 3, 2, 1, &(ClosedLoop){0, 0, 0, 0}, NULL, &r);
    double copy_err = 0, recon_err = 0;
    int finite = 1;
    for (int j = 0; j < 3; j++)
        for (int i = 0; i < N; i++) {
            dataset_frame(&d, sp[i].e, sp[i].t + steps[j], xt);
            Metrics mc = metrics_image(x0 + i * F, xt, C, H, W, &wk);
            const Metrics *g = &r.copy[j * N + i];
            copy_err = fmax(copy_err, fmax(fabs(g->l1 - mc.l1), fmax(fabs(g->ssim - mc.ssim), fabs(g->psnr - mc.psnr))));
            ae_encode(&ae, xt, 1, rz);
            ae_decode(&ae, rz, 1, rec);
            Metrics mr = metrics_image(rec, xt, C, H, W, &wk);
            const Metrics *h = &r.recon[j * N + i];
            recon_err = fmax(recon_err, fmax(fabs(h->l1 - mr.l1), fmax(fabs(h->ssim - mr.ssim), fabs(h->psnr - mr.psnr))));
            finite &= isfinite(r.model[j * N + i].l1) && isfinite(r.model[j * N + i].ssim);
        }
    EXPECT(copy_err < 1e-12, "copy row = metrics by hand (max diff %g)", copy_err);
    EXPECT(recon_err < 1e-4, "recon row = decode(encode(frame)) by hand (max diff %g)", recon_err);
    EXPECT(finite, "model rows finite");
    EXPECT(r.n_pic == 2 && r.pic_idx[0] == 0 && r.pic_idx[1] == N / 2, "picture rows spread over the starts");

    check_reports(&r, &d, sp, N, steps, C, H, W);
    rollout_result_free(&r);

    // delta = 0: the prediction stays decode(encode(start)) at every step
    memset(flat->w.fc3_w, 0, (size_t)Z * dc.hidden * sizeof(float));
    memset(flat->w.fc3_b, 0, (size_t)Z * sizeof(float));
    rollout_eval(&ae, &dyn, &d, sp, N, steps, 3, N, 1, &(ClosedLoop){0, 0, 0, 0}, NULL, &r);
    ae_encode(&ae, x0, N, z);     // same batch as the rollout (N <= max_B)
    ae_decode(&ae, z, N, dec0);
    double pic_err = 0, model_err = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < 3; j++) {
            const float *p = r.pic_pred + ((size_t)i * 3 + j) * F;
            for (size_t k = 0; k < F; k++) pic_err = fmax(pic_err, fabs(p[k] - dec0[i * F + k]));
            dataset_frame(&d, sp[i].e, sp[i].t + steps[j], xt);
            Metrics m = metrics_image(dec0 + i * F, xt, C, H, W, &wk);
            const Metrics *g = &r.model[j * N + i];
            model_err = fmax(model_err, fmax(fabs(g->l1 - m.l1), fabs(g->ssim - m.ssim)));
            const float *tp = r.pic_truth + ((size_t)i * 3 + j) * F;
            int same = 1;
            for (size_t k = 0; k < F; k++) same &= tp[k] == xt[k];
            if (!same) pic_err = 1;
        }
    EXPECT(pic_err < 1e-6, "zero delta: predicted frames = decode(encode(start)) (max diff %g)", pic_err);
    EXPECT(model_err < 1e-6, "zero delta: model metrics = metrics of decode(encode(start)) (max diff %g)", model_err);
    rollout_result_free(&r);

    // zero delta, composed: every pixel keeps the start frame, so the model row is the copy row
    rollout_eval(&ae, &dyn, &d, sp, N, steps, 3, N, 1, &(ClosedLoop){1e-6f, 0, 0, 0}, NULL, &r);
    double comp_err = 0;
    for (int i = 0; i < N; i++) {
        dataset_frame(&d, sp[i].e, sp[i].t, xt);
        for (int j = 0; j < 3; j++) {
            const float *p = r.pic_pred + ((size_t)i * 3 + j) * F;
            for (size_t k = 0; k < F; k++) comp_err = fmax(comp_err, fabs(p[k] - xt[k]));
            comp_err = fmax(comp_err, fabs(r.model[j * N + i].l1 - r.copy[j * N + i].l1));
            comp_err = fmax(comp_err, fabs(r.model[j * N + i].ssim - r.copy[j * N + i].ssim));
        }
    }
    EXPECT(comp_err == 0, "zero delta, compose > 0: predicted frames = the start frame, model = copy (max diff %g)",
           comp_err);
    rollout_result_free(&r);

    // batching: a max batch smaller than N gives the same metrics (up to GEMM rounding)
    AE ae2;
    DynModel dyn2;
    rng_seed(&rng, 5);
    EXPECT(ae_init(&ae2, &ac, 3, &rng, &err) == 0 && dynm_flat_init(&dyn2, &dc, 3, &rng, &err) == 0, "small batch models");
    memcpy(ae2.arena.params, ae.arena.params, ae.arena.n * sizeof(float));
    memcpy(dynm_arena(&dyn2)->params, dynm_arena(&dyn)->params, dynm_arena(&dyn)->n * sizeof(float));
    ((Dyn *)dyn2.impl)->w.fc3_b[0] = flat->w.fc3_b[0] = 0.5f;   // a non-trivial dynamics for both
    RolloutResult r1, r2;
    rollout_eval(&ae, &dyn, &d, sp, N, steps, 3, 1, 1, &(ClosedLoop){0, 0, 0, 0}, NULL, &r1);
    rollout_eval(&ae2, &dyn2, &d, sp, N, steps, 3, 1, 1, &(ClosedLoop){0, 0, 0, 0}, NULL, &r2);
    double bdiff = 0;
    for (int i = 0; i < 3 * N; i++) bdiff = fmax(bdiff, fabs(r1.model[i].l1 - r2.model[i].l1));
    EXPECT(bdiff < 1e-5, "batches of 3 = one batch (max L1 diff %g)", bdiff);
    rollout_result_free(&r1);
    rollout_result_free(&r2);
    ae_free(&ae2);
    dynm_free(&dyn2);

    ssim_work_free(&wk);
    free(x0), free(xt), free(z), free(dec0), free(rz), free(rec), free(sp);
    ae_free(&ae);
    dynm_free(&dyn);
    free_dataset(&d);
}

// pairwise_l1: the mean pairwise L1 over the masked pixels of every channel (NULL: all pixels).
static void test_pairwise_masked(void) {
    // S = 3 frames, C = 2, HW = 4; mask on pixels 0 and 2
    const float p[3][2][4] = {{{0, 9, 1, 9}, {2, 9, 0, 9}}, {{1, 0, 1, 0}, {2, 0, 3, 0}}, {{0, 5, 0, 5}, {0, 5, 0, 5}}};
    const uint8_t mask[4] = {1, 0, 1, 0}, none[4] = {0};
    // pairs: (0,1) |0-1|+|1-1|+|2-2|+|0-3| = 4; (0,2) 0+1+2+0 = 3; (1,2) 1+1+2+3 = 7; each / 4 values
    const double want = (4 / 4.0 + 3 / 4.0 + 7 / 4.0) / 3;
    const double got = pairwise_l1(&p[0][0][0], 3, 2, 4, mask);
    EXPECT(fabs(got - want) < 1e-12, "three frames, two channels: %.15g, want %.15g", got, want);
    // every pixel: (0,1) 1+9+0+9 + 0+9+3+9 = 40; (0,2) 0+4+1+4 + 2+4+0+4 = 19; (1,2) 1+5+1+5 + 2+5+3+5 = 27; / 8
    const double all = pairwise_l1(&p[0][0][0], 3, 2, 4, NULL), want_all = (40 + 19 + 27) / 8.0 / 3;
    EXPECT(fabs(all - want_all) < 1e-12, "no mask, every pixel: %.15g, want %.15g", all, want_all);
    EXPECT(isnan(pairwise_l1(&p[0][0][0], 3, 2, 4, none)), "empty mask: NaN");
    EXPECT(isnan(pairwise_l1(&p[0][0][0], 1, 2, 4, mask)), "one sample: NaN");
}

int main(void) {
    test_intervals();
    test_pairwise_masked();
    test_starts();
    test_rollouts();
    return test_summary();
}
