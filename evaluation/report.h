/*
 * report.h - the result files of ./eval (SPEC.md section 6) built from a RolloutResult:
 *
 *   report_markdown  a short provenance list and the table | step | row | L1 | SSIM | PSNR |,
 *                    three rows (model, copy, recon) per requested step, each cell
 *                    "mean ± half-width of the 95% Student-t interval" over start points
 *                    (printed on stdout and saved as eval.md); with rep->paired, a second
 *                    table: model minus copy per step, paired over the start points
 *   report_csv       step,row,n,{l1,ssim,psnr}_{mean,sd,ci95,lo,hi}  one line per table row
 *   report_starts_csv  start,episode,t,step,{model,copy}_{ssim,l1}: one line per start point and
 *                    step (starts.csv), to find the rollouts that lose to copy
 *   report_json      everything machine-readable: run, checkpoints, config hash, data file,
 *                    split, seed, steps, start points, per-row statistics (NaN -> null),
 *                    and "paired" (model against copy) with rep->paired
 *   report_plot      SSIM (top) and L1 (bottom) against step for model, copy and recon
 * With rep->emu set, each also carries the emulation measures (emu_report.h): a second
 * Markdown table and the direction test, extra CSV columns per row, an "emulation" object.
 * The text builders return malloc'ed NUL-terminated strings; nothing here touches the disk
 * except report_plot (atomic PNG write).
 */
#ifndef NEMU_REPORT_H
#define NEMU_REPORT_H

#include <stdint.h>
#include "evaluation/emu_report.h"
#include "evaluation/rollout.h"
#include "base/err.h"

typedef enum { ROW_MODEL, ROW_COPY, ROW_RECON, ROW_KINDS } RowKind;
const char *row_name(RowKind k);   // "model", "copy", "recon"

typedef struct { Interval l1, ssim, psnr; } RowStats;

// The model against copy, start point by start point (a paired comparison: the two rows share
// their start points, so the differences' interval is far narrower than the rows' own).
typedef struct {
    Interval dssim;    // SSIM(model) - SSIM(copy) over the start points
    Interval dl1;      // L1(copy) - L1(model): > 0 where the model is closer
    int ssim_above;    // start points where the model's SSIM is above copy's
} PairedStats;

typedef struct {
    // provenance (strings are borrowed)
    const char *run_dir, *run_name;   // runs/<name>, <name>
    const char *dyn_ckpt, *ae_ckpt;
    uint64_t config_hash;             // config_hash() of the run's config.ini
    const char *data_path;
    int C, H, W;                      // frames after preprocessing
    const char *split_kind;           // "test" (the run's held-out episodes) or "all" (--data: another file)
    uint64_t split_seed;              // run.seed that made the split
    const int *eval_ids;              // file ids (the i of /episode_<i>) of the episodes evaluated
    int n_eval_eps;
    int n_split_eps;                  // episodes in the split's test list (or all of the file)
    int skipped_eps;                  // evaluated episodes too short for the longest step
    uint64_t seed;                    // start-point seed
    int starts;                       // start points per episode asked for
    const StartPoint *sp;             // [n_starts] (e = episode index)
    const int *sp_ids;                // [n_starts] file id of each start's episode
    int n_starts;
    double compose;                   // dynamics.compose the model row was drawn with (0: decoded frames)
    double deadband;                  // dynamics.deadband of the model's rollouts (0: none)
    int reencode;                     // dynamics.reencode of the model's rollouts (0: none)
    HypOracle hyp_oracle;             // ./eval --hyp-oracle (the model row fed the nearest candidate)
    long hyp_choices, hyp_agree;      //   its choices, and those where the most probable was the nearest
    int hyp_cell;                     //   1: the model chooses per cell (its choices are cells that count)
    const int *steps;
    int n_steps;
    RowStats *rows;                   // [n_steps][ROW_KINDS]
    PairedStats *paired;              // [n_steps] model against copy (NULL: no such section)
    const EmuStats *emu;              // emulation measures (emu_report.h), appended when not NULL
} EvalReport;

// rows[j * ROW_KINDS + k] from a RolloutResult (malloc'ed; free()).
RowStats *report_rows(const RolloutResult *r);
// [n_steps] model against copy, paired over the start points (malloc'ed; free()).
PairedStats *report_paired(const RolloutResult *r);

char *report_markdown(const EvalReport *rep);
char *report_csv(const EvalReport *rep);
char *report_starts_csv(const EvalReport *rep, const RolloutResult *r);
char *report_json(const EvalReport *rep);
int report_plot(const char *path, const EvalReport *rep, Err *err);

#endif
