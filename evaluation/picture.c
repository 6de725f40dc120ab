/*
 * picture.c - canvas drawing, frame grids and line plots (see picture.h).
 */
#include "evaluation/picture.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/png.h"
#include "evaluation/font.h"
#include "base/err.h"
#include "base/alloc.h"

// ---------------------------------------------------------------- canvas

void canvas_init(Canvas *cv, int w, int h, Rgb bg) {
    CHECK(w >= 1 && h >= 1 && w <= PNG_MAX_SIDE && h <= PNG_MAX_SIDE, "canvas %dx%d", w, h);
    cv->w = w;
    cv->h = h;
    cv->px = xmalloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h; i++) {
        cv->px[3 * i] = bg.r;
        cv->px[3 * i + 1] = bg.g;
        cv->px[3 * i + 2] = bg.b;
    }
}

void canvas_free(Canvas *cv) {
    free(cv->px);
    cv->px = NULL;
    cv->w = cv->h = 0;
}

int canvas_write_png(const Canvas *cv, const char *path, Err *err) {
    return png_write(path, cv->px, cv->w, cv->h, 3, err);
}

static inline void put(Canvas *cv, int x, int y, Rgb col) {
    if (x < 0 || y < 0 || x >= cv->w || y >= cv->h) return;
    uint8_t *p = cv->px + ((size_t)y * cv->w + x) * 3;
    p[0] = col.r;
    p[1] = col.g;
    p[2] = col.b;
}

void canvas_fill_rect(Canvas *cv, int x, int y, int w, int h, Rgb col) {
    int x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
    int x1 = x + w > cv->w ? cv->w : x + w, y1 = y + h > cv->h ? cv->h : y + h;
    for (int yy = y0; yy < y1; yy++)
        for (int xx = x0; xx < x1; xx++) put(cv, xx, yy, col);
}

void canvas_rect_outline(Canvas *cv, int x, int y, int w, int h, Rgb col) {
    canvas_fill_rect(cv, x, y, w, 1, col);
    canvas_fill_rect(cv, x, y + h - 1, w, 1, col);
    canvas_fill_rect(cv, x, y, 1, h, col);
    canvas_fill_rect(cv, x + w - 1, y, 1, h, col);
}

void canvas_line(Canvas *cv, int x0, int y0, int x1, int y1, Rgb col, int thick) {
    if (thick < 1) thick = 1;
    int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int e = dx + dy, off = (thick - 1) / 2;
    // Bresenham; bounded by the number of steps so huge coordinates cannot loop forever
    for (long steps = (long)dx - dy + 1; steps > 0; steps--) {
        if (thick == 1) put(cv, x0, y0, col);
        else canvas_fill_rect(cv, x0 - off, y0 - off, thick, thick, col);
        if (x0 == x1 && y0 == y1) break;
        int e2 = 2 * e;
        if (e2 >= dy) { e += dy; x0 += sx; }
        if (e2 <= dx) { e += dx; y0 += sy; }
    }
}

int canvas_text(Canvas *cv, int x, int y, const char *s, Rgb col, int scale) {
    int cx = x, widest = 0;
    for (; *s; s++) {
        if (*s == '\n') { cx = x; y += FONT_LINE * scale; continue; }
        const uint8_t *g = font_glyph((unsigned char)*s);
        for (int r = 0; r < FONT_H; r++)
            for (int c = 0; c < FONT_W; c++)
                if (g[r] & (0x10 >> c)) canvas_fill_rect(cv, cx + c * scale, y + r * scale, scale, scale, col);
        cx += FONT_ADVANCE * scale;
        if (cx - x > widest) widest = cx - x;
    }
    return widest ? widest - scale : 0;
}

void canvas_text_up(Canvas *cv, int x, int y, const char *s, Rgb col, int scale) {
    // glyph pixel (r, c) of the k-th character lands at (x + r, y - (k*ADV + c))
    for (int k = 0; s[k]; k++) {
        const uint8_t *g = font_glyph((unsigned char)s[k]);
        for (int r = 0; r < FONT_H; r++)
            for (int c = 0; c < FONT_W; c++)
                if (g[r] & (0x10 >> c))
                    canvas_fill_rect(cv, x + r * scale, y - (k * FONT_ADVANCE + c + 1) * scale, scale,
                                     scale, col);
    }
}

static inline uint8_t to_u8(float v) {
    if (!(v > 0)) return 0;   // also NaN
    if (v >= 1) return 255;
    return (uint8_t)(v * 255.0f + 0.5f);
}

