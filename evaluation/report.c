/*
 * report.c - ./eval's Markdown table, CSV, JSON and SSIM/L1 plot (see report.h).
 */
#include "evaluation/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "evaluation/picture.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "evaluation/report_fmt.h"   // csv_num, json_num, json_str, json_interval
#include "base/alloc.h"

const char *row_name(RowKind k) {
    static const char *const names[ROW_KINDS] = {"model", "copy", "recon"};
    CHECK(k >= 0 && k < ROW_KINDS, "row kind %d", (int)k);
    return names[k];
}

// ---------------------------------------------------------------- rows

RowStats *report_rows(const RolloutResult *r) {
    RowStats *rows = xmalloc((size_t)r->n_steps * ROW_KINDS * sizeof *rows);
    for (int j = 0; j < r->n_steps; j++) {
        const Metrics *src[ROW_KINDS] = {r->model + (size_t)j * r->N, r->copy + (size_t)j * r->N,
                                         r->recon + (size_t)j * r->N};
        for (int k = 0; k < ROW_KINDS; k++) {
            RowStats *s = &rows[j * ROW_KINDS + k];
            s->l1 = interval95_metric(src[k], r->N, METRIC_L1);
            s->ssim = interval95_metric(src[k], r->N, METRIC_SSIM);
            s->psnr = interval95_metric(src[k], r->N, METRIC_PSNR);
        }
    }
    return rows;
}

PairedStats *report_paired(const RolloutResult *r) {
    PairedStats *ps = xmalloc((size_t)r->n_steps * sizeof *ps);
    double *ds = xmalloc((size_t)2 * r->N * sizeof(double)), *dl = ds + r->N;
    for (int j = 0; j < r->n_steps; j++) {
        const Metrics *m = r->model + (size_t)j * r->N, *c = r->copy + (size_t)j * r->N;
        int above = 0;
        for (int i = 0; i < r->N; i++) {
            ds[i] = m[i].ssim - c[i].ssim;
            dl[i] = c[i].l1 - m[i].l1;
            above += ds[i] > 0;
        }
        ps[j] = (PairedStats){interval95(ds, r->N), interval95(dl, r->N), above};
    }
    free(ds);
    return ps;
}

// ---------------------------------------------------------------- Markdown

// "## Model against copy": the paired differences per step.
static void md_paired(StrBuf *b, const EvalReport *rep) {
    sb_printf(b, "\n## Model against copy, paired\n\n"
                 "- per start point, the model's rollout minus copy's from the same start (mean ± half-width of the "
                 "95%% Student-t interval of the differences); > 0: the model is closer to the true frame\n\n"
                 "| step | SSIM model − copy | L1 copy − model | starts where the model's SSIM is above copy's |\n"
                 "|---:|---:|---:|---:|\n");
    for (int j = 0; j < rep->n_steps; j++) {
        const PairedStats *p = &rep->paired[j];
        sb_printf(b, "| %d |", rep->steps[j]);
        if (p->dssim.n > 1)
            sb_printf(b, " %+.4f ± %.4f | %+.4f ± %.4f |", p->dssim.mean, p->dssim.half, p->dl1.mean, p->dl1.half);
        else
            sb_printf(b, " %+.4f | %+.4f |", p->dssim.mean, p->dl1.mean);
        sb_printf(b, " %d of %d |\n", p->ssim_above, p->dssim.n);
    }
}

static void md_cell(StrBuf *b, const Interval *iv, int dec) {
    if (iv->n > 1) sb_printf(b, " %.*f ± %.*f |", dec, iv->mean, dec, iv->half);
    else sb_printf(b, " %.*f |", dec, iv->mean);
}

