/* digits.c - digit accuracy by template matching against the game's own font (digits.h). */
#include "evaluation/digits.h"

#include <stdlib.h>
#include <string.h>

#include "data/font8.h"
#include "base/alloc.h"

static void ink_rgb(uint32_t c, uint8_t rgb[3]) {
    rgb[0] = (uint8_t)(c >> 16), rgb[1] = (uint8_t)(c >> 8), rgb[2] = (uint8_t)c;
}

// Digit d (-1: none) at position i of field f drawn alone on a black native frame, preprocessed into r->u8.
static void render_template(DigitReader *r, const HudField *f, int i, int d) {
    const GameDef *g = r->g;
    memset(r->rgb, 0, (size_t)g->H * g->W * g->C);
    uint8_t ink[3];
    ink_rgb(f->ink, ink);
    char s[2] = {(char)('0' + d), 0};
    font8_draw(r->rgb, g->W, g->H, g->C, f->x + 8 * i, f->y, s, ink, 8);
    preprocess_frame(&r->pp, r->rgb, r->u8, r->scratch);
}

// The region of field k: every pixel (of any channel) some template of the field touches.
static void field_region(DigitReader *r, int k) {
    const HudField *f = &r->fields[k];
    int y0 = r->H, y1 = -1, x0 = r->W, x1 = -1;
    for (int i = 0; i < f->digits; i++)
        for (int d = 0; d < 10; d++) {
            render_template(r, f, i, d);
            for (int c = 0; c < r->C; c++)
                for (int y = 0; y < r->H; y++)
                    for (int x = 0; x < r->W; x++)
                        if (r->u8[((size_t)c * r->H + y) * r->W + x]) {
                            if (y < y0) y0 = y;
                            if (y > y1) y1 = y;
                            if (x < x0) x0 = x;
                            if (x > x1) x1 = x;
                        }
        }
    if (y1 < 0) y0 = x0 = 0, y1 = x1 = 0;   // the field lies outside the frame: a 1-pixel region
    r->r0[k] = y0, r->c0[k] = x0, r->rh[k] = y1 - y0 + 1, r->rw[k] = x1 - x0 + 1;
}

// The region of field k of a [C,H,W] uint8 frame as floats in [0,1].
static void crop_u8(const DigitReader *r, int k, const uint8_t *u8, float *out) {
    for (int c = 0; c < r->C; c++)
        for (int y = 0; y < r->rh[k]; y++)
            for (int x = 0; x < r->rw[k]; x++)
                *out++ = u8[((size_t)c * r->H + r->r0[k] + y) * r->W + r->c0[k] + x] * (1.0f / 255.0f);
}

// Dot products of field k's templates up to two positions apart (r->gram[k]).
static void field_gram(DigitReader *r, int k) {
    const int n = r->fields[k].digits;
    const size_t P = (size_t)r->C * r->rh[k] * r->rw[k];
    r->gram[k] = xcalloc((size_t)n * 3 * 100, sizeof(double));
    for (int i = 0; i < n; i++)
        for (int o = 0; o < 3 && i + o < n; o++)
            for (int a = 0; a < 10; a++)
                for (int b = 0; b < 10; b++) {
                    const float *A = r->tmpl[k] + ((size_t)i * 10 + a) * P, *B = r->tmpl[k] + ((size_t)(i + o) * 10 + b) * P;
                    double dot = 0;
                    for (size_t p = 0; p < P; p++) dot += (double)A[p] * B[p];
                    r->gram[k][((size_t)i * 3 + o) * 100 + a * 10 + b] = dot;
                }
}

