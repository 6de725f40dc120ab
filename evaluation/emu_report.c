/*
 * emu_report.c - statistics and texts of the emulation measures (see emu_report.h).
 */
#include "evaluation/emu_report.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "evaluation/report_fmt.h"   // csv_num, json_num, json_str, json_interval
#include "base/alloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const ROW_NAMES[EMU_ROWS] = {"model", "copy", "recon"};

Interval interval95_finite(const double *x, int n) {
    double *y = xmalloc((size_t)(n > 0 ? n : 1) * sizeof(double));
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i])) y[m++] = x[i];
    Interval iv = interval95(y, m);
    iv.n = m;
    free(y);
    return iv;
}

static Interval zero_interval(int n) { return (Interval){n, 0, 0, n > 1 ? 0 : NAN, 0, 0}; }

void emu_stats_init(EmuStats *s, const EmuResult *r, const int *steps) {
    s->r = r, s->n_steps = r->n_steps, s->steps = steps;
    s->rows = xcalloc((size_t)r->n_steps * EMU_ROWS, sizeof *s->rows);
    s->live_true = xmalloc((size_t)r->n_steps * sizeof *s->live_true);
    const int N = r->N;
    for (int j = 0; j < r->n_steps; j++) {
        size_t o = (size_t)j * N;
        s->live_true[j] = interval95_finite(r->live_true + o, N);
        for (int w = 0; w < EMU_ROWS; w++) {
            EmuRowStats *e = &s->rows[j * EMU_ROWS + w];
            e->changed = interval95_finite(r->changed[w] + o, N);
            e->live = interval95_finite(r->live[w] + o, N);
            e->dpsnr_none = w == EMU_ROW_MODEL ? interval95_finite(r->dpsnr_none + o, N) : zero_interval(N);
            e->dpsnr_other = w == EMU_ROW_MODEL ? interval95_finite(r->dpsnr_other + o, N)
                             : r->other_ok      ? zero_interval(N)
                                                : zero_interval(0);
            e->piece_l1 = interval95_finite(r->piece_l1[w] + o, N);
            for (int i = 0; i < N; i++)
                if (r->piece_drawn[w][o + i] >= 0) e->drawn_n++, e->drawn += r->piece_drawn[w][o + i];
        }
    }
}

void emu_stats_free(EmuStats *s) {
    free(s->rows), free(s->live_true);
    memset(s, 0, sizeof *s);
}

// ---------------------------------------------------------------- Markdown

static void md_iv(StrBuf *b, const Interval *iv, int dec) {
    if (iv->n < 1 || !isfinite(iv->mean)) sb_printf(b, " – |");
    else if (iv->n > 1) sb_printf(b, " %.*f ± %.*f |", dec, iv->mean, dec, iv->half);
    else sb_printf(b, " %.*f |", dec, iv->mean);
}

