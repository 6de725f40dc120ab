/*
 * train_data.c - ./train's data files (src/train.h): each file of data.path that is missing is
 * recorded first with the built-in game data.generate names for it (one per file when the
 * config lists several games), and says so.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "data/game.h"
#include "base/err.h"
#include "src/run.h"     // mkdir_p, signals
#include "src/train.h"

// Records file i of data.path with its built-in game when it is missing (data.generate).
static void ensure_file(const Config *c, const char *path, int i, int n) {
    if (access(path, R_OK) == 0) return;
    const CfgGenerate gen = cfg_data_generate(c, i);
    if (gen == GEN_NONE) {
        if (n > 1)
            die("%s: %s (file %d of data.path; data.generate = one game per file records the missing ones, e.g. "
                "tetris, scroller, maze)", path, strerror(errno), i + 1);
        die("%s: %s (set data.path to an episode file, or data.generate = tetris)", path, strerror(errno));
    }
    const GameDef *g = game_find(cfg_generate_game(gen));
    CHECK(g, "data.generate %d names no built-in game", (int)gen);
    // the data folder may not exist yet
    char dir[CFG_STR];
    snprintf(dir, sizeof dir, "%.*s", CFG_STR - 1, path);
    char *slash = strrchr(dir, '/');
    if (slash) { *slash = 0; mkdir_p(dir); }
    fprintf(stderr, "%s: %s is missing: generating it with the built-in game %s\n", progname(), path, g->name);
    Err err;
    signals_install();
    if (game_record(g, path, c->data.gen_episodes ? c->data.gen_episodes : g->episodes,
                    c->data.gen_steps ? c->data.gen_steps : g->steps, c->data.gen_seed ? c->data.gen_seed : GAME_SEED,
                    c->data.gen_frame_skip ? c->data.gen_frame_skip : g->frame_skip, signals_stop_requested, &err))
        die("generating %s failed: %s", path, err.msg);
}

void ensure_data(const Config *c) {
    char files[CFG_MAX_FILES][CFG_STR];
    const int n = cfg_data_files(c, files);
    for (int i = 0; i < n; i++) ensure_file(c, files[i], i, n);
}