char *report_markdown(const EvalReport *rep) {
    StrBuf b = {0};
    sb_printf(&b, "# nemu eval: %s\n\n", rep->run_name);
    sb_printf(&b, "- run: %s (config hash %016llx)\n", rep->run_dir, (unsigned long long)rep->config_hash);
    sb_printf(&b, "- models: dynamics %s, autoencoder %s\n", rep->dyn_ckpt, rep->ae_ckpt);
    sb_printf(&b, "- data: %s, frames %dx%dx%d after preprocessing\n", rep->data_path, rep->H, rep->W, rep->C);
    if (!strcmp(rep->split_kind, "test"))
        sb_printf(&b, "- episodes: %d of the run's %d held-out test episodes (split seed %llu)", rep->n_eval_eps,
                  rep->n_split_eps, (unsigned long long)rep->split_seed);
    else
        sb_printf(&b, "- episodes: %d of the %d episodes of another file than the run's data", rep->n_eval_eps,
                  rep->n_split_eps);
    if (rep->skipped_eps) sb_printf(&b, "; %d too short for %d steps", rep->skipped_eps, rep->steps[rep->n_steps - 1]);
    sb_printf(&b, "\n- start points: %d (up to %d per episode, seed %llu), open-loop rollouts of %d steps\n",
              rep->n_starts, rep->starts, (unsigned long long)rep->seed, rep->steps[rep->n_steps - 1]);
    if (rep->compose > 0)
        sb_printf(&b, "- model frames composed (dynamics.compose = %g): the start frame's pixel wherever the prediction "
                      "differs from decode(encode(start)) by <= %g, the decoder's elsewhere\n", rep->compose, rep->compose);
    if (rep->deadband > 0)
        sb_printf(&b, "- latent deadband (dynamics.deadband = %g): after each step, a latent cell whose change has an "
                      "RMS below %g keeps its value\n", rep->deadband, rep->deadband);
    if (rep->reencode > 0)
        sb_printf(&b, "- re-encoded (dynamics.reencode = %d): every %d steps, a rollout's latent becomes the encoding of "
                      "its frame as drawn\n", rep->reencode, rep->reencode);
    if (rep->hyp_oracle)
        sb_printf(&b, "- **hypotheses chosen by an oracle** (--hyp-oracle %s): each step of the model row and the paired "
                      "table takes %s, not the most probable: the rollouts a perfect chooser would give; the direction "
                      "and spawn tests take the candidate nearest the engine's next frame, the piece measure steps as "
                      "./play. The most probable candidate was the nearest %s in %.1f%% of the model row's %ld "
                      "choices\n", rep->hyp_oracle == HYP_ORACLE_CELL ? "cell" : "frame",
                  rep->hyp_oracle == HYP_ORACLE_CELL ? "in each grid cell the candidate nearest the encoded true next frame there"
                                       : "the candidate nearest the encoded true next frame, as training does",
                  rep->hyp_cell ? "in its cell (the model chooses per cell; counted: the cells where a candidate is "
                                  "DYN_HYP_CELL_GAP (0.1 RMS) or more from the truth)" : "to the whole next latent",
                  rep->hyp_choices ? 100.0 * rep->hyp_agree / rep->hyp_choices : 0.0, rep->hyp_choices);
    sb_printf(&b, "- cells: mean ± half-width of the 95%% Student-t interval over start points; "
                  "copy = start frame repeated, recon = decode(encode(true frame))\n\n");
    sb_printf(&b, "| step | row | L1 | SSIM | PSNR (dB) |\n|---:|---|---:|---:|---:|\n");
    for (int j = 0; j < rep->n_steps; j++)
        for (int k = 0; k < ROW_KINDS; k++) {
            const RowStats *s = &rep->rows[j * ROW_KINDS + k];
            sb_printf(&b, "| %d | %s |", rep->steps[j], row_name((RowKind)k));
            md_cell(&b, &s->l1, 4);
            md_cell(&b, &s->ssim, 4);
            md_cell(&b, &s->psnr, 2);
            sb_printf(&b, "\n");
        }
    if (rep->paired) md_paired(&b, rep);
    if (rep->emu) {
        char *t = emu_report_markdown(rep->emu);
        sb_printf(&b, "%s", t);
        free(t);
    }
    return b.s;
}

// ---------------------------------------------------------------- CSV

