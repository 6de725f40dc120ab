#!/bin/sh
# tools/tetris_cell_chain.sh - trains the best Tetris model of the README (Wave 10, "events x3":
# the cell-aligned autoencoder that reads the digits and the history dynamics trained on its own
# 4-step rollouts with the game's big events drawn 3 times) from nothing, as it was trained:
# eleven ./train runs, each starting from the one before (--init). Run it from the repository
# root after `make` (or from a folder with configs/ in it, NEMU_BIN naming the folder of
# ./train); 70 minutes on 2 cores (2026-12-07: an AE epoch ~1 min, a 1-step dynamics epoch
# ~50 s, a 4-step one 5-6 min, the 8-step one 10 min). A stopped chain goes on where it
# stopped: every step is --resume-or-start. Then, as the README measures it:
#   ./eval --run runs/tetris_cell_events3 --reencode 10 --deadband 0.1
#   ./play --check --run runs/tetris_cell_events3 --reencode 10 --deadband 0.1
# Extra arguments (without spaces in them) go to every ./train (e.g. --set run.threads=1).
set -e
BIN=${NEMU_BIN:-.}
[ -x "$BIN/train" ] || { echo "tetris_cell_chain.sh: $BIN/train is missing; run make first" >&2; exit 1; }
[ -d configs ] || { echo "tetris_cell_chain.sh: no configs/ here; run it from the repository root" >&2; exit 1; }

step() {   # step CONFIG [ARGS...]: one ./train, stopped chain and all
    echo "== ./train $* --resume-or-start $EXTRA" >&2
    "$BIN/train" "$@" --resume-or-start $EXTRA
}
EXTRA="$*"
# 1. The autoencoder: a 32x30 latent grid, one latent cell per game cell (3 epochs), then 8
#    epochs with the score, lines and level digits weighed x101 (configs/tetris_hud_mask.png).
step configs/tetris_cell_ae.ini
step configs/tetris_cell_ae_digits.ini --init runs/tetris_cell_ae/ae_best.h5
# 2. Conv dynamics, 4 hypotheses, one step at a time, on the first autoencoder: 3 epochs at
#    lr 1e-3, 3 at 5e-4, 2 at 3e-4 (the best of the last two goes on).
step configs/tetris_cell_dynamics.ini
step configs/tetris_cell_dynamics.ini --set run.name=tetris_cell_dynamics2 --set train.lr=0.0005 \
    --init runs/tetris_cell_dynamics/dyn_last.h5
step configs/tetris_cell_dynamics.ini --set run.name=tetris_cell_dynamics3 --set train.epochs=2 \
    --set train.lr=0.0003 --init runs/tetris_cell_dynamics2/dyn_last.h5
# 3. A history of the 12 steps before (4 epochs), then 3 epochs on the digit autoencoder's latents.
step configs/tetris_cell_history.ini --init runs/tetris_cell_dynamics3/dyn_best.h5
step configs/tetris_cell_history_digits.ini --init runs/tetris_cell_history/dyn_best.h5
# 4. Training on its own rollouts: 4-step windows, then 8 (one epoch each).
step configs/tetris_cell_rollout4.ini --init runs/tetris_cell_history_digits/dyn_best.h5
step configs/tetris_cell_rollout8.ini --init runs/tetris_cell_rollout4/dyn_best.h5
# 5. The history's twelve planes spread to 48 steps back (Tetris' pause), 4-step windows; then
#    one more epoch with the big events drawn 3 times.
step configs/tetris_cell_pause.ini --init runs/tetris_cell_rollout8/dyn_best.h5
step configs/tetris_cell_events.ini --set run.name=tetris_cell_events3 --set dynamics.event_weight=3 \
    --init runs/tetris_cell_pause/dyn_best.h5
echo "tetris_cell_chain.sh: done; the model is runs/tetris_cell_events3" >&2
