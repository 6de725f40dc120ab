/*
 * samples.c - per-sample rows and diversity of a stochastic rollout evaluation (samples.h).
 */
#include "evaluation/samples.h"

#include "evaluation/picture.h"
#include "base/alloc.h"
#include "base/strbuf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void cell(StrBuf *b, Interval iv, int digits) {
    if (isnan(iv.mean)) sb_printf(b, " - |");
    else if (isnan(iv.half)) sb_printf(b, " %.*f |", digits, iv.mean);
    else sb_printf(b, " %.*f ± %.*f |", digits, iv.mean, digits, iv.half);
}

static Interval diversity_at(const RolloutResult *r, int j) { return interval95(r->diversity + (size_t)j * r->N, r->N); }

// The enemies' region diversity at step slot j over the start points that have one (n = 0: none).
static Interval div_enemy_at(const RolloutResult *r, int j) {
    double *x = xmalloc((size_t)r->N * sizeof(double));
    int n = 0;
    for (int i = 0; i < r->N; i++)
        if (isfinite(r->div_enemy[(size_t)j * r->N + i])) x[n++] = r->div_enemy[(size_t)j * r->N + i];
    Interval iv = n > 0 ? interval95(x, n) : (Interval){0, NAN, NAN, NAN, NAN, NAN};
    free(x);
    return iv;
}

static int has_enemies(const RolloutResult *r) {
    for (size_t i = 0; i < (size_t)r->n_steps * r->N; i++)
        if (isfinite(r->div_enemy[i])) return 1;
    return 0;
}

char *samples_markdown(const RolloutResult *r, const int *steps, double temperature) {
    StrBuf b = {0};
    sb_printf(&b, "\n## Samples: temperature %g, %d per start point\n\n", temperature, r->S);
    sb_printf(&b, "Each sample's rollout against the real frames (mean ± 95%% half-width over %d start points); "
            "diversity = mean pairwise L1 between a start's %d decoded frames.%s\n\n", r->N, r->S,
            has_enemies(r) ? " Enemies' region: the same over the pixels of the game's enemies (their boxes, grown by "
                             "half a tile) in the start frame and in the true frame t+k, over the n start points "
                             "with an enemy in play." : "");
    sb_printf(&b, "| step | sample | L1 | SSIM | PSNR |\n|---:|---|---|---|---|\n");
    for (int j = 0; j < r->n_steps; j++) {
        for (int s = 0; s < r->S; s++) {
            const Metrics *m = r->samples + ((size_t)s * r->n_steps + j) * r->N;
            sb_printf(&b, "| %d | %d |", steps[j], s + 1);
            cell(&b, interval95_metric(m, r->N, METRIC_L1), 4);
            cell(&b, interval95_metric(m, r->N, METRIC_SSIM), 4);
            cell(&b, interval95_metric(m, r->N, METRIC_PSNR), 2);
            sb_printf(&b, "\n");
        }
        sb_printf(&b, "| %d | diversity (L1) |", steps[j]);
        cell(&b, diversity_at(r, j), 5);
        sb_printf(&b, " | |\n");
        if (!has_enemies(r)) continue;
        Interval e = div_enemy_at(r, j);
        sb_printf(&b, "| %d | diversity, enemies' region (L1; n = %d) |", steps[j], e.n);
        cell(&b, e, 5);
        sb_printf(&b, " | |\n");
    }
    return b.s;
}

char *samples_csv(const RolloutResult *r, const int *steps, double temperature) {
    StrBuf b = {0};
    sb_printf(&b, "# temperature %g, %d samples per start point\n", temperature, r->S);
    sb_printf(&b, "step,sample,n,l1_mean,l1_ci95,ssim_mean,ssim_ci95,psnr_mean,psnr_ci95\n");
    for (int j = 0; j < r->n_steps; j++) {
        for (int s = 0; s < r->S; s++) {
            const Metrics *m = r->samples + ((size_t)s * r->n_steps + j) * r->N;
            Interval l1 = interval95_metric(m, r->N, METRIC_L1), ss = interval95_metric(m, r->N, METRIC_SSIM);
            Interval ps = interval95_metric(m, r->N, METRIC_PSNR);
            sb_printf(&b, "%d,%d,%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", steps[j], s + 1, r->N, l1.mean, l1.half, ss.mean,
                ss.half, ps.mean, ps.half);
        }
        Interval d = diversity_at(r, j);
        sb_printf(&b, "%d,diversity,%d,%.6g,%.6g,,,,\n", steps[j], r->N, d.mean, d.half);
        if (!has_enemies(r)) continue;
        Interval e = div_enemy_at(r, j);
        sb_printf(&b, "%d,diversity_enemies,%d,%.6g,%.6g,,,,\n", steps[j], e.n, e.mean, e.half);
    }
    return b.s;
}

int samples_picture(const char *path, const RolloutResult *r, const int *steps, double temperature, Err *err) {
    CHECK(r->pic_samples && r->S > 1, "samples_picture: no samples kept");
    const int ns = r->n_pic < SAMPLES_PIC_STARTS ? r->n_pic : SAMPLES_PIC_STARTS;
    const int S = r->S < SAMPLES_PIC_ROWS ? r->S : SAMPLES_PIC_ROWS, per = 1 + S, cols = r->n_steps;
    const size_t F = (size_t)r->C * r->H * r->W;
    const float **imgs = xmalloc((size_t)(ns > 0 ? ns : 1) * per * cols * sizeof *imgs);
    char (*lab)[32] = xmalloc((size_t)(per + cols) * sizeof *lab);
    const char **rl = xmalloc((size_t)(ns > 0 ? ns : 1) * per * sizeof *rl), **cl = xmalloc((size_t)cols * sizeof *cl);
    for (int k = 0; k < per; k++) {
        if (k == 0) snprintf(lab[k], sizeof lab[k], "true");
        else snprintf(lab[k], sizeof lab[k], "sample %d", k);
    }
    for (int j = 0; j < cols; j++) snprintf(lab[per + j], sizeof lab[per + j], "t+%d", steps[j]), cl[j] = lab[per + j];
    for (int p = 0; p < ns; p++)
        for (int k = 0; k < per; k++) {
            rl[p * per + k] = lab[k];
            for (int j = 0; j < cols; j++)
                imgs[((size_t)p * per + k) * cols + j] =
                    k == 0 ? r->pic_truth + ((size_t)p * r->n_steps + j) * F
                           : r->pic_samples + (((size_t)p * r->S + (k - 1)) * r->n_steps + j) * F;
        }
    char title[96];
    snprintf(title, sizeof title, "samples at temperature %g (%d of %d per start point)", temperature, S, r->S);
    GridSpec g = {.rows = ns * per, .cols = cols, .c = r->C, .h = r->H, .w = r->W, .title = title, .col_labels = cl,
                  .row_labels = rl, .row_group = per};
    Canvas cv;
    picture_grid(&cv, &g, imgs);
    int rc = canvas_write_png(&cv, path, err);
    canvas_free(&cv);
    free(imgs), free(lab), free(rl), free(cl);
    return rc;
}
