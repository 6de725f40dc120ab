/*
 * emu_run.c - the trained emulator of a run folder (see emu_run.h): the run, its config and
 * checkpoints, checked against each other, and the two models loaded from them.
 */
#include "src/emu_run.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "base/h5.h"
#include "nn/dyn_conv.h"   // ckpt_meta_*conv_dyn*, dynm_init_from_meta

int readable(const char *path) { return path && path[0] && access(path, R_OK) == 0; }

// The game of run folder runs/<name>: the root attribute game of its data file (data.path of its
// config.ini), else data.generate's built-in game; "" when neither is known.
static void run_game(const char *name, char *game, size_t cap) {
    char p[PATH_MAX];
    Config c;
    Err err = {{0}};
    game[0] = 0;
    snprintf(p, sizeof p, "runs/%s/config.ini", name);
    if (!readable(p) || config_load(&c, p, 0, NULL, &err) < 0) return;
    char files[CFG_MAX_FILES][CFG_STR];
    if (cfg_data_files(&c, files) > 1) return;   // a run of several games is none of them
    if (readable(c.data.path)) {
        hid_t f = h5_open(c.data.path, 0, &err);
        if (f >= 0) {
            if (h5_attr_exists(f, "/", "game") && h5_attr_read_str(f, "/", "game", game, cap, &err) < 0) game[0] = 0;
            h5_close(f);
        }
    }
    if (!game[0] && cfg_generate_game(c.data.generate)) snprintf(game, cap, "%s", cfg_generate_game(c.data.generate));
}

// The runs/*/ whose checkpoint `ckpt` (dyn_best.h5, ae_best.h5) was modified last (ties: the
// greater name), of that game when game is not NULL (run_game), into dir.
static void find_last_run(char *dir, size_t cap, const char *ckpt, const char *game) {
    int dyn = !strcmp(ckpt, "dyn_best.h5");
    const char *model = dyn ? "a dynamics model" : "an autoencoder";
    DIR *d = opendir("runs");
    if (!d) die("no runs/ folder in %s: train %s first (e.g. ./train configs/tetris_quick.ini) or pass --run DIR",
                getcwd(dir, cap) ? dir : ".", model);
    struct dirent *ent;
    int n_runs = 0, found = 0;
    struct timespec best = {0, 0};
    char best_name[256] = "";
    while ((ent = readdir(d))) {
        if (ent->d_name[0] == '.' || strstr(ent->d_name, ".tmp.")) continue;
        char p[PATH_MAX];
        struct stat st;
        snprintf(p, sizeof p, "runs/%s", ent->d_name);
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        n_runs++;
        snprintf(p, sizeof p, "runs/%s/%s", ent->d_name, ckpt);
        if (stat(p, &st) != 0) continue;
        if (game) {
            char g[64];
            run_game(ent->d_name, g, sizeof g);
            if (strcmp(g, game)) continue;
        }
        struct timespec t = st.st_mtim;
        int newer = !found || t.tv_sec > best.tv_sec || (t.tv_sec == best.tv_sec && t.tv_nsec > best.tv_nsec) ||
                    (t.tv_sec == best.tv_sec && t.tv_nsec == best.tv_nsec && strcmp(ent->d_name, best_name) > 0);
        if (newer && strlen(ent->d_name) < sizeof best_name) {
            best = t, found = 1;
            snprintf(best_name, sizeof best_name, "%s", ent->d_name);
        }
    }
    closedir(d);
    if (!n_runs) die("runs/ holds no run: train %s first (e.g. ./train configs/tetris_quick.ini) or pass --run DIR", model);
    if (!found && game)
        die("--game %s: none of the %d runs in runs/ with %s (%s) is of the game %s (the root attribute game of its "
            "data file, or its data.generate): train one (e.g. ./train configs/%s_ae.ini, then a dynamics config) or pass --run DIR",
            game, n_runs, ckpt, model, game, game);
    if (!found && dyn)
        die("none of the %d runs in runs/ has a dynamics checkpoint (dyn_best.h5): train one (train.stage = dynamics "
            "or both) or pass --run DIR", n_runs);
    if (!found) die("none of the %d runs in runs/ has an autoencoder checkpoint (%s): train one or pass --run DIR", n_runs, ckpt);
    snprintf(dir, cap, "runs/%s", best_name);
}

