/*
 * emu_run.h - the trained emulator of a run folder, as ./eval and ./play load it: the run
 * (--run DIR, or the runs/<name>/ whose dyn_best.h5 is newest), its config.ini, the dynamics
 * checkpoint and the autoencoder it encodes with, their metadata checked against each other,
 * then both models with their weights.
 *
 *   EmuRun R;
 *   emu_run_open(opt_run, &R);                 // dies with one line on a bad run
 *   AE ae; DynModel dyn;
 *   emu_run_models(&R, B, &ae, &dyn);          // batches up to B, one rollout step slot
 *
 * Every failure is one line on stderr and exit 1 (die), before anything is written.
 */
#ifndef NEMU_EMU_RUN_H
#define NEMU_EMU_RUN_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "nn/checkpoint.h"   // CkptMeta
#include "nn/dynamics.h"     // DynModel
#include "nn/model.h"        // AE, AEConfig
#include "src/config.h"      // Config

typedef struct {
    char run_dir[PATH_MAX], dyn_path[PATH_MAX + 32], cfg_path[PATH_MAX + 32], split_path[PATH_MAX + 32];
    char ae_path[PATH_MAX + 32];
    const char *run_name;        // last component of run_dir
    Config cfg;
    uint64_t chash;              // config_hash(&cfg)
    int stochastic;              // config.ini says dynamics.type = vae or hypotheses > 1: T matters
    CkptMeta dmeta, ameta;
    int dyn_Z, dyn_vae, dyn_A, dyn_hyp;   // the dynamics model's latent size, VAE head (0/1), buttons, hypotheses
    int dyn_history;                      // its past latents (dynamics.history)
    AEConfig ac;
} EmuRun;

int readable(const char *path);      // a non-empty path this process may read
// Run folder given by --run (checked), or the newest runs/*/ holding checkpoint ckpt
// (dyn_best.h5, ae_best.h5), into run_dir.
void resolve_run(const char *opt_run, char *run_dir, size_t cap, const char *ckpt);
// The newest runs/*/ with dyn_best.h5 whose game is `game` (the root attribute game of its data
// file, else its data.generate), into run_dir; dies in one line when there is none.
void resolve_game_run(const char *game, char *run_dir, size_t cap);
// The run folder (opt_run, or the newest with dyn_best.h5), its config, the dynamics
// checkpoint and its autoencoder's metadata, checked against each other.
void emu_run_open(const char *opt_run, EmuRun *R);
// The games of a run of several (their names as its dynamics checkpoint records them, attribute
// games, in the order of the game columns) into names; returns how many, 0 for a run of one game.
// Dies in one line when the checkpoint and config.ini disagree.
int emu_run_games(const EmuRun *R, char names[][64]);
// The index of game `name` in names[0..n), or dies in one line listing the run's games.
int emu_run_game_index(const EmuRun *R, char names[][64], int n, const char *name, const char *opt);
// Both models of R for batches up to max_B (one step slot), weights loaded (checkpoint_load
// refuses a NaN or Inf, naming the file and the tensor). rng: their initialisation (overwritten).
void emu_run_models(const EmuRun *R, int max_B, Rng *rng, AE *ae, DynModel *dyn);

#endif
