/* game_look.c - digit accuracy, hue error and colour bleeding rows for ./eval (game_look.h). */
#include "evaluation/game_look.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/strbuf.h"
#include "evaluation/report_fmt.h"   // json_num, json_str

int game_look_init(GameLook *L, GameTrace *gt) {
    memset(L, 0, sizeof *L);
    if (!gt || !gt->available) return -1;
    const Dataset *d = gt->d;
    L->gt = gt, L->C = d->C, L->H = d->H, L->W = d->W;
    Err err;
    L->have_digits = digit_reader_init(&L->dr, gt->game, d->H, d->W, d->C, &err) == 0;
    if (!L->have_digits) snprintf(L->digits_reason, sizeof L->digits_reason, "%s", err.msg);
    const size_t F = (size_t)d->C * d->H * d->W;
    L->truth = xmalloc_floats(F), L->hidden = xmalloc_floats(F);
    L->mask = xmalloc((size_t)d->H * d->W);
    L->palette = -1;
    return 0;
}

void game_look_free(GameLook *L) {
    if (L->have_digits) digit_reader_free(&L->dr);
    free(L->truth), free(L->hidden), free(L->mask);
    memset(L, 0, sizeof *L);
}

void game_look_state(GameLook *L, int e, int64_t t) {
    const void *s = game_trace_state(L->gt, e, t);
    CHECK(s, "game_look_state: no state for episode %d frame %lld", e, (long long)t);
    GameFrameInfo fi;
    L->gt->game->frame_info(s, &fi);
    L->palette = fi.level >= 0 ? (int)(fi.level % COLOUR_PALETTES) : -1;
    game_trace_render(L->gt, s, 0, L->truth);
    if (L->gt->game->render_hidden) game_trace_render(L->gt, s, 1, L->hidden);
    else memcpy(L->hidden, L->truth, (size_t)L->C * L->H * L->W * sizeof(float));   // no piece: no colour rows
    if (L->have_digits) digit_reader_state(&L->dr, s);
}

static LookRow *row_of(GameLook *L, const char *name) {
    for (int i = 0; i < L->n_rows; i++)
        if (!strcmp(L->rows[i].name, name)) return &L->rows[i];
    CHECK(L->n_rows < LOOK_MAX_ROWS, "game_look: more than %d rows", LOOK_MAX_ROWS);
    LookRow *r = &L->rows[L->n_rows++];
    memset(r, 0, sizeof *r);
    snprintf(r->name, sizeof r->name, "%s", name);
    return r;
}

void game_look_frame(GameLook *L, const char *row, const float *frame) {
    LookRow *r = row_of(L, row);
    r->frames++;
    if (L->have_digits) digit_reader_frame(&L->dr, frame, &r->dig, NULL);
    colour_frame(&r->col, L->truth, L->hidden, frame, L->C, L->H, L->W, L->palette, L->mask);
}

// source and recon rows: every frame of the listed episodes, em->max_B frames at a time.
static void eval_recon(GameLook *L, const Emulator *em, const Dataset *d, const int *eps, int n_eps) {
    const size_t F = (size_t)d->C * d->H * d->W;
    const int B = em->max_B;
    float *x = xmalloc_floats((size_t)B * F), *y = xmalloc_floats((size_t)B * F);
    int64_t *ts = xmalloc((size_t)B * sizeof *ts);
    for (int i = 0; i < n_eps; i++) {
        const int e = eps[i];
        const int64_t T = dataset_ep_frames(d, e);
        for (int64_t t0 = 0; t0 < T; t0 += B) {
            const int n = T - t0 < B ? (int)(T - t0) : B;
            for (int j = 0; j < n; j++) dataset_frame(d, e, t0 + j, x + j * F), ts[j] = t0 + j;
            em->recon(em->ctx, x, y, n);
            for (int j = 0; j < n; j++) {
                game_look_state(L, e, ts[j]);
                game_look_frame(L, "source", x + j * F);
                game_look_frame(L, "recon", y + j * F);
            }
        }
    }
    free(x), free(y), free(ts);
}