// Run folder given by --run (checked), or the newest one holding ckpt.
void resolve_run(const char *opt_run, char *run_dir, size_t cap, const char *ckpt) {
    if (!opt_run) {
        find_last_run(run_dir, cap, ckpt, NULL);
        return;
    }
    snprintf(run_dir, cap, "%s", opt_run);
    size_t n = strlen(run_dir);
    while (n > 1 && run_dir[n - 1] == '/') run_dir[--n] = 0;
    struct stat st;
    if (stat(run_dir, &st) != 0 || !S_ISDIR(st.st_mode)) die("--run %s: no such run folder", opt_run);
}

void resolve_game_run(const char *game, char *run_dir, size_t cap) { find_last_run(run_dir, cap, "dyn_best.h5", game); }

int emu_run_games(const EmuRun *R, char names[][64]) {
    char files[CFG_MAX_FILES][CFG_STR];
    const int n_files = cfg_data_files(&R->cfg, files);
    if (n_files <= 1) return 0;
    const CkptAttr *a = ckpt_get(&R->dmeta, "games");
    if (!a || a->type != CKPT_STR)
        die("%s: config.ini lists %d files in data.path but the dynamics checkpoint %s records no games "
            "(attribute games): the run is not a multi-game run of this nemu", R->run_dir, n_files, R->dyn_path);
    int n = 0;
    for (const char *p = a->s; *p && n < CFG_MAX_FILES;) {
        size_t len = strcspn(p, ",");
        snprintf(names[n++], 64, "%.*s", (int)(len < 63 ? len : 63), p);
        p += len + (p[len] == ',');
    }
    if (n != n_files)
        die("%s: the dynamics checkpoint records %d games (%s) but config.ini lists %d files in data.path", R->run_dir,
            n, a->s, n_files);
    return n;
}

int emu_run_game_index(const EmuRun *R, char names[][64], int n, const char *name, const char *opt) {
    for (int g = 0; g < n; g++)
        if (!strcmp(names[g], name)) return g;
    char list[CFG_MAX_FILES * 66] = "";
    for (int g = 0; g < n; g++) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", g ? ", " : "", names[g]);
    die("%s %s: %s has no game of that name (its games: %s)", opt, name, R->run_dir, list);
}