int digit_reader_init(DigitReader *r, const GameDef *g, int H, int W, int C, Err *err) {
    memset(r, 0, sizeof *r);
    r->g = g, r->H = H, r->W = W, r->C = C;
    r->n_fields = game_hud_fields(g, &r->fields);
    if (r->n_fields == 0) return err_set(err, "%s: no known digit fields", g ? g->name : "(no game)"), -1;
    if (r->n_fields > DIGITS_MAX_FIELDS) return err_set(err, "%s: %d digit fields", g->name, r->n_fields), -1;
    Preprocess p = {H, W, C};
    if (preprocessor_init(&r->pp, g->H, g->W, g->C, &p, err) < 0) return -1;
    r->rgb = xmalloc((size_t)g->H * g->W * g->C);
    r->u8 = xmalloc((size_t)C * H * W);
    r->scratch = xmalloc(preprocessor_scratch_bytes(&r->pp) + 1);
    size_t most = 1;
    for (int k = 0; k < r->n_fields; k++) {
        const HudField *f = &r->fields[k];
        field_region(r, k);
        const size_t P = (size_t)C * r->rh[k] * r->rw[k];
        if (P > most) most = P;
        r->tmpl[k] = xmalloc_floats((size_t)f->digits * 10 * P);
        for (int i = 0; i < f->digits; i++)
            for (int d = 0; d < 10; d++) {
                render_template(r, f, i, d);
                crop_u8(r, k, r->u8, r->tmpl[k] + ((size_t)i * 10 + d) * P);
            }
    }
    for (int k = 0; k < r->n_fields; k++) field_gram(r, k);
    r->most = most;
    r->bg = xmalloc_floats(most * r->n_fields);
    r->resid = xmalloc_floats(most);
    return 0;
}

void digit_reader_free(DigitReader *r) {
    for (int k = 0; k < r->n_fields; k++) free(r->tmpl[k]), free(r->gram[k]);
    if (r->rgb) preprocessor_free(&r->pp);
    free(r->rgb), free(r->u8), free(r->scratch), free(r->bg), free(r->resid);
    memset(r, 0, sizeof *r);
}

// The game's frame of state with every field's digit cells blanked, preprocessed, cropped per field
// into r->bg (field k at k * most floats).
static void background(DigitReader *r, const void *state, size_t most) {
    const GameDef *g = r->g;
    g->render(state, r->rgb);
    for (int k = 0; k < r->n_fields; k++) {
        const HudField *f = &r->fields[k];
        for (int y = f->y; y < f->y + 8 && y < g->H; y++)
            for (int x = f->x; x < f->x + 8 * f->digits && x < g->W; x++)
                if (y >= 0 && x >= 0) memset(r->rgb + ((size_t)y * g->W + x) * g->C, 0, (size_t)g->C);
    }
    preprocess_frame(&r->pp, r->rgb, r->u8, r->scratch);
    for (int k = 0; k < r->n_fields; k++) crop_u8(r, k, r->u8, r->bg + k * most);
}

// The digits of field k minimising |res - sum of templates|^2 with the overlaps of templates
// up to two positions apart (dynamic programming, state = the last two digits) into cur.
static void dp_digits(const DigitReader *r, int k, const float *res, int *cur) {
    const int n = r->fields[k].digits;
    const size_t P = (size_t)r->C * r->rh[k] * r->rw[k];
    const double *G = r->gram[k];
#define GR(i, o, a, b) G[((size_t)(i) * 3 + (o)) * 100 + (a) * 10 + (b)]
    double u[16][10], C[10][10], Cn[10][10];
    signed char bp[16][10][10];
    for (int i = 0; i < n; i++)
        for (int a = 0; a < 10; a++) {
            const float *T = r->tmpl[k] + ((size_t)i * 10 + a) * P;
            double dot = 0;
            for (size_t p = 0; p < P; p++) dot += (double)res[p] * T[p];
            u[i][a] = GR(i, 0, a, a) - 2 * dot;
        }
    if (n == 1) {
        cur[0] = 0;
        for (int a = 1; a < 10; a++)
            if (u[0][a] < u[0][cur[0]]) cur[0] = a;
        return;
    }
    for (int a = 0; a < 10; a++)
        for (int b = 0; b < 10; b++) C[a][b] = u[0][a] + u[1][b] + 2 * GR(0, 1, a, b);
    for (int i = 2; i < n; i++) {   // position i gets digit c after (a, b) at i-2, i-1
        for (int b = 0; b < 10; b++)
            for (int c = 0; c < 10; c++) {
                int best = 0;
                double be = 0;
                for (int a = 0; a < 10; a++) {
                    const double e = C[a][b] + 2 * GR(i - 2, 2, a, c);
                    if (a == 0 || e < be) best = a, be = e;
                }
                Cn[b][c] = be + u[i][c] + 2 * GR(i - 1, 1, b, c);
                bp[i][b][c] = (signed char)best;
            }
        memcpy(C, Cn, sizeof C);
    }
    int ba = 0, bb = 0;
    for (int a = 0; a < 10; a++)
        for (int b = 0; b < 10; b++)
            if (C[a][b] < C[ba][bb]) ba = a, bb = b;
    cur[n - 2] = ba, cur[n - 1] = bb;
    for (int i = n - 1; i >= 2; i--) cur[i - 2] = bp[i][cur[i - 1]][cur[i]];
#undef GR
}

