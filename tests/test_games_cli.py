#!/usr/bin/env python3
"""test_games_cli.py - the configs of the side-scroller and the maze game (configs/scroller_*.ini,
configs/maze_*.ini) as they are, on a tiny recording (seconds):

  1. each autoencoder config records its game's data (data.generate) and trains one epoch;
  2. each dynamics config trains one epoch on that autoencoder;
  3. ./eval on a dynamics run finds the game's own knowledge (the episodes re-simulated with
     the recorded seeds, frame for frame): the game-aware measures are available, with the
     game's own direction test;
  4. ./play --game NAME plays the newest dynamics run of that game; a game without a run is
     refused in one line.
"""
import os
import subprocess
import sys

from nemutest import BIN, ROOT, check, run_in_tempdir

TINY = ["--set", "data.gen_episodes=3", "--set", "data.gen_steps=24", "--set", "data.test_episodes=1",
        "--set", "data.val_split=0.5", "--set", "train.epochs=1", "--set", "train.batch_size=8"]
GAMES = {"scroller": ("scroller_ae", ["scroller_dynamics"]), "maze": ("maze_ae", ["maze_hyp", "maze_vae"])}


def run(prog, args, cwd, timeout=300):
    return subprocess.run([os.path.join(BIN, prog)] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def body(tmp):
    for game, (ae, dyns) in GAMES.items():
        r = run("train", [os.path.join(ROOT, "configs", ae + ".ini")] + TINY, tmp)
        if not check(r.returncode == 0, f"{ae}: {r.stderr[-400:]}"):
            continue
        check(os.path.exists(os.path.join(tmp, "data", game + ".h5")), f"{ae} recorded data/{game}.h5")
        check(f"generating it with the built-in game {game}" in r.stderr, f"{ae} says it records {game}")
        check(os.path.exists(os.path.join(tmp, "runs", ae, "ae_best.h5")), f"{ae}: ae_best.h5")
        for dyn in dyns:
            r = run("train", [os.path.join(ROOT, "configs", dyn + ".ini"), "--set", "train.batch_size=4"] + TINY[:-2], tmp)
            if not check(r.returncode == 0, f"{dyn}: {r.stderr[-400:]}"):
                continue
            check(os.path.exists(os.path.join(tmp, "runs", dyn, "dyn_best.h5")), f"{dyn}: dyn_best.h5")
        r = run("eval", ["--run", os.path.join("runs", dyns[-1]), "--episodes", "1", "--starts", "1", "--steps", "1,2",
                         "--out", os.path.join(tmp, "res_" + game)], tmp)
        if not check(r.returncode == 0, f"./eval {dyns[-1]}: {r.stderr[-400:]}"):
            continue
        js = open(os.path.join(tmp, "res_" + game, "eval.json")).read()
        check('"game_aware": true' in js, f"./eval {dyns[-1]}: the game's knowledge is available: " + js[:600])
        md = open(os.path.join(tmp, "res_" + game, "eval.md")).read()
        check("where the %s moves freely" % ("runner" if game == "scroller" else "eater") in md or
              "no start frame where the" in md, f"./eval {dyns[-1]}: the game's own direction test")
    for game in GAMES:
        r = run("play", ["--game", game, "--policy", "idle", "--steps", "2", "--gif", os.path.join(tmp, game + ".gif")], tmp)
        check(r.returncode == 0 and f"data/{game}.h5" in r.stderr, f"./play --game {game}: {r.stderr[-300:]}")
    r = run("play", ["--game", "tetris", "--policy", "idle", "--steps", "2", "--gif", os.path.join(tmp, "t.gif")], tmp)
    check(r.returncode != 0 and r.stderr.count("\n") == 1 and "of the game tetris" in r.stderr,
          "./play --game without a run of that game: one line: " + r.stderr)


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_games_", programs=("gen", "train", "eval", "play")))
