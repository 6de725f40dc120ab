/*
 * sweep_collect.c - ./sweep --collect S [--sort METRIC]: every point of sweeps/S (points.tsv)
 * as one row of sweeps/S/summary.md and summary.csv: the grid values first, then the run's
 * state, its best validation losses (runs/<run>/log.csv: ae_val, dyn_val) and the model row
 * of its rollout evaluation at each step (sweeps/S/<point>/eval.json: ssim@K, l1@K, psnr@K).
 * Rows are sorted by METRIC (default: ssim at the last step when the points were evaluated,
 * else dyn_val, else ae_val); SSIM and PSNR higher first, losses lower first, points without
 * the value last. summary.png plots METRIC against the first grid key, one line per
 * combination of the other keys.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "evaluation/picture.h"
#include "src/run.h"
#include "src/sweep.h"

#define MAX_STEPS 32
#define MAX_COLS (2 + 3 * MAX_STEPS)

typedef struct {
    int n_cols, n_steps, steps[MAX_STEPS];
    char cols[MAX_COLS][32];   // ae_val, dyn_val, ssim@1, l1@1, psnr@1, ...
    double *v;                 // [n_points][n_cols], NaN = none
    char (*state)[32];         // [n_points] "evaluated", "trained", "started", "missing"
} Table;

char *sweep_read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    StrBuf b = {0};
    char buf[8192];
    size_t n;
    sb_printf(&b, "%s", "");
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_printf(&b, "%.*s", (int)n, buf);
    fclose(f);
    return b.s;
}

// ---------------------------------------------------------------- points.tsv

static int split_tabs(char *line, char **f, int cap) {
    int n = 0;
    line[strcspn(line, "\r\n")] = 0;
    for (char *p = line; n < cap;) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = 0;
        p = t + 1;
    }
    return n;
}

void sweep_grid_read(SweepGrid *g, const char *name) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "sweeps/%s/points.tsv", name);
    char *text = sweep_read_file(path);
    if (!text) die("%s: no such sweep (write it with ./sweep CONFIG --grid ... --name %s)", path, name);
    memset(g, 0, sizeof *g);
    int lines = 0;
    for (char *p = text; *p; p++) lines += *p == '\n';
    if (lines < 2) die("%s: no points", path);
    char *f[SWEEP_MAX_KEYS + 3], *save = NULL, *line = strtok_r(text, "\n", &save);
    int nf = split_tabs(line, f, SWEEP_MAX_KEYS + 3);
    if (nf < 4 || strcmp(f[0], "point") || strcmp(f[1], "run") || strcmp(f[2], "eval"))
        die("%s: not a points table (header point, run, eval, keys...)", path);
    g->n_keys = nf - 3;
    for (int k = 0; k < g->n_keys; k++) snprintf(g->keys[k], SWEEP_STR, "%s", f[3 + k]);
    sweep_grid_alloc(g, lines - 1);
    int p = 0;
    while ((line = strtok_r(NULL, "\n", &save)) && p < g->n_points) {
        if (split_tabs(line, f, SWEEP_MAX_KEYS + 3) != nf) die("%s: row %d has not %d fields", path, p + 2, nf);
        snprintf(g->point[p], SWEEP_STR, "%s", f[0]);
        snprintf(g->run[p], SWEEP_STR, "%s", f[1]);
        g->dynamics[p] = atoi(f[2]);
        for (int k = 0; k < g->n_keys; k++) snprintf(g->value[p][k], SWEEP_STR, "%s", f[3 + k]);
        p++;
    }
    g->n_points = p;
    free(text);
}

// ---------------------------------------------------------------- one point's results

// Best val_loss per stage in runs/<run>/log.csv (columns stage, epoch, train_loss, val_loss).
static int read_log(const char *run, double *ae_val, double *dyn_val) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "runs/%s/log.csv", run);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        char st[32];
        int e;
        double tr, val;
        if (sscanf(line, "%31[^,],%d,%lf,%lf", st, &e, &tr, &val) != 4) continue;
        double *best = !strcmp(st, "dynamics") ? dyn_val : ae_val;
        if (isfinite(val) && !(val >= *best)) *best = val;
    }
    fclose(f);
    return 0;
}

static double json_mean(const char *from, const char *end, const char *metric) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\": {\"mean\": ", metric);
    const char *p = strstr(from, key);
    if (!p || p > end) return NAN;
    return strtod(p + strlen(key), NULL);
}

// The model rows of sweeps/S/<point>/eval.json into the table's ssim@K, l1@K, psnr@K.
static int read_eval(const char *path, Table *t, double *row) {
    char *s = sweep_read_file(path);
    if (!s) return -1;
    for (const char *p = s; (p = strstr(p, "{\"step\": ")); p++) {
        int step;
        char kind[16];
        if (sscanf(p, "{\"step\": %d, \"row\": \"%15[^\"]\"", &step, kind) != 2 || strcmp(kind, "model")) continue;
        const char *end = strchr(p, '}');
        end = end ? strchr(end + 1, '}') : NULL;   // l1's object, then ssim's and psnr's
        end = end ? strchr(end + 1, '}') : NULL;
        end = end ? strchr(end + 1, '}') : NULL;
        if (!end) break;
        if (isnan(json_mean(p, end, "ssim"))) continue;   // the emulation section's rows of the same step
        int i = 0;
        while (i < t->n_steps && t->steps[i] != step) i++;
        if (i == t->n_steps) {   // a new step: three more columns
            if (t->n_steps == MAX_STEPS) continue;
            t->steps[t->n_steps++] = step;
            snprintf(t->cols[2 + 3 * i], 32, "ssim@%d", step);
            snprintf(t->cols[3 + 3 * i], 32, "l1@%d", step);
            snprintf(t->cols[4 + 3 * i], 32, "psnr@%d", step);
            t->n_cols = 2 + 3 * t->n_steps;
        }
        row[2 + 3 * i] = json_mean(p, end, "ssim");
        row[3 + 3 * i] = json_mean(p, end, "l1");
        row[4 + 3 * i] = json_mean(p, end, "psnr");
    }
    free(s);
    return 0;
}

static void gather(const char *name, const SweepGrid *g, Table *t) {
    memset(t, 0, sizeof *t);
    t->n_cols = 2;
    snprintf(t->cols[0], 32, "ae_val");
    snprintf(t->cols[1], 32, "dyn_val");
    t->v = xmalloc((size_t)g->n_points * MAX_COLS * sizeof(double));
    t->state = xcalloc((size_t)g->n_points, sizeof *t->state);
    for (size_t i = 0; i < (size_t)g->n_points * MAX_COLS; i++) t->v[i] = NAN;
    for (int p = 0; p < g->n_points; p++) {
        double *row = t->v + (size_t)p * MAX_COLS;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "sweeps/%s/%s/eval.json", name, g->point[p]);
        int have_log = read_log(g->run[p], &row[0], &row[1]) == 0;
        int have_eval = read_eval(path, t, row) == 0;
        snprintf(path, sizeof path, "runs/%s/config.ini", g->run[p]);
        FILE *f = fopen(path, "r");
        snprintf(t->state[p], 32, "%s", have_eval ? "evaluated" : have_log ? "trained" : f ? "started" : "missing");
        if (f) fclose(f);
    }
}

// ---------------------------------------------------------------- order, tables, plot

static const Table *sort_t;
static int sort_col, sort_desc;
static int cmp_rows(const void *a, const void *b) {
    double x = sort_t->v[(size_t)*(const int *)a * MAX_COLS + sort_col];
    double y = sort_t->v[(size_t)*(const int *)b * MAX_COLS + sort_col];
    if (isnan(x) || isnan(y)) return isnan(x) - isnan(y);
    if (x != y) return (x < y) == !sort_desc ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

static int pick_sort(const Table *t, const char *sort) {
    if (sort) {
        for (int c = 0; c < t->n_cols; c++)
            if (!strcmp(t->cols[c], sort)) return c;
        StrBuf b = {0};
        for (int c = 0; c < t->n_cols; c++) sb_printf(&b, "%s%s", c ? ", " : "", t->cols[c]);
        die("--sort %s: not a column of this sweep (%s)", sort, b.s);
    }
    if (t->n_steps) return 2 + 3 * (t->n_steps - 1);   // ssim at the last step
    return 1;
}

static void write_tables(const char *name, const SweepGrid *g, const Table *t, const int *order, int sc) {
    StrBuf md = {0}, csv = {0};
    sb_printf(&md, "# Sweep %s\n\n%d points, sorted by %s (%s first). Written by `./sweep --collect %s`.\n\n|",
              name, g->n_points, t->cols[sc], sort_desc ? "highest" : "lowest", name);
    for (int k = 0; k < g->n_keys; k++) sb_printf(&md, " %s |", g->keys[k]), sb_printf(&csv, "%s,", g->keys[k]);
    sb_printf(&md, " run | state |"), sb_printf(&csv, "point,run,state");
    for (int c = 0; c < t->n_cols; c++) sb_printf(&md, " %s |", t->cols[c]), sb_printf(&csv, ",%s", t->cols[c]);
    sb_printf(&md, "\n|");
    for (int k = 0; k < g->n_keys + 2 + t->n_cols; k++) sb_printf(&md, k < g->n_keys + 2 ? "---|" : "---:|");
    sb_printf(&md, "\n"), sb_printf(&csv, "\n");
    for (int i = 0; i < g->n_points; i++) {
        int p = order[i];
        sb_printf(&md, "|");
        for (int k = 0; k < g->n_keys; k++) sb_printf(&md, " %s |", g->value[p][k]), sb_printf(&csv, "%s,", g->value[p][k]);
        sb_printf(&md, " %s | %s |", g->run[p], t->state[p]);
        sb_printf(&csv, "%s,%s,%s", g->point[p], g->run[p], t->state[p]);
        for (int c = 0; c < t->n_cols; c++) {
            double v = t->v[(size_t)p * MAX_COLS + c];
            if (isnan(v)) sb_printf(&md, " - |"), sb_printf(&csv, ",");
            else sb_printf(&md, c == sc ? " **%.4g** |" : " %.4g |", v), sb_printf(&csv, ",%.8g", v);
        }
        sb_printf(&md, "\n"), sb_printf(&csv, "\n");
    }
    sb_printf(&md, "\nae_val, dyn_val: best validation loss of the stage (runs/<run>/log.csv); ssim@K, l1@K, psnr@K: "
                   "the model row of `./eval` at step K (sweeps/%s/<point>/eval.json). Plot: summary.png.\n", name);
    char path[PATH_MAX];
    Err err;
    snprintf(path, sizeof path, "sweeps/%s/summary.md", name);
    if (write_file_atomic(path, md.s, md.n, &err) < 0) die("%s", err.msg);
    snprintf(path, sizeof path, "sweeps/%s/summary.csv", name);
    if (write_file_atomic(path, csv.s, csv.n, &err) < 0) die("%s", err.msg);
    fputs(md.s, stdout);
    free(md.s);
    free(csv.s);
}

// METRIC against the first grid key (log10 when its values are positive numbers spanning
// 100x or more; the point's position in the grid when they are not numbers), one line per
// combination of the other keys' values.
static void write_plot(const char *name, const SweepGrid *g, const Table *t, int sc) {
    const int n = g->n_points;
    double *x = xmalloc((size_t)n * sizeof(double)), lo = INFINITY, hi = 0;
    int numeric = 1;
    for (int p = 0; p < n; p++) {
        char *end;
        x[p] = strtod(g->value[p][0], &end);
        numeric &= *end == 0 && end != g->value[p][0];
        lo = fmin(lo, x[p]), hi = fmax(hi, x[p]);
    }
    int logx = numeric && lo > 0 && hi >= 100 * lo;
    for (int p = 0; p < n; p++) x[p] = !numeric ? p : logx ? log10(x[p]) : x[p];
    double *xs = xmalloc((size_t)n * 2 * sizeof(double)), *ys = xs + n;
    PlotSeries *s = xcalloc((size_t)n, sizeof *s);
    char (*label)[160] = xcalloc((size_t)n, sizeof *label);
    int *series = xmalloc((size_t)n * sizeof(int)), ns = 0, used = 0;
    for (int p = 0; p < n; p++) {   // a series per combination of keys 2..n_keys
        char l[160] = "";
        for (int k = 1, m = 0; k < g->n_keys; k++)
            m += snprintf(l + m, sizeof l - (size_t)m, "%s%s=%s", k > 1 ? " " : "", g->keys[k], g->value[p][k]);
        int j = 0;
        while (j < ns && strcmp(label[j], l)) j++;
        if (j == ns) snprintf(label[ns++], sizeof label[0], "%s", l);
        series[p] = j;
    }
    for (int j = 0; j < ns; j++) {
        int c = 0;
        for (int p = 0; p < n; p++)
            if (series[p] == j) xs[used + c] = x[p], ys[used + c] = t->v[(size_t)p * MAX_COLS + sc], c++;
        s[j] = (PlotSeries){label[j], xs + used, ys + used, c};
        used += c;
    }
    char xl[SWEEP_STR + 16], title[SWEEP_STR + 64], path[PATH_MAX];
    snprintf(xl, sizeof xl, logx ? "log10 %s" : numeric ? "%s" : "point (%s)", g->keys[0]);
    snprintf(title, sizeof title, "sweep %s: %s", name, t->cols[sc]);
    snprintf(path, sizeof path, "sweeps/%s/summary.png", name);
    PlotSpec ps = {.title = title, .xlabel = xl, .ylabel = t->cols[sc]};
    Err err;
    if (plot_lines_png(path, &ps, s, ns, &err) < 0) warn("%s", err.msg);
    free(x), free(xs), free(s), free(label), free(series);
}

int sweep_collect(const char *name, const char *sort) {
    SweepGrid g;
    sweep_grid_read(&g, name);
    Table t;
    gather(name, &g, &t);
    int sc = pick_sort(&t, sort);
    sort_desc = !strncmp(t.cols[sc], "ssim", 4) || !strncmp(t.cols[sc], "psnr", 4);
    if (!sort && !t.n_steps) {   // no evaluation: the dynamics stage's loss, else the autoencoder's
        int any_dyn = 0;
        for (int p = 0; p < g.n_points; p++) any_dyn |= !isnan(t.v[(size_t)p * MAX_COLS + 1]);
        sc = any_dyn ? 1 : 0;
    }
    int *order = xmalloc((size_t)g.n_points * sizeof(int));
    for (int p = 0; p < g.n_points; p++) order[p] = p;
    sort_t = &t, sort_col = sc;
    qsort(order, (size_t)g.n_points, sizeof(int), cmp_rows);
    write_tables(name, &g, &t, order, sc);
    write_plot(name, &g, &t, sc);
    int done = 0;
    for (int p = 0; p < g.n_points; p++) done += strcmp(t.state[p], "missing") != 0;
    printf("wrote sweeps/%s/summary.md, summary.csv, summary.png (%d of %d points have results)\n", name, done, g.n_points);
    free(order);
    free(t.v);
    free(t.state);
    sweep_grid_free(&g);
    return 0;
}
