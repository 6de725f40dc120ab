/*
 * emu_report.h - the emulation measures of an EmuResult (emulation_eval.h) as statistics
 * and as text for ./eval's eval.md, eval.csv and eval.json (report.c appends them).
 *
 * Each statistic is the mean and 95% Student-t interval over the start points where it is
 * defined (changed-pixel L1: frame t+k differs from frame t; piece measures: frame t+k has a
 * visible piece in the air); n says how many. ΔPSNR of the copy and recon rows is 0 by
 * construction (they do not take actions).
 */
#ifndef NEMU_EMU_REPORT_H
#define NEMU_EMU_REPORT_H

#include "evaluation/emulation_eval.h"
#include "evaluation/rollout.h"

typedef struct {
    Interval changed, dpsnr_other, dpsnr_none, live, piece_l1;
    int drawn, drawn_n;   // piece drawn in `drawn` of `drawn_n` measurable frames
} EmuRowStats;

typedef struct {
    const EmuResult *r;
    int n_steps;
    const int *steps;
    EmuRowStats *rows;    // [n_steps][EMU_ROWS]
    Interval *live_true;  // [n_steps]
} EmuStats;

// Interval of the finite values of x[0..n) (NaN entries skipped; n of the result = count).
Interval interval95_finite(const double *x, int n);
void emu_stats_init(EmuStats *s, const EmuResult *r, const int *steps);
void emu_stats_free(EmuStats *s);

// Malloc'ed texts.
char *emu_report_markdown(const EmuStats *s);
const char *emu_report_csv_header(void);            // ",changed_l1_mean,..." (leading comma)
char *emu_report_csv_cells(const EmuStats *s, int j, int row);   // the same columns for one row
char *emu_report_json(const EmuStats *s);           // "\"emulation\": {...}" (no trailing comma)

#endif