char *report_csv(const EvalReport *rep) {
    StrBuf b = {0};
    sb_printf(&b, "step,row,n");
    const char *m[3] = {"l1", "ssim", "psnr"};
    for (int i = 0; i < 3; i++) sb_printf(&b, ",%s_mean,%s_sd,%s_ci95,%s_lo,%s_hi", m[i], m[i], m[i], m[i], m[i]);
    if (rep->emu) sb_printf(&b, "%s", emu_report_csv_header());
    sb_printf(&b, "\n");
    for (int j = 0; j < rep->n_steps; j++)
        for (int k = 0; k < ROW_KINDS; k++) {
            const RowStats *s = &rep->rows[j * ROW_KINDS + k];
            sb_printf(&b, "%d,%s,%d", rep->steps[j], row_name((RowKind)k), s->l1.n);
            const Interval *iv[3] = {&s->l1, &s->ssim, &s->psnr};
            for (int i = 0; i < 3; i++) {
                csv_num(&b, iv[i]->mean), csv_num(&b, iv[i]->sd), csv_num(&b, iv[i]->half);
                csv_num(&b, iv[i]->lo), csv_num(&b, iv[i]->hi);
            }
            if (rep->emu) {
                char *t = emu_report_csv_cells(rep->emu, j, k);
                sb_printf(&b, "%s", t);
                free(t);
            }
            sb_printf(&b, "\n");
        }
    return b.s;
}

char *report_starts_csv(const EvalReport *rep, const RolloutResult *r) {
    StrBuf b = {0};
    sb_printf(&b, "start,episode,t,step,model_ssim,copy_ssim,model_l1,copy_l1\n");
    for (int i = 0; i < rep->n_starts; i++)
        for (int j = 0; j < rep->n_steps; j++) {
            const Metrics *m = r->model + (size_t)j * r->N + i, *c = r->copy + (size_t)j * r->N + i;
            sb_printf(&b, "%d,%d,%d,%d", i, rep->sp_ids[i], rep->sp[i].t, rep->steps[j]);
            csv_num(&b, m->ssim), csv_num(&b, c->ssim), csv_num(&b, m->l1), csv_num(&b, c->l1);
            sb_printf(&b, "\n");
        }
    return b.s;
}

// ---------------------------------------------------------------- JSON

char *report_json(const EvalReport *rep) {
    StrBuf b = {0};
    sb_printf(&b, "{\n  \"format\": \"nemu-eval\",\n  \"version\": 1,\n  \"run\": ");
    json_str(&b, rep->run_dir);
    sb_printf(&b, ",\n  \"run_name\": ");
    json_str(&b, rep->run_name);
    sb_printf(&b, ",\n  \"config_hash\": \"%016llx\",\n  \"dynamics_checkpoint\": ", (unsigned long long)rep->config_hash);
    json_str(&b, rep->dyn_ckpt);
    sb_printf(&b, ",\n  \"autoencoder_checkpoint\": ");
    json_str(&b, rep->ae_ckpt);
    sb_printf(&b, ",\n  \"data\": ");
    json_str(&b, rep->data_path);
    sb_printf(&b, ",\n  \"frame\": {\"channels\": %d, \"height\": %d, \"width\": %d}", rep->C, rep->H, rep->W);
    sb_printf(&b, ",\n  \"split\": {\"kind\": \"%s\", \"seed\": %llu, \"episodes_in_split\": %d, \"evaluated_ids\": [",
              rep->split_kind, (unsigned long long)rep->split_seed, rep->n_split_eps);
    for (int i = 0; i < rep->n_eval_eps; i++) sb_printf(&b, "%s%d", i ? ", " : "", rep->eval_ids[i]);
    sb_printf(&b, "], \"too_short\": %d}", rep->skipped_eps);
    sb_printf(&b, ",\n  \"seed\": %llu,\n  \"steps\": [", (unsigned long long)rep->seed);
    for (int j = 0; j < rep->n_steps; j++) sb_printf(&b, "%s%d", j ? ", " : "", rep->steps[j]);
    sb_printf(&b, "],\n  \"compose\": %g,\n  \"deadband\": %g,\n  \"reencode\": %d", rep->compose, rep->deadband,
              rep->reencode);
    if (rep->hyp_oracle)
        sb_printf(&b, ",\n  \"hyp_oracle\": {\"kind\": \"%s\", \"chooser\": \"%s\", \"choices\": %ld, "
                      "\"most_probable_nearest\": %ld}", rep->hyp_oracle == HYP_ORACLE_CELL ? "cell" : "frame",
                  rep->hyp_cell ? "cell" : "frame", rep->hyp_choices, rep->hyp_agree);
    sb_printf(&b, ",\n  \"starts_per_episode\": %d,\n  \"n_starts\": %d,\n  \"start_points\": [", rep->starts,
              rep->n_starts);
    for (int i = 0; i < rep->n_starts; i++)
        sb_printf(&b, "%s[%d, %d]", i ? ", " : "", rep->sp_ids[i], rep->sp[i].t);
    sb_printf(&b, "],\n  \"interval\": \"95%% Student-t over start points: mean +- t(0.975, n-1) * sd / sqrt(n)\",\n"
                  "  \"rows\": [\n");
    for (int j = 0; j < rep->n_steps; j++)
        for (int k = 0; k < ROW_KINDS; k++) {
            const RowStats *s = &rep->rows[j * ROW_KINDS + k];
            sb_printf(&b, "    {\"step\": %d, \"row\": \"%s\", \"n\": %d, ", rep->steps[j], row_name((RowKind)k), s->l1.n);
            json_interval(&b, "l1", &s->l1, JSON_IV_SD);
            sb_printf(&b, ", ");
            json_interval(&b, "ssim", &s->ssim, JSON_IV_SD);
            sb_printf(&b, ", ");
            json_interval(&b, "psnr", &s->psnr, JSON_IV_SD);
            sb_printf(&b, "}%s\n", j == rep->n_steps - 1 && k == ROW_KINDS - 1 ? "" : ",");
        }
    sb_printf(&b, "  ]");
    if (rep->paired) {
        sb_printf(&b, ",\n  \"paired\": [\n");
        for (int j = 0; j < rep->n_steps; j++) {
            const PairedStats *p = &rep->paired[j];
            sb_printf(&b, "    {\"step\": %d, \"n\": %d, ", rep->steps[j], p->dssim.n);
            json_interval(&b, "ssim_model_minus_copy", &p->dssim, JSON_IV_SD);
            sb_printf(&b, ", ");
            json_interval(&b, "l1_copy_minus_model", &p->dl1, JSON_IV_SD);
            sb_printf(&b, ", \"ssim_above_copy\": %d}%s\n", p->ssim_above, j == rep->n_steps - 1 ? "" : ",");
        }
        sb_printf(&b, "  ]");
    }
    if (rep->emu) {
        char *t = emu_report_json(rep->emu);
        sb_printf(&b, ",\n  %s", t);
        free(t);
    }
    sb_printf(&b, "\n}\n");
    return b.s;
}