void canvas_blit_planar(Canvas *cv, const float *img, int c, int h, int w, int x, int y, int scale) {
    CHECK(c == 1 || c == 3, "blit: %d channels", c);
    size_t hw = (size_t)h * w;
    for (int yy = 0; yy < h; yy++)
        for (int xx = 0; xx < w; xx++) {
            size_t i = (size_t)yy * w + xx;
            Rgb col;
            col.r = to_u8(img[i]);
            col.g = c == 3 ? to_u8(img[hw + i]) : col.r;
            col.b = c == 3 ? to_u8(img[2 * hw + i]) : col.r;
            canvas_fill_rect(cv, x + xx * scale, y + yy * scale, scale, scale, col);
        }
}

void canvas_blit_hwc(Canvas *cv, const uint8_t *px, int c, int h, int w, int x, int y, int scale) {
    CHECK(c == 1 || c == 3, "blit: %d channels", c);
    for (int yy = 0; yy < h; yy++)
        for (int xx = 0; xx < w; xx++) {
            const uint8_t *p = px + ((size_t)yy * w + xx) * c;
            Rgb col = {p[0], c == 3 ? p[1] : p[0], c == 3 ? p[2] : p[0]};
            canvas_fill_rect(cv, x + xx * scale, y + yy * scale, scale, scale, col);
        }
}

// ---------------------------------------------------------------- grids

static const Rgb INK = {30, 30, 30}, GRID_BG = {245, 245, 245}, FRAME_EDGE = {170, 170, 170};

void picture_grid(Canvas *cv, const GridSpec *g, const float *const *imgs) {
    CHECK(g->rows >= 1 && g->cols >= 1 && g->h >= 1 && g->w >= 1, "grid %dx%d of %dx%d", g->rows,
          g->cols, g->h, g->w);
    int side = g->h > g->w ? g->h : g->w;
    int scale = g->scale > 0 ? g->scale : (side >= 160 ? 1 : 160 / side > 8 ? 8 : 160 / side);
    int cw = g->w * scale, ch = g->h * scale;
    int ts = cw >= 100 ? 2 : 1;                      // label text scale
    const int pad = 10, gap = 4, group_gap = 14;
    int title_h = g->title ? FONT_LINE * 2 + 6 : 0;
    int col_h = g->col_labels ? FONT_LINE * ts + 4 : 0;
    int row_w = 0;
    if (g->row_labels)
        for (int r = 0; r < g->rows; r++) {
            int tw = font_text_width(g->row_labels[r] ? g->row_labels[r] : "", ts);
            if (tw + 8 > row_w) row_w = tw + 8;
        }
    int ncg = g->col_group > 0 ? (g->cols - 1) / g->col_group : 0;
    int nrg = g->row_group > 0 ? (g->rows - 1) / g->row_group : 0;
    int W = 2 * pad + row_w + g->cols * cw + (g->cols - 1) * gap + ncg * (group_gap - gap);
    int H = 2 * pad + title_h + col_h + g->rows * ch + (g->rows - 1) * gap + nrg * (group_gap - gap);
    int tw = g->title ? font_text_width(g->title, 2) + 2 * pad : 0;
    if (tw > W) W = tw;
    canvas_init(cv, W, H, GRID_BG);
    if (g->title) canvas_text(cv, pad, pad, g->title, INK, 2);
    for (int r = 0; r < g->rows; r++) {
        int y = pad + title_h + col_h + r * (ch + gap) + (g->row_group > 0 ? r / g->row_group : 0) * (group_gap - gap);
        if (g->row_labels && g->row_labels[r])
            canvas_text(cv, pad, y + (ch - FONT_H * ts) / 2, g->row_labels[r], INK, ts);
        for (int c = 0; c < g->cols; c++) {
            int x = pad + row_w + c * (cw + gap) + (g->col_group > 0 ? c / g->col_group : 0) * (group_gap - gap);
            if (r == 0 && g->col_labels && g->col_labels[c]) {
                int lw = font_text_width(g->col_labels[c], ts);
                canvas_text(cv, x + (cw - lw) / 2, pad + title_h, g->col_labels[c], INK, ts);
            }
            const float *img = imgs[(size_t)r * g->cols + c];
            if (img) canvas_blit_planar(cv, img, g->c, g->h, g->w, x, y, scale);
            else canvas_rect_outline(cv, x, y, cw, ch, FRAME_EDGE);
        }
    }
}

// picture_grid of g into a PNG at path.
static int grid_png(const char *path, const GridSpec *g, const float *const *imgs, Err *err) {
    Canvas cv;
    picture_grid(&cv, g, imgs);
    int rc = canvas_write_png(&cv, path, err);
    canvas_free(&cv);
    return rc;
}

