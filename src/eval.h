/*
 * eval.h - what ./eval's modes share: src/eval.c (--compare and the rollout evaluation) and
 * src/eval_recon.c (--recon).
 */
#ifndef NEMU_EVAL_H
#define NEMU_EVAL_H

#include <stddef.h>
#include <stdio.h>
#include "src/emu_run.h"   // readable, resolve_run

#define EVAL_BATCH 64          // rollouts (--recon: frames) per batch through the models
#define RECON_MAX_FRAMES 256   // --recon: frames of one picture

void usage(FILE *f);                 // ./eval --help
int eval_recon_main(int argc, char **argv);   // ./eval --recon ...
// A run of several games (src/eval_games.c): the index of --game NAME among the games its
// dynamics checkpoint records (attribute games), or -1 when no --game was given (evaluate each);
// 0 for a run of one game. Dies in one line on a name not in the run, --game on a run of one
// game, or --data without --game on a run of several.
int eval_game_index(const EmuRun *R, int n_files, const char *game, const char *data);
// One game's rows of the summary: SSIM (mean, half-width of its 95% interval) and L1 (mean) of the
// model, copy and recon rows (ROW_MODEL, ROW_COPY, ROW_RECON) at one rollout step.
typedef struct { int step; double ssim[3], ci[3], l1[3]; } EvalGameRow;
// Evaluates game `game` of the run into out_dir as `./eval --game G --out out_dir` would (every file,
// the tables on stdout; dies in one line on a problem); its rows into rows[], returns how many.
typedef int (*EvalGameFn)(void *ctx, int game, const char *out_dir, EvalGameRow *rows);
// ./eval on a run of several games without --game: eval_one for each game G into <out>/G, in this
// process, then the summary table of all (stdout and <out>/eval.md, eval.csv).
int eval_games_main(const EmuRun *R, const char *out, EvalGameFn eval_one, void *ctx);

#endif