// ---------------------------------------------------------------- plot

int report_plot(const char *path, const EvalReport *rep, Err *err) {
    const int n = rep->n_steps;
    double *x = xmalloc((size_t)n * sizeof(double));
    double *y = xmalloc((size_t)2 * ROW_KINDS * n * sizeof(double));   // [metric][kind][step]
    for (int j = 0; j < n; j++) x[j] = rep->steps[j];
    for (int k = 0; k < ROW_KINDS; k++)
        for (int j = 0; j < n; j++) {
            y[(0 * ROW_KINDS + k) * n + j] = rep->rows[j * ROW_KINDS + k].ssim.mean;
            y[(1 * ROW_KINDS + k) * n + j] = rep->rows[j * ROW_KINDS + k].l1.mean;
        }
    Canvas part[2];
    const char *ylab[2] = {"SSIM", "L1"};
    char title[2][320];
    snprintf(title[0], sizeof title[0], "%s: SSIM against rollout step", rep->run_name);
    snprintf(title[1], sizeof title[1], "%s: L1 against rollout step", rep->run_name);
    for (int m = 0; m < 2; m++) {
        PlotSeries s[ROW_KINDS];
        for (int k = 0; k < ROW_KINDS; k++)
            s[k] = (PlotSeries){row_name((RowKind)k), x, y + (size_t)(m * ROW_KINDS + k) * n, n};
        PlotSpec p = {.title = title[m], .xlabel = "step", .ylabel = ylab[m], .width = 640, .height = 400};
        plot_lines(&part[m], &p, s, ROW_KINDS);
    }
    int w = part[0].w > part[1].w ? part[0].w : part[1].w;
    Canvas cv;
    canvas_init(&cv, w, part[0].h + part[1].h, RGB_WHITE);
    for (int m = 0, y0 = 0; m < 2; y0 += part[m].h, m++)
        for (int r = 0; r < part[m].h; r++)
            memcpy(cv.px + ((size_t)(y0 + r) * cv.w) * 3, part[m].px + (size_t)r * part[m].w * 3, (size_t)part[m].w * 3);
    int rc = canvas_write_png(&cv, path, err);
    canvas_free(&cv);
    canvas_free(&part[0]);
    canvas_free(&part[1]);
    free(x);
    free(y);
    return rc;
}