void emu_run_open(const char *opt_run, EmuRun *R) {
    memset(R, 0, sizeof *R);
    Err err = {{0}};
    resolve_run(opt_run, R->run_dir, sizeof R->run_dir, "dyn_best.h5");
    R->run_name = strrchr(R->run_dir, '/') ? strrchr(R->run_dir, '/') + 1 : R->run_dir;
    snprintf(R->dyn_path, sizeof R->dyn_path, "%s/dyn_best.h5", R->run_dir);
    snprintf(R->cfg_path, sizeof R->cfg_path, "%s/config.ini", R->run_dir);
    snprintf(R->split_path, sizeof R->split_path, "%s/split.txt", R->run_dir);
    if (!readable(R->dyn_path))
        die("%s: no dynamics checkpoint (dyn_best.h5): an autoencoder-only or unfinished run; use a run "
            "trained with train.stage = dynamics or both", R->run_dir);
    if (!readable(R->cfg_path)) die("%s: no config.ini: not a run folder of ./train", R->run_dir);
    if (config_load(&R->cfg, R->cfg_path, 0, NULL, &err) < 0) die("%s", err.msg);
    R->chash = config_hash(&R->cfg);
    if (R->cfg.train.stage == STAGE_AUTOENCODER)
        die("%s: config.ini says train.stage = autoencoder: it has no dynamics model", R->run_dir);
    R->stochastic = R->cfg.dynamics.type == DYN_VAE || R->cfg.dynamics.hypotheses > 1;
    if (checkpoint_read_meta(R->dyn_path, &R->dmeta, &err) < 0) die("%s", err.msg);
    if (strcmp(R->dmeta.model, "dynamics"))
        die("%s: a '%s' checkpoint, expected dynamics", R->dyn_path, R->dmeta.model);
    R->dyn_Z = 0, R->dyn_vae = 0, R->dyn_A = 0, R->dyn_hyp = 1, R->dyn_history = 0;
    char dhist[DYN_HIST_MAX * 5] = "0", chist[DYN_HIST_MAX * 5];   // the history as dynamics.history writes it
    dyn_hist_offsets_text(R->cfg.dynamics.history_off, R->cfg.dynamics.history, chist, sizeof chist);
    if (ckpt_meta_is_conv_dyn(&R->dmeta)) {
        ConvDynConfig cc;
        if (ckpt_meta_to_conv_dyn_config(&R->dmeta, &cc, &err) < 0) die("%s: %s", R->dyn_path, err.msg);
        R->dyn_Z = cc.channels * cc.height * cc.width, R->dyn_vae = cc.vae, R->dyn_A = cc.n_actions;
        R->dyn_hyp = cc.hyp, R->dyn_history = cc.history;
        dyn_hist_offsets_text(cc.hist_off, cc.history, dhist, sizeof dhist);
    } else {
        DynConfig dc;
        if (ckpt_meta_to_dyn_config(&R->dmeta, &dc, &err) < 0) die("%s: %s", R->dyn_path, err.msg);
        R->dyn_Z = dc.latent_dim, R->dyn_vae = dc.vae, R->dyn_A = dc.n_actions;
    }
    if (R->dyn_hyp != R->cfg.dynamics.hypotheses)
        die("%s holds a dynamics model of %d hypotheses but %s says dynamics.hypotheses = %d", R->dyn_path,
            R->dyn_hyp, R->cfg_path, R->cfg.dynamics.hypotheses);
    if (strcmp(dhist, chist))
        die("%s holds a dynamics model with history = %s but %s says dynamics.history = %s", R->dyn_path, dhist,
            R->cfg_path, chist);
    if (R->dyn_vae != (R->cfg.dynamics.type == DYN_VAE))
        die("%s holds a %s dynamics model but %s says dynamics.type = %s", R->dyn_path,
            R->dyn_vae ? "vae" : "deterministic",
            R->cfg_path, R->cfg.dynamics.type == DYN_VAE ? "vae" : "deterministic");
    const CkptAttr *hattr = ckpt_get(&R->dmeta, "config_hash");
    if (hattr && hattr->type == CKPT_I64 && (uint64_t)hattr->i != R->chash)
        warn("%s was trained with another config than %s (config hash %016llx, file %016llx)", R->dyn_path, R->cfg_path,
             (unsigned long long)(uint64_t)hattr->i, (unsigned long long)R->chash);
    R->ae_path[0] = 0;
    char run_ae[PATH_MAX + 32];
    snprintf(run_ae, sizeof run_ae, "%s/ae_best.h5", R->run_dir);
    const CkptAttr *aattr = ckpt_get(&R->dmeta, "autoencoder");
    const char *named = aattr && aattr->type == CKPT_STR ? aattr->s : R->cfg.model.autoencoder;
    const char *cands[3] = {R->cfg.train.stage == STAGE_BOTH ? run_ae : NULL, named, run_ae};
    for (int i = 0; i < 3 && !R->ae_path[0]; i++)
        if (readable(cands[i])) snprintf(R->ae_path, sizeof R->ae_path, "%s", cands[i]);
    if (!R->ae_path[0])
        die("%s: cannot find its autoencoder: '%s' is not readable here and %s has no ae_best.h5 (run from "
            "the folder ./train ran in)", R->dyn_path, named, R->run_dir);
    if (checkpoint_read_meta(R->ae_path, &R->ameta, &err) < 0) die("%s", err.msg);
    if (ckpt_meta_to_ae_config(&R->ameta, &R->ac, &err) < 0) die("%s: %s", R->ae_path, err.msg);
    if (R->ac.latent_dim != R->dyn_Z)
        die("%s has latent_dim %d but the dynamics model %s takes %d", R->ae_path, R->ac.latent_dim, R->dyn_path,
            R->dyn_Z);
}

void emu_run_models(const EmuRun *R, int max_B, Rng *rng, AE *ae, DynModel *dyn) {
    Err err = {{0}};
    CkptMeta ameta = R->ameta, dmeta = R->dmeta;
    if (ae_init(ae, &R->ac, max_B, rng, &err) < 0) die("%s: %s", R->ae_path, err.msg);
    if (checkpoint_load(R->ae_path, &ae->arena, "autoencoder", &ameta, &err) < 0) die("%s", err.msg);
    if (dynm_init_from_meta(dyn, &dmeta, max_B, 1, rng, NULL, NULL, &err) < 0) die("%s: %s", R->dyn_path, err.msg);
    if (checkpoint_load(R->dyn_path, dynm_arena(dyn), "dynamics", &dmeta, &err) < 0) die("%s", err.msg);
}