int picture_recon(const char *path, const float *truth, const float *recon, int n, int c, int h,
                  int w, Err *err) {
    CHECK(n >= 1, "picture_recon: n = %d", n);
    const int pairs = n < 4 ? n : 4, rows = (n + pairs - 1) / pairs, cols = 2 * pairs;
    const float **imgs = xcalloc((size_t)rows * cols, sizeof *imgs);
    const char **labels = xmalloc(sizeof *labels * cols);
    size_t isz = (size_t)c * h * w;
    for (int i = 0; i < n; i++) {
        imgs[(i / pairs) * cols + 2 * (i % pairs)] = truth + i * isz;
        imgs[(i / pairs) * cols + 2 * (i % pairs) + 1] = recon + i * isz;
    }
    for (int k = 0; k < cols; k++) labels[k] = k % 2 ? "recon" : "true";
    GridSpec g = {.rows = rows, .cols = cols, .c = c, .h = h, .w = w, .title = "validation frames | reconstructions",
                  .col_labels = labels, .col_group = 2};
    int rc = grid_png(path, &g, imgs, err);
    free(imgs);
    free(labels);
    return rc;
}

int picture_rollouts(const char *path, const float *truth, const float *pred, int n_starts,
                     int n_steps, const int *steps, int c, int h, int w, Err *err) {
    CHECK(n_starts >= 1 && n_steps >= 1, "picture_rollouts: %d starts, %d steps", n_starts, n_steps);
    const int rows = 2 * n_starts, cols = n_steps;
    const float **imgs = xcalloc((size_t)rows * cols, sizeof *imgs);
    const char **clab = xmalloc(sizeof *clab * cols), **rlab = xmalloc(sizeof *rlab * rows);
    char *names = xmalloc((size_t)cols * 16);
    size_t isz = (size_t)c * h * w;
    for (int k = 0; k < cols; k++) {
        snprintf(names + 16 * k, 16, "t+%d", steps[k]);
        clab[k] = names + 16 * k;
    }
    for (int s = 0; s < n_starts; s++) {
        rlab[2 * s] = "true";
        rlab[2 * s + 1] = "pred";
        for (int k = 0; k < cols; k++) {
            imgs[(2 * s) * cols + k] = truth + ((size_t)s * n_steps + k) * isz;
            imgs[(2 * s + 1) * cols + k] = pred + ((size_t)s * n_steps + k) * isz;
        }
    }
    GridSpec g = {.rows = rows, .cols = cols, .c = c, .h = h, .w = w, .title = "open-loop rollouts: true vs predicted",
                  .col_labels = clab, .row_labels = rlab, .row_group = 2};
    int rc = grid_png(path, &g, imgs, err);
    free(imgs);
    free(clab);
    free(rlab);
    free(names);
    return rc;
}

// ---------------------------------------------------------------- plots

// matplotlib's "tab10" colours
static const Rgb PALETTE[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},
                              {148, 103, 189}, {140, 86, 75}, {227, 119, 194}, {127, 127, 127},
                              {188, 189, 34}, {23, 190, 207}};
#define MAX_TICKS 32

// Ticks at multiples of a 1-2-5 step inside [lo, hi]; returns the count, *step out.
static int linear_ticks(double lo, double hi, int target, int integer, double *t, double *step) {
    double raw = (hi - lo) / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    double s = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
    if (integer && s < 1) s = 1;
    int n = 0;
    for (double k = ceil(lo / s - 1e-9); n < MAX_TICKS && k * s <= hi + 1e-9 * s; k++) t[n++] = k * s;
    *step = s;
    return n;
}

static void format_tick(char *buf, size_t cap, double v, double step) {
    if (fabs(v) < step * 1e-6) v = 0;
    double a = fabs(v);
    if (v != 0 && (a >= 1e5 || a < 1e-3)) { snprintf(buf, cap, "%.2g", v); return; }
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6) dec = 6;
    snprintf(buf, cap, "%.*f", dec, v);
}

static void format_log_tick(char *buf, size_t cap, double v) {
    int e = (int)floor(log10(v) + 1e-9);
    if (e >= -3 && e <= 4) snprintf(buf, cap, "%g", v);
    else snprintf(buf, cap, "%.0fe%d", v / pow(10, e), e);
}

static int point_ok(double x, double y, int logy) { return isfinite(x) && isfinite(y) && (!logy || y > 0); }

// The plot's frame: data ranges (y in axis units: log10(y) on a log axis) and the pixel box.
typedef struct {
    double xlo, xhi, ylo, yhi;
    int L, R, T, B, logy;
} Frame;

