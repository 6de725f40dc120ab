/*
 * eval_games.c - ./eval on a run of several games (roadmap 5.3; data.path lists one file per
 * game, the dynamics takes the game as input): the game --game names, or each game in turn
 * (in this process, as `./eval --game G --out <out>/G` would: every game gets the whole
 * single-game evaluation, its test episodes, its game-aware measures, its pictures), then one
 * summary table of SSIM and L1 per game and step (stdout, <out>/eval.md and <out>/eval.csv).
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
#include "evaluation/report_fmt.h"   // csv_num: %.9g, empty when not finite (as eval.csv)
#include "src/eval.h"
#include "src/run.h"   // write_file_atomic, mkdir_p

#define MAX_GAMES CFG_MAX_FILES

int eval_game_index(const EmuRun *R, int n_files, const char *game, const char *data) {
    if (n_files <= 1) {
        if (game) die("--game %s: %s is a run of one game (data.path = %s); --game picks a game of a run of several",
                      game, R->run_dir, R->cfg.data.path);
        return 0;
    }
    char names[MAX_GAMES][64];
    int n = emu_run_games(R, names);
    if (!game) {
        if (data) die("--data %s: %s is a run of %d games: give --game NAME too (the game whose input the file's "
                      "actions get)", data, R->run_dir, n);
        return -1;
    }
    return emu_run_game_index(R, names, n, game, "--game");
}

int eval_games_main(const EmuRun *R, const char *out, EvalGameFn eval_one, void *ctx) {
    char names[MAX_GAMES][64], dir[PATH_MAX], sub[MAX_GAMES][PATH_MAX + 72];   // sub: <dir>/<game>
    const int n = emu_run_games(R, names);
    EvalGameRow rows[MAX_GAMES][CFG_MAX_STEPS];
    int n_rows[MAX_GAMES];
    int len = out ? snprintf(dir, sizeof dir, "%s", out) : snprintf(dir, sizeof dir, "results/%s", R->run_name);
    if (len < 0 || (size_t)len >= sizeof dir) die("--out %s: path too long", out ? out : R->run_name);
    for (int g = 0; g < n; g++) {
        if (snprintf(sub[g], sizeof sub[g], "%s/%.63s", dir, names[g]) >= (int)sizeof sub[g]) die("--out %s: path too long", dir);
        n_rows[g] = eval_one(ctx, g, sub[g], rows[g]);
    }
    StrBuf md = {0}, csv = {0};
    sb_printf(&md, "\n# %s: %d games, each on its own test episodes\n\n", R->run_dir, n);
    sb_printf(&md, "SSIM (mean ± 95%% interval over start points) and L1 per game and rollout step; each game's full "
              "tables are in %s/<game>/eval.md.\n\n", dir);
    sb_printf(&md, "| game | step | model SSIM | copy SSIM | recon SSIM | model L1 | copy L1 | recon L1 |\n");
    sb_printf(&md, "|---|---:|---:|---:|---:|---:|---:|---:|\n");
    sb_printf(&csv, "game,step,model_ssim,model_ssim_ci95,copy_ssim,copy_ssim_ci95,recon_ssim,recon_ssim_ci95,"
              "model_l1,copy_l1,recon_l1\n");
    for (int g = 0; g < n; g++) {
        for (int i = 0; i < n_rows[g]; i++) {
            const EvalGameRow *r = &rows[g][i];
            sb_printf(&md, "| %s | %d |", names[g], r->step);
            sb_printf(&csv, "%s,%d", names[g], r->step);
            for (int k = 0; k < 3; k++) {   // no interval from one start point: the mean alone, as eval.md has it
                if (isfinite(r->ci[k])) sb_printf(&md, " %.3f ± %.3f |", r->ssim[k], r->ci[k]);
                else sb_printf(&md, " %.3f |", r->ssim[k]);
                csv_num(&csv, r->ssim[k]), csv_num(&csv, r->ci[k]);
            }
            sb_printf(&md, " %.4f | %.4f | %.4f |\n", r->l1[0], r->l1[1], r->l1[2]);
            csv_num(&csv, r->l1[0]), csv_num(&csv, r->l1[1]), csv_num(&csv, r->l1[2]);
            sb_printf(&csv, "\n");
        }
    }
    Err err = {{0}};
    char pm[PATH_MAX + 32], pc[PATH_MAX + 32];
    snprintf(pm, sizeof pm, "%s/eval.md", dir);
    snprintf(pc, sizeof pc, "%s/eval.csv", dir);
    if (write_file_atomic(pm, md.s, md.n, &err) < 0 || write_file_atomic(pc, csv.s, csv.n, &err) < 0) die("%s", err.msg);
    fputs(md.s, stdout);
    fprintf(stderr, "eval: %d games of %s; summary in %s/eval.md\n", n, R->run_dir, dir);
    free(md.s);
    free(csv.s);
    return 0;
}