void game_look_eval(GameLook *L, const Emulator *em, const Dataset *d, const int *eps, int n_eps,
                    const StartPoint *sp, int N, const int *steps, int n_steps) {
    eval_recon(L, em, d, eps, n_eps);
    if (n_steps > (LOOK_MAX_ROWS - 2) / 2) n_steps = (LOOK_MAX_ROWS - 2) / 2;   // the first 16 steps
    if (n_steps <= 0 || N <= 0) return;
    const size_t F = (size_t)d->C * d->H * d->W;
    const int B = em->max_B, K = steps[n_steps - 1];
    float *x0 = xmalloc_floats((size_t)B * F), *p = xmalloc_floats((size_t)B * F);
    float *a = xmalloc_floats((size_t)B * d->A);
    for (int base = 0; base < N; base += B) {
        const int n = N - base < B ? N - base : B;
        for (int j = 0; j < n; j++) dataset_frame(d, sp[base + j].e, sp[base + j].t, x0 + j * F);
        emu_start(em, d, sp + base, x0, n);
        for (int k = 1, s = 0; k <= K && s < n_steps; k++) {
            for (int j = 0; j < n; j++) {   // select_starts keeps t + K within the episode
                const StartPoint q = sp[base + j];
                dataset_action(d, q.e, q.t + k - 1, a + j * d->A);
            }
            em->step(em->ctx, a, n);
            if (k != steps[s]) continue;
            em->draw(em->ctx, p, n);
            char mrow[32], crow[32];
            snprintf(mrow, sizeof mrow, "model %d", k), snprintf(crow, sizeof crow, "copy %d", k);
            for (int j = 0; j < n; j++) {
                const StartPoint q = sp[base + j];
                if (q.t + k >= dataset_ep_frames(d, q.e)) continue;
                game_look_state(L, q.e, q.t + k);
                game_look_frame(L, crow, x0 + j * F);
                game_look_frame(L, mrow, p + j * F);
            }
            s++;
        }
    }
    free(x0), free(p), free(a);
}

static double hue_all(const ColourAcc *c, int64_t *n) {
    double s = 0;
    *n = 0;
    for (int p = 0; p < COLOUR_PALETTES; p++) s += c->hue_sum[p], *n += c->hue_n[p];
    return *n ? s / *n : 0;
}

// One row of the main table.
static void row_line(StrBuf *b, const GameLook *L, const LookRow *r) {
    sb_printf(b, "| %s | %lld | ", r->name, (long long)r->frames);
    if (L->have_digits && r->dig.digits)
        sb_printf(b, "%.2f%% (%lld) | %.2f%% (%lld) | ", 100.0 * r->dig.correct / r->dig.digits,
            (long long)r->dig.digits, 100.0 * r->dig.fields_ok / r->dig.fields, (long long)r->dig.fields);
    else sb_printf(b, "- | - | ");
    const ColourAcc *c = &r->col;
    int64_t hn;
    const double h = hue_all(c, &hn);
    sb_printf(b, "%lld | ", (long long)c->frames);
    if (hn) sb_printf(b, "%.2f (%lld) | ", h, (long long)hn);
    else sb_printf(b, "%s | ", L->C == 3 ? "-" : "- (grey)");
    if (c->band_n && c->interior_n) {
        const double bd = c->band_sum / c->band_n, in = c->interior_sum / c->interior_n;
        if (in > 0) sb_printf(b, "%.4f | %.4f | %.2f |\n", bd, in, bd / in);
        else sb_printf(b, "%.4f | %.4f | - |\n", bd, in);
    } else if (c->band_n) sb_printf(b, "%.4f | - (no interior pixel) | - |\n", c->band_sum / c->band_n);
    else sb_printf(b, "- | - | - |\n");
}