static int frame_px(const Frame *f, double x) { return f->L + (int)lround((x - f->xlo) / (f->xhi - f->xlo) * (f->R - f->L)); }
static int frame_py(const Frame *f, double v) { return f->B - (int)lround((v - f->ylo) / (f->yhi - f->ylo) * (f->B - f->T)); }
static int frame_py_data(const Frame *f, double y) { return frame_py(f, f->logy ? log10(y) : y); }

// The data ranges of all series, padded; returns whether every x is an integer.
static int data_ranges(Frame *f, const PlotSeries *s, int ns) {
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    int integer_x = 1;
    for (int k = 0; k < ns; k++)
        for (int i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];
            if (!point_ok(x, y, f->logy)) continue;
            if (x < xlo) xlo = x;
            if (x > xhi) xhi = x;
            double v = f->logy ? log10(y) : y;
            if (v < ylo) ylo = v;
            if (v > yhi) yhi = v;
            if (x != floor(x)) integer_x = 0;
        }
    if (!(xlo <= xhi)) { xlo = 0; xhi = 1; }
    if (!(ylo <= yhi)) { ylo = 0; yhi = 1; }
    if (xhi - xlo < 1e-12 * (fabs(xlo) + 1)) { xlo -= 1; xhi += 1; }
    if (yhi - ylo < 1e-12 * (fabs(ylo) + 1)) { ylo -= f->logy ? 0.5 : 1; yhi += f->logy ? 0.5 : 1; }
    double ypad = 0.05 * (yhi - ylo), xpad = 0.02 * (xhi - xlo);
    f->ylo = ylo - ypad;
    f->yhi = yhi + ypad;
    f->xlo = xlo - xpad;
    f->xhi = xhi + xpad;
    return integer_x;
}

// y ticks in axis units and their labels; returns the count.
static int y_ticks(const Frame *f, double *yt, char (*ylab)[24]) {
    double ylo = f->ylo, yhi = f->yhi, ystep = 1;
    int nyt = 0;
    if (f->logy) {
        int e0 = (int)ceil(ylo - 1e-9), e1 = (int)floor(yhi + 1e-9), every = 1;
        while ((e1 - e0) / every > 8) every++;
        for (int e = e0; e <= e1 && nyt < MAX_TICKS; e += every) yt[nyt++] = e;
        if (nyt < 3) {   // less than about two decades: add 2x and 5x ticks
            nyt = 0;
            for (int e = (int)floor(ylo) ; e <= (int)ceil(yhi); e++)
                for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {   // 1, 2, 5
                    double v = e + log10(m);
                    if (v >= ylo && v <= yhi && nyt < MAX_TICKS) yt[nyt++] = v;
                }
        }
        for (int i = 0; i < nyt; i++) format_log_tick(ylab[i], sizeof ylab[i], pow(10, yt[i]));
    } else {
        nyt = linear_ticks(ylo, yhi, 6, 0, yt, &ystep);
        for (int i = 0; i < nyt; i++) format_tick(ylab[i], sizeof ylab[i], yt[i], ystep);
    }
    return nyt;
}

// The legend, in the corner (upper right, upper left, lower right, lower left) that covers
// the fewest data points.
static void plot_legend(Canvas *cv, const Frame *f, const PlotSeries *s, int ns) {
    const int L = f->L, R = f->R, T = f->T, B = f->B;
    int nl = 0, lw = 0;
    for (int k = 0; k < ns; k++)
        if (s[k].name && s[k].name[0]) {
            nl++;
            int tw = font_text_width(s[k].name, 1);
            if (tw > lw) lw = tw;
        }
    if (!nl) return;
    int bw = lw + 38, bh = nl * (FONT_LINE + 4) + 8;
    int cx[4] = {R - bw - 8, L + 8, R - bw - 8, L + 8}, cy[4] = {T + 8, T + 8, B - bh - 8, B - bh - 8};
    int best = 0, best_n = -1;
    for (int q = 0; q < 4; q++) {
        int cnt = 0;
        for (int k = 0; k < ns; k++)
            for (int i = 0; i < s[k].n; i++) {
                double x = s[k].x[i], y = s[k].y[i];
                if (!point_ok(x, y, f->logy)) continue;
                int px = frame_px(f, x), py = frame_py_data(f, y);
                // points and the line pieces near them: a margin of 6 px around the box
                cnt += px >= cx[q] - 6 && px < cx[q] + bw + 6 && py >= cy[q] - 6 && py < cy[q] + bh + 6;
            }
        if (best_n < 0 || cnt < best_n) { best = q; best_n = cnt; }
    }
    int bx = cx[best], by = cy[best];
    canvas_fill_rect(cv, bx, by, bw, bh, RGB_WHITE);
    canvas_rect_outline(cv, bx, by, bw, bh, (Rgb){180, 180, 180});
    int row = 0;
    for (int k = 0; k < ns; k++) {
        if (!s[k].name || !s[k].name[0]) continue;
        Rgb col = PALETTE[k % (int)(sizeof PALETTE / sizeof PALETTE[0])];
        int y = by + 6 + row * (FONT_LINE + 4);
        canvas_line(cv, bx + 6, y + 3, bx + 26, y + 3, col, 2);
        canvas_text(cv, bx + 32, y, s[k].name, INK, 1);
        row++;
    }
}