// Reads field k of frame (its background bg): the digits into out (NUL-terminated).
static void read_field(DigitReader *r, int k, const float *frame, const float *bg, char *out) {
    const HudField *f = &r->fields[k];
    const size_t P = (size_t)r->C * r->rh[k] * r->rw[k];
    float *res = r->resid;   // frame - background - the templates of the digits chosen so far
    size_t j = 0;
    for (int c = 0; c < r->C; c++)
        for (int y = 0; y < r->rh[k]; y++)
            for (int x = 0; x < r->rw[k]; x++, j++)
                res[j] = frame[((size_t)c * r->H + r->r0[k] + y) * r->W + r->c0[k] + x] - bg[j];
    int cur[16];
    dp_digits(r, k, res, cur);
    for (int i = 0; i < f->digits; i++)
        for (size_t p = 0; p < P; p++) res[p] -= r->tmpl[k][((size_t)i * 10 + cur[i]) * P + p];
    for (int sweep = 0; sweep < DIGITS_SWEEPS; sweep++)
        for (int i = 0; i < f->digits; i++) {
            const float *T = r->tmpl[k] + (size_t)i * 10 * P;
            for (size_t p = 0; p < P; p++) res[p] += T[(size_t)cur[i] * P + p];
            int best = 0;
            double best_e = 0;
            for (int d = 0; d < 10; d++) {
                double e = 0;
                for (size_t p = 0; p < P; p++) {
                    const double v = res[p] - T[(size_t)d * P + p];
                    e += v * v;
                }
                if (d == 0 || e < best_e) best = d, best_e = e;
            }
            cur[i] = best;
            for (size_t p = 0; p < P; p++) res[p] -= T[(size_t)best * P + p];
        }
    for (int i = 0; i < f->digits; i++) out[i] = (char)('0' + cur[i]);
    out[f->digits] = 0;
}

void digit_reader_state(DigitReader *r, const void *state) {
    GameFrameInfo info;
    r->g->frame_info(state, &info);
    int any = 0;
    for (int k = 0; k < r->n_fields; k++) {
        if (!hud_field_text(&r->fields[k], &info, r->want[k])) r->want[k][0] = 0;
        any |= r->want[k][0] != 0;
    }
    if (any) background(r, state, r->most);
}

void digit_reader_frame(DigitReader *r, const float *frame, DigitCount *n, char (*read)[16]) {
    int any = 0;
    for (int k = 0; k < r->n_fields; k++) {
        char got[16];
        if (read) read[k][0] = 0;
        if (!r->want[k][0]) continue;
        read_field(r, k, frame, r->bg + k * r->most, got);
        if (read) memcpy(read[k], got, 16);
        int ok = 0;
        for (int i = 0; i < r->fields[k].digits; i++) ok += got[i] == r->want[k][i];
        n->digits += r->fields[k].digits, n->correct += ok;
        n->fields++, n->fields_ok += ok == r->fields[k].digits;
        any = 1;
    }
    n->frames += any;
}

void digit_reader_read(DigitReader *r, const void *state, const float *frame, DigitCount *n, char (*read)[16]) {
    digit_reader_state(r, state);
    digit_reader_frame(r, frame, n, read);
}
