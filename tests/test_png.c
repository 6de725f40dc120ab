/*
 * test_png.c - PNG I/O and pictures.
 *   - write/read round trips, grey and RGB, exact bytes; the .tmp file is gone afterwards
 *   - other PNG layouts (16-bit, grey+alpha, palette, RGBA, 1-bit) read as C=1 or C=3 with
 *     known values (files made with libpng's simplified writer here)
 *   - a truncated file, a non-PNG, an empty file and a missing file give one Err line
 *     naming the file, and leave the Image empty
 *   - image_to_planar conversions
 *   - canvases, text, grids and plots: expected sizes, pixels where they must be; demo
 *     pictures written to /tmp/nemu_test_*.png for a look
 */
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/png.h"
#include "evaluation/font.h"
#include "evaluation/picture.h"
#include "base/err.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "tests/test.h"

static char tmpdir[256];

static const char *tpath(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void test_round_trip(void) {
    for (int c = 1; c <= 3; c += 2) {
        const int w = 37, h = 23;
        uint8_t *px = xmalloc((size_t)w * h * c);
        for (int i = 0; i < w * h * c; i++) px[i] = (uint8_t)(i * 7 + i / 5);
        const char *path = tpath(c == 1 ? "grey.png" : "rgb.png");
        Err err = {{0}};
        EXPECT(png_write(path, px, w, h, c, &err) == 0, "write c=%d: %s", c, err.msg);
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        EXPECT(access(tmp, F_OK) != 0, "no .tmp left behind");
        Image img;
        EXPECT(png_read(path, &img, &err) == 0, "read c=%d: %s", c, err.msg);
        EXPECT(img.w == w && img.h == h && img.c == c, "shape %dx%dx%d", img.w, img.h, img.c);
        EXPECT(img.px && memcmp(img.px, px, (size_t)w * h * c) == 0, "c=%d round trip exact", c);
        image_free(&img);
        free(px);
    }
}

// Writes w x h pixels in `format` with libpng's simplified API (an independent writer).
static void write_simplified(const char *path, png_uint_32 format, int w, int h, const void *px,
                             const void *colormap, int ncolors) {
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    im.width = w;
    im.height = h;
    im.format = format;
    im.colormap_entries = ncolors;
    CHECK(png_image_write_to_file(&im, path, 0, px, 0, colormap), "simplified write %s: %s", path, im.message);
}

static void test_layouts(void) {
    Err err = {{0}};
    Image img;
    enum { W = 4, H = 3 };
    // 16-bit grey (linear): the simplified writer stores 16-bit samples; we keep the high byte
    uint16_t g16[W * H];
    for (int i = 0; i < W * H; i++) g16[i] = (uint16_t)(i * 5000);
    write_simplified(tpath("g16.png"), PNG_FORMAT_LINEAR_Y, W, H, g16, NULL, 0);
    EXPECT(png_read(tpath("g16.png"), &img, &err) == 0, "16-bit grey: %s", err.msg);
    int ok = img.c == 1 && img.w == W && img.h == H;
    for (int i = 0; ok && i < W * H; i++) ok &= img.px[i] == (g16[i] >> 8);
    EXPECT(ok, "16-bit grey -> C=1, high bytes");
    image_free(&img);
    // grey + alpha: alpha dropped, C=1 (sRGB 8-bit format, samples stored as given)
    uint8_t ga[W * H * 2];
    for (int i = 0; i < W * H; i++) { ga[2 * i] = (uint8_t)(i * 20); ga[2 * i + 1] = 255; }
    write_simplified(tpath("ga.png"), PNG_FORMAT_GA, W, H, ga, NULL, 0);
    EXPECT(png_read(tpath("ga.png"), &img, &err) == 0, "grey+alpha: %s", err.msg);
    ok = img.c == 1;
    for (int i = 0; ok && i < W * H; i++) ok &= img.px[i] == ga[2 * i];
    EXPECT(ok, "grey+alpha -> C=1, alpha dropped (c=%d)", img.c);
    image_free(&img);
    // RGBA: alpha dropped, C=3
    uint8_t rgba[W * H * 4];
    for (int i = 0; i < W * H * 4; i++) rgba[i] = (i % 4 == 3) ? 255 : (uint8_t)(i * 9);
    write_simplified(tpath("rgba.png"), PNG_FORMAT_RGBA, W, H, rgba, NULL, 0);
    EXPECT(png_read(tpath("rgba.png"), &img, &err) == 0, "rgba: %s", err.msg);
    ok = img.c == 3;
    for (int i = 0; ok && i < W * H; i++)
        for (int k = 0; k < 3; k++) ok &= img.px[3 * i + k] == rgba[4 * i + k];
    EXPECT(ok, "RGBA -> C=3, alpha dropped");
    image_free(&img);
    // palette: 3 colours, index image
    uint8_t cmap[3 * 3] = {255, 0, 0, 0, 255, 0, 10, 20, 30}, idx[W * H];
    for (int i = 0; i < W * H; i++) idx[i] = (uint8_t)(i % 3);
    write_simplified(tpath("pal.png"), PNG_FORMAT_RGB_COLORMAP, W, H, idx, cmap, 3);
    EXPECT(png_read(tpath("pal.png"), &img, &err) == 0, "palette: %s", err.msg);
    ok = img.c == 3;
    for (int i = 0; ok && i < W * H; i++)
        for (int k = 0; k < 3; k++) ok &= img.px[3 * i + k] == cmap[3 * idx[i] + k];
    EXPECT(ok, "palette -> C=3 with the palette colours");
    // image_to_planar on it: RGB planes, then grey (601 luma)
    float pl[3 * W * H], gr[W * H];
    image_to_planar(&img, 3, pl);
    image_to_planar(&img, 1, gr);
    EXPECT(pl[0] == 1.0f && pl[W * H] == 0 && fabsf(pl[2 * W * H + 2] - 30 / 255.0f) < 1e-7f, "planar RGB values");
    EXPECT(fabsf(gr[1] - 0.587f) < 1e-6f, "601 luma of pure green %.6f", gr[1]);
    image_free(&img);
}

static void expect_err(const char *path, const char *what, const char *needle) {
    Err err = {{0}};
    Image img = {1, 1, 1, (uint8_t *)&img};   // garbage that png_read must clear
    int rc = png_read(path, &img, &err);
    EXPECT(rc == -1 && strstr(err.msg, path) && strstr(err.msg, needle) && !strchr(err.msg, '\n'),
           "%s: rc %d msg '%s' (want the path and '%s')", what, rc, err.msg, needle);
    EXPECT(img.px == NULL && img.w == 0, "%s: image left empty", what);
    printf("  %s -> %s\n", what, err.msg);
}

static void test_bad_files(void) {
    enum { W = 64, H = 64 };
    uint8_t px[W * H * 3];
    Rng r;
    rng_seed(&r, 3);
    for (int i = 0; i < W * H * 3; i++) px[i] = (uint8_t)rng_below(&r, 256);   // incompressible
    Err err = {{0}};
    CHECK(png_write(tpath("full.png"), px, W, H, 3, &err) == 0, "%s", err.msg);
    FILE *f = fopen(tpath("full.png"), "rb");
    uint8_t *buf = xmalloc(20000);
    size_t n = fread(buf, 1, 20000, f);
    fclose(f);
    f = fopen(tpath("trunc.png"), "wb");
    fwrite(buf, 1, n / 2, f);
    fclose(f);
    expect_err(tpath("trunc.png"), "truncated PNG", "truncated");
    f = fopen(tpath("header_only.png"), "wb");
    fwrite(buf, 1, 20, f);
    fclose(f);
    expect_err(tpath("header_only.png"), "cut inside the header", "truncated");
    // corrupt a byte in the image data: CRC error
    buf[n / 2] ^= 0xFF;
    f = fopen(tpath("corrupt.png"), "wb");
    fwrite(buf, 1, n, f);
    fclose(f);
    expect_err(tpath("corrupt.png"), "corrupt PNG", "corrupt");
    free(buf);
    f = fopen(tpath("text.png"), "wb");
    fputs("this is not a png file at all\n", f);
    fclose(f);
    expect_err(tpath("text.png"), "not a PNG", "not a PNG");
    f = fopen(tpath("empty.png"), "wb");
    fclose(f);
    expect_err(tpath("empty.png"), "empty file", "not a PNG");
    expect_err(tpath("missing.png"), "missing file", "cannot open");
    // writing into a directory that does not exist fails with one line, no crash
    EXPECT(png_write(tpath("no/such/dir.png"), px, 4, 4, 1, &err) == -1 && strstr(err.msg, "dir.png"),
           "write to a missing dir: %s", err.msg);
}

static int count_colour(const Canvas *cv, int x0, int y0, int w, int h, Rgb c) {
    int n = 0;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) {
            const uint8_t *p = cv->px + ((size_t)y * cv->w + x) * 3;
            n += p[0] == c.r && p[1] == c.g && p[2] == c.b;
        }
    return n;
}