void plot_lines(Canvas *cv, const PlotSpec *p, const PlotSeries *s, int ns) {
    const int W = p->width > 0 ? p->width : 640, H = p->height > 0 ? p->height : 400;
    const Rgb axis = {60, 60, 60}, grid = {225, 225, 225};
    canvas_init(cv, W, H, RGB_WHITE);
    Frame f = {.logy = p->logy};
    const int integer_x = data_ranges(&f, s, ns);
    double yt[MAX_TICKS];
    char ylab[MAX_TICKS][24];
    const int nyt = y_ticks(&f, yt, ylab);
    double xt[MAX_TICKS], xstep = 1;
    int nxt = linear_ticks(f.xlo, f.xhi, 8, integer_x, xt, &xstep);
    // layout
    int ylab_w = 0;
    for (int i = 0; i < nyt; i++) {
        int tw = font_text_width(ylab[i], 1);
        if (tw > ylab_w) ylab_w = tw;
    }
    const int title_h = p->title ? FONT_LINE * 2 + 8 : 10;
    f.L = 10 + (p->ylabel ? FONT_LINE + 6 : 0) + ylab_w + 8;
    f.R = W - 20;
    f.T = title_h + 6;
    f.B = H - (10 + FONT_LINE + (p->xlabel ? FONT_LINE + 6 : 0));
    const int L = f.L, R = f.R, T = f.T, B = f.B;
    CHECK(R - L > 20 && B - T > 20, "plot %dx%d too small", W, H);
    for (int i = 0; i < nyt; i++) {
        int y = frame_py(&f, yt[i]);
        canvas_fill_rect(cv, L + 1, y, R - L - 1, 1, grid);
        canvas_fill_rect(cv, L - 4, y, 4, 1, axis);
        canvas_text(cv, L - 7 - font_text_width(ylab[i], 1), y - 3, ylab[i], INK, 1);
    }
    for (int i = 0; i < nxt; i++) {
        int x = frame_px(&f, xt[i]);
        char buf[24];
        format_tick(buf, sizeof buf, xt[i], xstep);
        canvas_fill_rect(cv, x, T, 1, B - T, grid);
        canvas_fill_rect(cv, x, B + 1, 1, 4, axis);
        canvas_text(cv, x - font_text_width(buf, 1) / 2, B + 8, buf, INK, 1);
    }
    canvas_rect_outline(cv, L, T, R - L + 1, B - T + 1, axis);
    if (p->title) canvas_text(cv, (W - font_text_width(p->title, 2)) / 2, 8, p->title, INK, 2);
    if (p->xlabel) canvas_text(cv, (L + R - font_text_width(p->xlabel, 1)) / 2, H - 6 - FONT_H, p->xlabel, INK, 1);
    if (p->ylabel) canvas_text_up(cv, 8, (T + B + font_text_width(p->ylabel, 1)) / 2, p->ylabel, INK, 1);
    // series
    for (int k = 0; k < ns; k++) {
        Rgb col = PALETTE[k % (int)(sizeof PALETTE / sizeof PALETTE[0])];
        int have = 0, px0 = 0, py0 = 0;
        for (int i = 0; i < s[k].n; i++) {
            double x = s[k].x[i], y = s[k].y[i];
            if (!point_ok(x, y, p->logy)) { have = 0; continue; }
            int px = frame_px(&f, x), py = frame_py_data(&f, y);
            if (have) canvas_line(cv, px0, py0, px, py, col, 2);
            if (s[k].n <= 40) canvas_fill_rect(cv, px - 2, py - 2, 5, 5, col);
            px0 = px;
            py0 = py;
            have = 1;
        }
    }
    plot_legend(cv, &f, s, ns);
}

int plot_lines_png(const char *path, const PlotSpec *p, const PlotSeries *s, int ns, Err *err) {
    Canvas cv;
    plot_lines(&cv, p, s, ns);
    int rc = canvas_write_png(&cv, path, err);
    canvas_free(&cv);
    return rc;
}