char *game_look_markdown(const GameLook *L) {
    StrBuf b = {0};
    sb_printf(&b, "\n## Colour and digits (the built-in game's own measures)\n\n");
    if (L->have_digits) {
        sb_printf(&b, "Digits: the counters (");
        for (int k = 0; k < L->dr.n_fields; k++)
            sb_printf(&b, "%s%s, %d digits", k ? "; " : "", L->dr.fields[k].name, L->dr.fields[k].digits);
        sb_printf(&b, ") read by template matching against the game's own 8x8 font at their positions, "
                            "compared with what the game shows; share of digits read right (digits compared) and of "
                            "counters read whole. ");
    } else sb_printf(&b, "Digits: unavailable (%s). ", L->digits_reason);
    sb_printf(&b, "Piece: where the frame differs from the game's frame without the falling piece; hue error: "
                        "mean circular HSV hue difference (degrees) on its chromatic pixels (pixels); band / "
                        "interior: mean abs error in a 1-pixel band around its edges against its inside (bleeding "
                        "when the band's is higher). *source*: the data's own frames (the ceiling at %dx%d).\n\n",
        L->H, L->W);
    sb_printf(&b, "| row | frames | digits read | counters read whole | piece frames | hue error (deg) | "
                        "band L1 | interior L1 | band / interior |\n|---|---|---|---|---|---|---|---|---|\n");
    for (int i = 0; i < L->n_rows; i++) row_line(&b, L, &L->rows[i]);
    if (L->C != 3 || !L->n_rows) return b.s;
    sb_printf(&b, "\nHue error (deg) per palette (level mod 10; the pixels of the source row in the first "
                        "line):\n\n| row |");
    for (int p = 0; p < COLOUR_PALETTES; p++) sb_printf(&b, " %d |", p);
    sb_printf(&b, "\n|---|");
    for (int p = 0; p < COLOUR_PALETTES; p++) sb_printf(&b, "---|");
    sb_printf(&b, "\n| pixels |");
    for (int p = 0; p < COLOUR_PALETTES; p++) sb_printf(&b, " %lld |", (long long)L->rows[0].col.hue_n[p]);
    for (int i = 1; i < L->n_rows; i++) {
        sb_printf(&b, "\n| %s |", L->rows[i].name);
        for (int p = 0; p < COLOUR_PALETTES; p++) {
            const ColourAcc *c = &L->rows[i].col;
            if (c->hue_n[p]) sb_printf(&b, " %.2f |", c->hue_sum[p] / c->hue_n[p]);
            else sb_printf(&b, " - |");
        }
    }
    sb_printf(&b, "\n");
    return b.s;
}

// One row as a JSON object.
static void row_json(StrBuf *b, const GameLook *L, const LookRow *r) {
    const DigitCount *d = &r->dig;
    const ColourAcc *c = &r->col;
    int64_t hn;
    const double h = hue_all(c, &hn);
    sb_printf(b, "{\"row\": ");
    json_str(b, r->name);
    sb_printf(b, ", \"frames\": %lld, \"digits\": %lld, \"digits_read\": %lld, \"digit_accuracy\": ", (long long)r->frames,
              (long long)d->digits, (long long)d->correct);
    json_num(b, L->have_digits && d->digits ? (double)d->correct / d->digits : NAN);
    sb_printf(b, ", \"counters\": %lld, \"counters_whole\": %lld, \"piece_frames\": %lld, \"hue_pixels\": %lld, "
              "\"hue_error_deg\": ", (long long)d->fields, (long long)d->fields_ok, (long long)c->frames, (long long)hn);
    json_num(b, hn ? h : NAN);
    sb_printf(b, ", \"hue_error_per_palette\": [");
    for (int p = 0; p < COLOUR_PALETTES; p++) {
        sb_printf(b, p ? ", " : "");
        json_num(b, c->hue_n[p] ? c->hue_sum[p] / c->hue_n[p] : NAN);
    }
    sb_printf(b, "], \"band_l1\": ");
    json_num(b, c->band_n ? c->band_sum / c->band_n : NAN);
    sb_printf(b, ", \"interior_l1\": ");
    json_num(b, c->interior_n ? c->interior_sum / c->interior_n : NAN);
    sb_printf(b, "}");
}

char *game_look_json(const GameLook *L, const char *unavailable) {
    StrBuf b = {0};
    sb_printf(&b, "\"colour_digits\": {\"available\": %s", unavailable ? "false" : "true");
    if (unavailable) {
        sb_printf(&b, ", \"reason\": ");
        json_str(&b, unavailable);
        sb_printf(&b, "}");
        return b.s;
    }
    sb_printf(&b, ", \"digits_available\": %s", L->have_digits ? "true" : "false");
    if (!L->have_digits) {
        sb_printf(&b, ", \"digits_reason\": ");
        json_str(&b, L->digits_reason);
    }
    sb_printf(&b, ", \"min_saturation\": %g, \"min_value\": %g, \"rows\": [", COLOUR_MIN_SAT, COLOUR_MIN_VAL);
    for (int i = 0; i < L->n_rows; i++) {
        sb_printf(&b, "%s\n      ", i ? "," : "");
        row_json(&b, L, &L->rows[i]);
    }
    sb_printf(&b, "\n    ]}");
    return b.s;
}

char *json_add_member(char *json, const char *member) {
    char *end = strrchr(json, '}');
    CHECK(end, "json_add_member: not a JSON object");
    const char *last = end;
    while (last > json && (last[-1] == ' ' || last[-1] == '\n')) last--;   // after the last member
    StrBuf b = {0};
    sb_printf(&b, "%.*s,\n  %s\n%s", (int)(last - json), json, member, end);
    free(json);
    return b.s;
}