static void test_pictures(void) {
    Err err = {{0}};
    Canvas cv;
    canvas_init(&cv, 50, 30, RGB_WHITE);
    // a 2x3 grey image upscaled 4x at (5, 6), clamped
    float img[6] = {0, 0.5f, 1, -1, 2, NAN};
    canvas_blit_planar(&cv, img, 1, 2, 3, 5, 6, 4);
    const uint8_t *p = cv.px + ((size_t)(6 + 4) * 50 + 5 + 4 + 1) * 3;   // pixel (1,1) of img -> value 2 -> 255
    EXPECT(p[0] == 255, "clamped to white");
    p = cv.px + ((size_t)(6 + 5) * 50 + 5 + 8 + 3) * 3;                   // (1,2): NaN -> black
    EXPECT(p[0] == 0 && p[1] == 0, "NaN draws black");
    p = cv.px + ((size_t)(6 + 3) * 50 + 5 + 4 + 3) * 3;                   // (0,1): 0.5 -> 128
    EXPECT(p[0] == 128 && p[1] == 128 && p[2] == 128, "0.5 -> 128, got %d", p[0]);
    EXPECT(count_colour(&cv, 5, 6, 12, 8, RGB_BLACK) == 3 * 16, "three black 4x4 blocks");
    // text: 'I' at scale 1 has 3 + 5 + 3 = 11 ink pixels
    canvas_free(&cv);
    canvas_init(&cv, 20, 12, RGB_WHITE);
    int tw = canvas_text(&cv, 2, 2, "I", RGB_BLACK, 1);
    EXPECT(tw == 5 && count_colour(&cv, 0, 0, 20, 12, RGB_BLACK) == 11, "glyph I: width %d", tw);
    EXPECT(font_text_width("t+10", 2) == (4 * 6 - 1) * 2, "text width");
    // text off the canvas is clipped, not a crash
    canvas_text(&cv, -100, -100, "clipped", RGB_BLACK, 3);
    canvas_text(&cv, 15, 8, "clipped", RGB_BLACK, 3);
    canvas_line(&cv, -1000, -5, 1000, 30, RGB_BLACK, 3);
    canvas_free(&cv);

    // grids: recon (16 grey 80x80) and rollouts (2 starts x 5 steps, RGB 48x64)
    enum { N = 16, S = 80 };
    float *truth = xmalloc_floats((size_t)N * S * S), *recon = xmalloc_floats((size_t)N * S * S);
    for (int i = 0; i < N; i++)
        for (int y = 0; y < S; y++)
            for (int x = 0; x < S; x++) {
                float v = ((x / 8 + y / 8 + i) % 4 == 0) ? 0.9f : 0.1f;
                truth[(size_t)i * S * S + y * S + x] = v;
                recon[(size_t)i * S * S + y * S + x] = 0.8f * v + 0.05f * sinf(x * 0.3f);
            }
    EXPECT(picture_recon("/tmp/nemu_test_recon.png", truth, recon, N, 1, S, S, &err) == 0, "%s", err.msg);
    Image im;
    EXPECT(png_read("/tmp/nemu_test_recon.png", &im, &err) == 0 && im.c == 3, "read recon.png: %s", err.msg);
    // 8 columns of 160 px, 3 pair gaps of 14 and 4 inner gaps of 4, plus 2 x 10 margin
    EXPECT(im.w == 2 * 10 + 8 * 160 + 4 * 4 + 3 * 14 && im.h > 4 * 160, "recon.png size %dx%d", im.w, im.h);
    image_free(&im);
    enum { NS = 2, NK = 5, RH = 48, RW = 64 };
    float *rt = xmalloc_floats((size_t)NS * NK * 3 * RH * RW), *rp = xmalloc_floats((size_t)NS * NK * 3 * RH * RW);
    for (size_t i = 0; i < (size_t)NS * NK * 3 * RH * RW; i++) {
        rt[i] = (float)((i / 7) % 3) / 2;
        rp[i] = (float)((i / 5) % 4) / 3;
    }
    int steps[NK] = {1, 5, 10, 30, 60};
    EXPECT(picture_rollouts("/tmp/nemu_test_rollouts.png", rt, rp, NS, NK, steps, 3, RH, RW, &err) == 0, "%s", err.msg);
    EXPECT(png_read("/tmp/nemu_test_rollouts.png", &im, &err) == 0 && im.w > NK * 128 && im.h > 4 * 96,
           "rollouts.png size %dx%d", im.w, im.h);
    image_free(&im);
    free(truth); free(recon); free(rt); free(rp);

    // plots: loss curves (log y) and an eval plot (linear), size as asked
    double ep[30], tr[30], va[30];
    for (int i = 0; i < 30; i++) {
        ep[i] = i + 1;
        tr[i] = 0.05 * exp(-0.12 * i) + 0.002;
        va[i] = 0.06 * exp(-0.1 * i) + 0.003 + 0.0004 * (i % 3);
    }
    va[7] = NAN;   // a gap
    PlotSeries loss[2] = {{"train", ep, tr, 30}, {"val", ep, va, 30}};
    PlotSpec lp = {.title = "autoencoder loss", .xlabel = "epoch", .ylabel = "MSE", .logy = 1};
    EXPECT(plot_lines_png("/tmp/nemu_test_loss.png", &lp, loss, 2, &err) == 0, "%s", err.msg);
    EXPECT(png_read("/tmp/nemu_test_loss.png", &im, &err) == 0 && im.w == 640 && im.h == 400 && im.c == 3,
           "loss.png is 640x400 RGB (%dx%dx%d)", im.w, im.h, im.c);
    image_free(&im);
    double st[5] = {1, 5, 10, 30, 60}, m[5] = {0.95, 0.9, 0.84, 0.7, 0.61}, cp[5] = {0.9, 0.7, 0.6, 0.5, 0.45},
           rc[5] = {0.97, 0.97, 0.97, 0.97, 0.97};
    PlotSeries ev[3] = {{"model", st, m, 5}, {"copy", st, cp, 5}, {"recon", st, rc, 5}};
    PlotSpec ep2 = {.title = "SSIM vs rollout step", .xlabel = "step", .ylabel = "SSIM", .width = 500, .height = 320};
    Canvas pc;
    plot_lines(&pc, &ep2, ev, 3);
    EXPECT(pc.w == 500 && pc.h == 320, "plot canvas size %dx%d", pc.w, pc.h);
    // the three series colours appear
    EXPECT(count_colour(&pc, 0, 0, pc.w, pc.h, (Rgb){31, 119, 180}) > 100 &&
           count_colour(&pc, 0, 0, pc.w, pc.h, (Rgb){255, 127, 14}) > 100 &&
           count_colour(&pc, 0, 0, pc.w, pc.h, (Rgb){44, 160, 44}) > 100, "series are drawn");
    EXPECT(canvas_write_png(&pc, "/tmp/nemu_test_eval_plot.png", &err) == 0, "%s", err.msg);
    canvas_free(&pc);
    // degenerate input: empty and all-NaN series, a constant series: no crash, still drawn
    double nanv[2] = {NAN, NAN}, one[1] = {3};
    PlotSeries deg[3] = {{"empty", ep, tr, 0}, {"nan", ep, nanv, 2}, {"const", one, one, 1}};
    PlotSpec dp = {.logy = 1};
    plot_lines(&pc, &dp, deg, 3);
    EXPECT(pc.w == 640, "degenerate plot drawn");
    canvas_free(&pc);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nemu_test_png_XXXXXX");
    CHECK(mkdtemp(tmpdir), "mkdtemp %s", tmpdir);
    test_round_trip();
    test_layouts();
    test_bad_files();
    test_pictures();
    const char *made[] = {"grey.png", "rgb.png", "g16.png", "ga.png", "rgba.png", "pal.png", "full.png",
                          "trunc.png", "header_only.png", "corrupt.png", "text.png", "empty.png"};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; i++) unlink(tpath(made[i]));
    EXPECT(rmdir(tmpdir) == 0, "temporary directory %s cleaned up (nothing else left in it)", tmpdir);
    return test_summary();
}
