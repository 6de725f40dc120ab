/*
 * eval_games.c - ./eval on a run of several games (roadmap 5.3; data.path lists one file per
 * game, the dynamics takes the game as input): the game --game names, or each game in turn
 * (this program again with --game G --out <out>/G, so every game gets the whole single-game
 * evaluation: its test episodes, its game-aware measures, its pictures), then one summary
 * table of SSIM and L1 per game and step (stdout, <out>/eval.md and <out>/eval.csv).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/err.h"
#include "base/strbuf.h"
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

// One game: argv again with --game NAME --out DIR (the last --out wins), as a child.
static void run_one(int argc, char **argv, const char *game, const char *dir) {
    char **av = xmalloc((size_t)(argc + 5) * sizeof(char *));
    for (int i = 0; i < argc; i++) av[i] = argv[i];
    av[argc] = "--game", av[argc + 1] = (char *)game, av[argc + 2] = "--out", av[argc + 3] = (char *)dir;
    av[argc + 4] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) die("cannot start the evaluation of game %s: %s", game, strerror(errno));
    if (pid == 0) {
        execv("/proc/self/exe", av);
        fprintf(stderr, "eval: cannot run /proc/self/exe: %s\n", strerror(errno));
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    free(av);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        die("the evaluation of game %s failed (%s %d); the games before it are in their folders", game,
            WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

typedef struct { int step; double ssim[3], ci[3], l1[3]; } Row;   // model, copy, recon

// The model / copy / recon rows of a game's eval.csv, per step; returns how many steps.
static int read_rows(const char *path, Row *rows, int cap) {
    FILE *f = fopen(path, "r");
    if (!f) die("%s: %s", path, strerror(errno));
    char *line = NULL;
    size_t lc = 0;
    int n = 0;
    if (getline(&line, &lc, f) < 0) die("%s: empty", path);   // header
    while (getline(&line, &lc, f) > 0) {
        char kind[16];
        int step, cnt;
        double v[13];
        if (sscanf(line, "%d,%15[^,],%d,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &step, kind, &cnt, &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]) != 11)
            continue;
        int r = !strcmp(kind, "model") ? 0 : !strcmp(kind, "copy") ? 1 : !strcmp(kind, "recon") ? 2 : -1;
        if (r < 0) continue;
        if (n == 0 || rows[n - 1].step != step) {
            if (n == cap) break;
            memset(&rows[n], 0, sizeof rows[n]);
            rows[n++].step = step;
        }
        rows[n - 1].l1[r] = v[0], rows[n - 1].ssim[r] = v[5], rows[n - 1].ci[r] = v[7];   // l1_mean, ssim_mean, ssim_ci95
    }
    free(line);
    fclose(f);
    if (n == 0) die("%s: no model, copy or recon rows", path);
    return n;
}

int eval_games_main(int argc, char **argv, const EmuRun *R, const char *out) {
    char names[MAX_GAMES][64], dir[PATH_MAX], sub[MAX_GAMES][PATH_MAX + 72];   // sub: <dir>/<game>
    const int n = emu_run_games(R, names);
    int len = out ? snprintf(dir, sizeof dir, "%s", out) : snprintf(dir, sizeof dir, "results/%s", R->run_name);
    if (len < 0 || (size_t)len >= sizeof dir) die("--out %s: path too long", out ? out : R->run_name);
    for (int g = 0; g < n; g++) {
        if (snprintf(sub[g], sizeof sub[g], "%s/%.63s", dir, names[g]) >= (int)sizeof sub[g]) die("--out %s: path too long", dir);
        run_one(argc, argv, names[g], sub[g]);
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
        char p[PATH_MAX + 96];   // <sub>/eval.csv
        Row rows[CFG_MAX_STEPS];
        if (snprintf(p, sizeof p, "%.*s/eval.csv", PATH_MAX + 72, sub[g]) >= (int)sizeof p) die("%s: path too long", sub[g]);
        int m = read_rows(p, rows, CFG_MAX_STEPS);
        for (int i = 0; i < m; i++) {
            const Row *r = &rows[i];
            sb_printf(&md, "| %s | %d | %.3f ± %.3f | %.3f ± %.3f | %.3f ± %.3f | %.4f | %.4f | %.4f |\n", names[g], r->step,
                      r->ssim[0], r->ci[0], r->ssim[1], r->ci[1], r->ssim[2], r->ci[2], r->l1[0], r->l1[1], r->l1[2]);
            sb_printf(&csv, "%s,%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g\n", names[g], r->step, r->ssim[0], r->ci[0],
                      r->ssim[1], r->ci[1], r->ssim[2], r->ci[2], r->l1[0], r->l1[1], r->l1[2]);
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