char *emu_report_markdown(const EmuStats *s) {
    const EmuResult *r = s->r;
    StrBuf b = {0};
    sb_printf(&b, "\n## Emulation\n\n");
    sb_printf(&b, "- changed-pixel L1: L1 over the pixels where frame t+k differs from start frame t (copy cannot "
           "get them right); n = start points where some pixel changed\n");
    sb_printf(&b, "- ΔPSNR = PSNR(recorded actions) − PSNR(replaced actions), per start point, with its 95%% interval; "
           "replaced by another episode's actions (%s) or by no buttons; > 0 when the model uses the actions "
           "(copy and recon take no actions: 0)\n", r->other_ok ? "the start point half a list away" : "unavailable: one episode");
    sb_printf(&b, "- liveliness: mean frame-to-frame L1 along the rollout up to step k (model from its own step-0 "
           "frame; true: the real frames)\n");
    if (r->game)
        sb_printf(&b, "- piece (game-aware, from the engine's re-simulation of each episode): L1 inside the falling "
               "piece's cells of frame t+k; drawn when L1(row, true | piece) < %.1f × L1(frame without the "
               "piece, true | piece) (closer to the frame with the piece than halfway); frames without a "
               "visible piece in the air or with contrast < %.2f do not count\n",
           EMU_PIECE_DRAWN_FRACTION, EMU_PIECE_MIN_CONTRAST);
    else sb_printf(&b, "- piece and direction measures: unavailable: %s\n", r->game_reason);
    sb_printf(&b, "\n| step | row | changed-pixel L1 | n | ΔPSNR other actions (dB) | ΔPSNR no buttons (dB) | "
           "liveliness | true liveliness | piece L1 | piece drawn |\n|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int j = 0; j < s->n_steps; j++)
        for (int w = 0; w < EMU_ROWS; w++) {
            const EmuRowStats *e = &s->rows[j * EMU_ROWS + w];
            sb_printf(&b, "| %d | %s |", s->steps[j], ROW_NAMES[w]);
            md_iv(&b, &e->changed, 4);
            sb_printf(&b, " %d |", e->changed.n);
            md_iv(&b, &e->dpsnr_other, 2);
            md_iv(&b, &e->dpsnr_none, 2);
            md_iv(&b, &e->live, 4);
            md_iv(&b, &s->live_true[j], 4);
            if (!r->game) sb_printf(&b, " unavailable | unavailable |\n");
            else {
                md_iv(&b, &e->piece_l1, 4);
                if (e->drawn_n) sb_printf(&b, " %.0f%% of %d |\n", 100.0 * e->drawn / e->drawn_n, e->drawn_n);
                else sb_printf(&b, " – (no piece) |\n");
            }
        }
    sb_printf(&b, "\n### Spawn test (the game goes on)\n\n");
    if (!r->spawn_done) sb_printf(&b, "unavailable: %s\n", r->spawn_reason);
    else
        sb_printf(&b, "%d real start frames with no %s in play where the engine, no button held, brings a new one "
                  "within %d steps that stays in play (spread over %d eligible); no button for %d steps; a rollout "
                  "passes when its step-%d frame draws the engine's new %s (the piece measure). Model %d/%d (%.0f%%), "
                  "engine (reference) %d/%d.\n", r->spawn_n, r->object, r->spawn_k / 2, r->spawn_eligible,
                  r->spawn_k, r->spawn_k, r->object,
                  r->spawn_model, r->spawn_n, 100.0 * r->spawn_model / r->spawn_n, r->spawn_engine, r->spawn_n);
    sb_printf(&b, "\n### Direction test\n\n");
    if (!r->dir_done) {
        sb_printf(&b, "unavailable: %s\n", r->dir_reason);
        return b.s;
    }
    if (!r->dir_bright)
        sb_printf(&b, "%d real start frames where the %s moves freely (spread over %d eligible: in the engine it walks "
                  "at least a unit each way in %d steps and nothing else moves in its rows); hold LEFT or RIGHT for %d "
                  "steps; in the %s's rows, its position on a frame is the centroid of the pixels that differ from the "
                  "start frame without it (the engine's); a rollout passes when its position moves from the rollout's "
                  "own step-0 frame to its step-%d frame by >= %.1f unit (16 source pixels) left / right.\n\n",
                  r->dir_n, r->object, r->dir_eligible, r->dir_k, r->dir_k, r->object, r->dir_k, EMU_MOVE_CELLS);
    else
    sb_printf(&b, "%d real start frames with a piece in the air (spread over %d eligible: the piece can move one cell "
           "left, right and down and stays in the air for %d steps under each button in the engine); hold LEFT, "
           "RIGHT or no button for %d steps; inside the well, the motion from the rollout's own step-0 frame to "
           "its step-%d frame is the centroid of the pixels that brightened (something arrived; the well is "
           "black) minus the centroid of those that darkened (something left); a rollout passes when the motion "
           "is >= %.1f cell left / right / down (down: and less than that sideways).\n\n",
       r->dir_n, r->dir_eligible, r->dir_k, r->dir_k, r->dir_k, EMU_MOVE_CELLS);
    sb_printf(&b, "| held | expected move | model | engine (reference) |\n|---|---|---:|---:|\n");
    static const char *const held[EMU_DIRECTIONS] = {"LEFT", "RIGHT", "none"};
    for (int d = 0; d < r->dir_rows; d++)
        sb_printf(&b, "| %s | %s | %d/%d (%.0f%%) | %d/%d (%.0f%%) |\n", held[d], emu_direction_name((EmuDirection)d),
           r->dir_model[d], r->dir_n, 100.0 * r->dir_model[d] / r->dir_n, r->dir_engine[d], r->dir_n,
           100.0 * r->dir_engine[d] / r->dir_n);
    return b.s;
}

// ---------------------------------------------------------------- CSV

static const char *const CSV_STATS[] = {"changed_l1", "dpsnr_other", "dpsnr_none", "liveliness", "liveliness_true",
                                        "piece_l1"};
enum { N_CSV_STATS = sizeof CSV_STATS / sizeof *CSV_STATS };

const char *emu_report_csv_header(void) {
    static char h[1024];
    if (!h[0]) {
        size_t n = 0;
        for (int i = 0; i < N_CSV_STATS; i++)
            n += (size_t)snprintf(h + n, sizeof h - n, ",%s_n,%s_mean,%s_ci95,%s_lo,%s_hi", CSV_STATS[i],
                                  CSV_STATS[i], CSV_STATS[i], CSV_STATS[i], CSV_STATS[i]);
        snprintf(h + n, sizeof h - n, ",piece_drawn_n,piece_drawn_share");
    }
    return h;
}

char *emu_report_csv_cells(const EmuStats *s, int j, int row) {
    const EmuRowStats *e = &s->rows[j * EMU_ROWS + row];
    const Interval *iv[N_CSV_STATS] = {&e->changed, &e->dpsnr_other, &e->dpsnr_none, &e->live, &s->live_true[j],
                                       &e->piece_l1};
    StrBuf b = {0};
    sb_printf(&b, "%s", "");
    for (int i = 0; i < N_CSV_STATS; i++) {
        sb_printf(&b, ",%d", iv[i]->n);
        csv_num(&b, iv[i]->mean), csv_num(&b, iv[i]->half), csv_num(&b, iv[i]->lo), csv_num(&b, iv[i]->hi);
    }
    sb_printf(&b, ",%d", e->drawn_n);
    csv_num(&b, e->drawn_n ? (double)e->drawn / e->drawn_n : NAN);
    return b.s;
}

// ---------------------------------------------------------------- JSON

char *emu_report_json(const EmuStats *s) {
    const EmuResult *r = s->r;
    StrBuf b = {0};
    sb_printf(&b, "\"emulation\": {\n    \"game_aware\": %s, \"game_reason\": ", r->game ? "true" : "false");
    json_str(&b, r->game_reason);
    sb_printf(&b, ",\n    \"other_actions\": %s,\n    \"piece_drawn_rule\": \"L1(row, true | piece) < %g * "
           "L1(no_piece, true | piece), contrast >= %g\",\n    \"rows\": [\n",
       r->other_ok ? "true" : "false", EMU_PIECE_DRAWN_FRACTION, EMU_PIECE_MIN_CONTRAST);
    for (int j = 0; j < s->n_steps; j++)
        for (int w = 0; w < EMU_ROWS; w++) {
            const EmuRowStats *e = &s->rows[j * EMU_ROWS + w];
            sb_printf(&b, "      {\"step\": %d, \"row\": \"%s\", ", s->steps[j], ROW_NAMES[w]);
            json_interval(&b, "changed_l1", &e->changed, JSON_IV_N), sb_printf(&b, ", ");
            json_interval(&b, "dpsnr_other", &e->dpsnr_other, JSON_IV_N), sb_printf(&b, ", ");
            json_interval(&b, "dpsnr_none", &e->dpsnr_none, JSON_IV_N), sb_printf(&b, ", ");
            json_interval(&b, "liveliness", &e->live, JSON_IV_N), sb_printf(&b, ", ");
            json_interval(&b, "liveliness_true", &s->live_true[j], JSON_IV_N), sb_printf(&b, ", ");
            json_interval(&b, "piece_l1", &e->piece_l1, JSON_IV_N);
            sb_printf(&b, ", \"piece_drawn_n\": %d, \"piece_drawn_share\": ", e->drawn_n);
            json_num(&b, e->drawn_n ? (double)e->drawn / e->drawn_n : NAN);
            sb_printf(&b, "}%s\n", j == s->n_steps - 1 && w == EMU_ROWS - 1 ? "" : ",");
        }
    sb_printf(&b, "    ],\n    \"spawn_test\": ");
    if (!r->spawn_done) {
        sb_printf(&b, "{\"available\": false, \"reason\": ");
        json_str(&b, r->spawn_reason);
        sb_printf(&b, "},\n");
    } else
        sb_printf(&b, "{\"available\": true, \"steps\": %d, \"starts\": %d, \"eligible\": %d, \"model\": %d, "
                      "\"engine\": %d},\n", r->spawn_k, r->spawn_n, r->spawn_eligible, r->spawn_model, r->spawn_engine);
    sb_printf(&b, "    \"direction_test\": ");
    if (!r->dir_done) {
        sb_printf(&b, "{\"available\": false, \"reason\": ");
        json_str(&b, r->dir_reason);
        sb_printf(&b, "}\n  }");
        return b.s;
    }
    sb_printf(&b, "{\"available\": true, \"steps\": %d, \"starts\": %d, \"eligible\": %d, \"min_move_cells\": %g", r->dir_k,
       r->dir_n, r->dir_eligible, EMU_MOVE_CELLS);
    for (int d = 0; d < r->dir_rows; d++)
        sb_printf(&b, ", \"%s\": {\"model\": %d, \"engine\": %d}", emu_direction_name((EmuDirection)d), r->dir_model[d],
           r->dir_engine[d]);
    sb_printf(&b, "}\n  }");
    return b.s;
}
