/*
 * test_digits.c - ./eval's colour and digit measures (evaluation/digits.c, colour.c,
 * data/game_hud.c) on the built-in Tetris's own frames:
 *   - digits: every source frame (bot-played states at several scores, the edge cases at
 *     levels 0-9) reads 100% at native resolution, grey and RGB; downscaled to 80x80 the
 *     source frames' share is printed and must stay high; a frame shifted by a few pixels, a
 *     blurred one and the frame of another state (other counters) read less; counters whose
 *     digits blend alike at 80x80 (001896 vs 003396) read right
 *   - hue: colour_hue against scikit-image's rgb2hsv (tests/fixtures/colour_hue.txt, made by
 *     tests/make_colour_fixtures.py); colour_frame: the truth scores 0, a piece with its hue
 *     turned by 60 degrees scores 60, the frame without the piece scores high, a blurred frame
 *     has a band error above its interior error (bleeding)
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/game.h"
#include "data/game_hud.h"
#include "data/preprocess.h"
#include "data/tetris.h"
#include "data/tetris_replay.h"
#include "evaluation/colour.h"
#include "evaluation/digits.h"
#include "base/alloc.h"
#include "base/rng.h"
#include "tests/test.h"

#define N_STATES 80

// States of game_tetris: 2 bot-played episodes sampled every 25 steps, then edge cases.
static uint8_t *make_states(int *n) {
    const GameDef *g = &game_tetris;
    uint8_t *st = xcalloc((size_t)N_STATES, g->state_size);
    int k = 0;
    Rng master;
    rng_seed(&master, 7);
    for (int ep = 0; ep < 2; ep++) {
        uint8_t *s = xcalloc(1, g->state_size), b[8];
        int64_t attrs[3];
        g->start(s, &master, 4, attrs);
        for (int t = 0; t < 400 && k < 16 * (ep + 1); t++) {
            g->bot_step(s, 4, b);
            if (t % 25 == 24) memcpy(st + (size_t)k++ * g->state_size, s, g->state_size);
        }
        free(s);
    }
    for (int i = 0; i < tetris_edge_case_count() && k < N_STATES; i++) {
        char nm[64];
        uint8_t *s = st + (size_t)k * g->state_size;
        memcpy(s, st, g->state_size);   // a bot beside it, as a real state has
        tetris_edge_case((Tetris *)game_tetris_state(s), i, nm, sizeof nm);
        k++;
    }
    *n = k;
    return st;
}

// State s rendered and preprocessed to [C,H,W] floats.
static void frame_of(const void *s, int H, int W, int C, float *out) {
    const GameDef *g = &game_tetris;
    Preprocessor pp;
    Preprocess p = {H, W, C};
    Err err;
    CHECK(preprocessor_init(&pp, g->H, g->W, g->C, &p, &err) == 0, "%s", err.msg);
    uint8_t *rgb = xmalloc((size_t)g->H * g->W * 3), *u8 = xmalloc((size_t)C * H * W);
    uint8_t *scr = xmalloc(preprocessor_scratch_bytes(&pp) + 1);
    g->render(s, rgb);
    preprocess_frame(&pp, rgb, u8, scr);
    for (size_t i = 0; i < (size_t)C * H * W; i++) out[i] = u8[i] / 255.f;
    preprocessor_free(&pp);
    free(rgb), free(u8), free(scr);
}

// Box blur of radius rad, per channel, or a shift right by dx (zeros enter).
static void distort(float *x, int C, int H, int W, int rad, int dx) {
    float *t = xmalloc_floats((size_t)C * H * W);
    memcpy(t, x, (size_t)C * H * W * sizeof(float));
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++) {
                double s = 0;
                int n = 0;
                for (int dy = -rad; dy <= rad; dy++)
                    for (int ex = -rad; ex <= rad; ex++) {
                        int yy = y + dy, sx = xx + ex - dx;
                        if (yy < 0 || yy >= H || sx < 0 || sx >= W) { n++; continue; }
                        s += t[((size_t)c * H + yy) * W + sx], n++;
                    }
                x[((size_t)c * H + y) * W + xx] = (float)(s / n);
            }
    free(t);
}

// Share of digits read right over all states; kind 0 plain, 1 shift dx, 2 blur rad, 3 another state's frame.
static double accuracy(const uint8_t *st, int n, int H, int W, int C, int kind, int amount, DigitCount *out) {
    const GameDef *g = &game_tetris;
    DigitReader r;
    Err err;
    CHECK(digit_reader_init(&r, g, H, W, C, &err) == 0, "%s", err.msg);
    float *x = xmalloc_floats((size_t)C * H * W);
    DigitCount dc = {0};
    for (int i = 0; i < n; i++) {
        frame_of(st + (size_t)(kind == 3 ? (i + amount) % n : i) * g->state_size, H, W, C, x);
        if (kind == 1) distort(x, C, H, W, 0, amount);
        if (kind == 2) distort(x, C, H, W, amount, 0);
        digit_reader_read(&r, st + (size_t)i * g->state_size, x, &dc, NULL);
    }
    digit_reader_free(&r);
    free(x);
    if (out) *out = dc;
    return dc.digits ? (double)dc.correct / dc.digits : -1;
}

static void test_digits(void) {
    int n;
    uint8_t *st = make_states(&n);
    DigitCount dc;
    const GameDef *g = &game_tetris;
    int scored = 0;
    for (int i = 0; i < n; i++) {
        GameFrameInfo fi;
        g->frame_info(st + (size_t)i * g->state_size, &fi);
        scored += fi.score > 0;
    }
    EXPECT(scored >= 8, "only %d of %d states have a score", scored, n);
    double a = accuracy(st, n, 240, 256, 3, 0, 0, &dc);
    printf("  native RGB: %lld/%lld digits, %lld/%lld counters whole, %lld frames\n", (long long)dc.correct,
           (long long)dc.digits, (long long)dc.fields_ok, (long long)dc.fields, (long long)dc.frames);
    EXPECT(a == 1.0 && dc.fields_ok == dc.fields && dc.frames >= n - 2, "native RGB source reads %.4f", a);
    a = accuracy(st, n, 240, 256, 1, 0, 0, &dc);
    EXPECT(a == 1.0, "native grey source reads %.4f", a);
    double a80 = accuracy(st, n, 80, 80, 3, 0, 0, &dc), g80 = accuracy(st, n, 80, 80, 1, 0, 0, NULL);
    printf("  80x80 source: RGB %.4f grey %.4f (%lld digits)\n", a80, g80, (long long)dc.digits);
    EXPECT(a80 >= 0.95 && g80 >= 0.95, "80x80 source frames read %.4f (RGB) %.4f (grey)", a80, g80);
    for (int dx = 2; dx <= 4; dx += 2) {
        a = accuracy(st, n, 240, 256, 3, 1, dx, NULL);
        printf("  native, shifted %d px: %.4f\n", dx, a);
        EXPECT(a < 0.9, "shifted by %d px reads %.4f", dx, a);
    }
    a = accuracy(st, n, 240, 256, 3, 2, 2, NULL);
    printf("  native, 5x5 box blur: %.4f\n", a);
    EXPECT(a < 1.0, "blurred reads %.4f", a);
    a = accuracy(st, n, 240, 256, 3, 3, 5, NULL);
    printf("  native, another state's frame: %.4f\n", a);
    EXPECT(a < 0.9, "another state's frame reads %.4f", a);
    DigitReader r;
    Err err;
    GameDef other = game_tetris;
    other.name = "pong";
    EXPECT(digit_reader_init(&r, &other, 80, 80, 1, &err) < 0 && strstr(err.msg, "no known digit fields"),
           "a game without fields: %s", err.msg);
    free(st);
}

// Counters whose digits blend alike at 80x80 ("18" and "33": read position by position, 001896
// came out 003396): the whole-field search reads them all.
static void test_confusable(void) {
    static const int SCORES[] = {1896, 3396, 181818, 333333, 888888, 101010, 987654, 11111, 77, 909090};
    const GameDef *g = &game_tetris;
    uint8_t *s = xcalloc(1, g->state_size);
    Rng master;
    rng_seed(&master, 3);
    int64_t attrs[3];
    g->start(s, &master, 4, attrs);
    for (int C = 1; C <= 3; C += 2) {
        DigitReader r;
        Err err;
        CHECK(digit_reader_init(&r, g, 80, 80, C, &err) == 0, "%s", err.msg);
        float *x = xmalloc_floats((size_t)C * 80 * 80);
        DigitCount dc = {0};
        for (size_t i = 0; i < sizeof SCORES / sizeof SCORES[0]; i++) {
            Tetris *t = (Tetris *)game_tetris_state(s);
            t->score = SCORES[i], t->lines = SCORES[i] % 1000, t->level = (int)(i * 7 % 30);
            frame_of(s, 80, 80, C, x);
            digit_reader_read(&r, s, x, &dc, NULL);
        }
        EXPECT(dc.correct == dc.digits && dc.digits == 110, "80x80 C=%d: confusable counters read %lld of %lld", C,
               (long long)dc.correct, (long long)dc.digits);
        digit_reader_free(&r);
        free(x);
    }
    free(s);
}

static void test_hue_oracle(void) {
    char path[512];
    FILE *f = fopen(fixture_path("colour_hue.txt", path, sizeof path), "r");
    EXPECT(f != NULL, "no fixture %s", path);
    if (!f) return;
    char line[256];
    int n = 0;
    float got[128], want[128];
    while (fgets(line, sizeof line, f) && n < 128) {
        float r, g, b, h;
        if (line[0] == '#' || sscanf(line, "%f %f %f %f", &r, &g, &b, &h) != 4) continue;
        got[n] = (float)colour_hue(r, g, b), want[n] = h, n++;
    }
    fclose(f);
    EXPECT(n >= 60, "fixture rows %d", n);
    expect_close("colour_hue vs skimage rgb2hsv", got, want, n, 2e-3, 1e-5);
    EXPECT(fabs(colour_hue_diff(350, 10) - 20) < 1e-12 && fabs(colour_hue_diff(10, 190) - 180) < 1e-12, "hue diff");
}

// The hue of pixel i turned by deg degrees (HSV, value and saturation kept).
static void turn_hue(float *x, size_t HW, size_t i, double deg) {
    float r = x[i], g = x[HW + i], b = x[2 * HW + i];
    float v = fmaxf(r, fmaxf(g, b)), m = fminf(r, fminf(g, b));
    double h = fmod(colour_hue(r, g, b) + deg, 360.0) / 60.0, c = v - m;
    double xx = c * (1 - fabs(fmod(h, 2.0) - 1)), rgb[3];
    int k = (int)h;
    double tab[6][3] = {{c, xx, 0}, {xx, c, 0}, {0, c, xx}, {0, xx, c}, {xx, 0, c}, {c, 0, xx}};
    for (int j = 0; j < 3; j++) rgb[j] = tab[k % 6][j] + m;
    x[i] = (float)rgb[0], x[HW + i] = (float)rgb[1], x[2 * HW + i] = (float)rgb[2];
}

static void test_colour_frame(void) {
    int n;
    uint8_t *st = make_states(&n);
    const GameDef *g = &game_tetris;
    const int H = 240, W = 256, C = 3;
    const size_t HW = (size_t)H * W;
    float *t = xmalloc_floats(C * HW), *h = xmalloc_floats(C * HW), *p = xmalloc_floats(C * HW);
    uint8_t *mask = xmalloc(HW), *rgb = xmalloc(HW * 3);
    ColourAcc same = {0}, turned = {0}, gone = {0}, blur = {0};
    for (int i = 0; i < n; i++) {
        const uint8_t *s = st + (size_t)i * g->state_size;
        GameFrameInfo fi;
        g->frame_info(s, &fi);
        frame_of(s, H, W, C, t);
        g->render_hidden(s, rgb);
        for (size_t j = 0; j < HW; j++)
            for (int c = 0; c < C; c++) h[c * HW + j] = rgb[j * 3 + c] / 255.f;
        const int pal = fi.level >= 0 ? (int)(fi.level % 10) : -1;
        colour_frame(&same, t, h, t, C, H, W, pal, mask);
        colour_frame(&gone, t, h, h, C, H, W, pal, mask);
        memcpy(p, t, C * HW * sizeof(float));
        for (size_t j = 0; j < HW; j++)
            if (mask[j]) turn_hue(p, HW, j, 60.0);
        colour_frame(&turned, t, h, p, C, H, W, pal, mask);
        memcpy(p, t, C * HW * sizeof(float));
        distort(p, C, H, W, 1, 0);
        colour_frame(&blur, t, h, p, C, H, W, pal, mask);
    }
    ColourAcc all = {0};
    colour_add(&all, &same);
    int64_t hn = 0, palettes = 0;
    double hs = 0, ht = 0, hg = 0;
    for (int q = 0; q < COLOUR_PALETTES; q++) {
        hn += same.hue_n[q], hs += same.hue_sum[q], ht += turned.hue_sum[q], hg += gone.hue_sum[q];
        palettes += same.hue_n[q] > 0;
    }
    printf("  %lld piece frames, %lld chromatic piece pixels over %lld palettes; hue error: same %.3f, turned %.3f, "
           "without the piece %.1f; band/interior L1: same %.4f/%.4f, blurred %.4f/%.4f\n",
           (long long)same.frames, (long long)hn, (long long)palettes, hs / hn, ht / hn, hg / hn,
           same.band_sum / same.band_n, same.interior_sum / same.interior_n, blur.band_sum / blur.band_n,
           blur.interior_sum / blur.interior_n);
    EXPECT(same.frames >= 10 && hn > 1000 && palettes >= 5 && all.frames == same.frames, "too few pieces measured");
    EXPECT(hs == 0 && same.band_sum == 0 && same.interior_sum == 0, "truth against itself: %g %g", hs, same.band_sum);
    EXPECT(fabs(ht / hn - 60.0) < 1.0, "hue turned by 60 reads %.3f", ht / hn);
    EXPECT(hg / hn > 60.0, "without the piece: hue error %.3f", hg / hn);
    EXPECT(blur.band_sum / blur.band_n > 2 * blur.interior_sum / blur.interior_n, "blur bleeds at the edges");
    free(t), free(h), free(p), free(mask), free(rgb), free(st);
}

int main(void) {
    test_hue_oracle();
    test_digits();
    test_confusable();
    test_colour_frame();
    return test_summary();
}
