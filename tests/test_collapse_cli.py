#!/usr/bin/env python3
"""test_collapse_cli.py - training that cannot die silently, on a dark game (seconds).

Writes a small dark-background game with h5py (black screen, a bright sprite moved by the
buttons, a red one drifting, a dim frame, a floor and a growing bar: mean pixel 0.044),
then trains the default autoencoder at 32x32 (batch 16, seed 3, one thread, Adam at lr 3e-3:
at 1e-3 whether gymemu's init collapses depends on the seed and on the CPU's rounding: on an
AVX-512 build seed 3 escapes after epoch 1 where it collapsed on others; at 3e-3 seeds 3-8 all
collapse, with OpenBLAS's Haswell and SkylakeX kernels alike, and data_mean trains):
  - model.output_bias = pytorch (gymemu's init): the stage collapses (it draws one black
    frame: train L1 stays at the mean pixel), the detector warns with one line per epoch
    naming the cause and the layer (decoder_conv.4 saturated against the data), and stops
    after train.collapse_stop = 2 epochs with a non-zero exit, keeping ae_last.h5;
    log.csv carries grad_norm, out_saturated, out_saturated_wrong and dead_relu per layer
  - the default (model.output_bias = data_mean): no warning, val L1 < 0.02 after 3 epochs
  - train.changed_weight = 4 trains (its train loss is the weighted L1, above the plain one)
  - train.collapse_stop = 0 on the gymemu init: warnings only, all 3 epochs run
Skips without h5py/numpy.
"""
import os
import subprocess

from nemutest import BIN, check, run_in_tempdir, tiny_config

try:
    import h5py
    import numpy as np
except ImportError:
    h5py = None

CONFIG = tiny_config({"run": {"name": "{name}", "seed": 3, "threads": 1},
                      "data": {"test_episodes": 2, "val_split": None}, "model": None,
                      "train": {"stage": "autoencoder", "lr": 0.003, "epochs": 6}})


def dark_game(path, eps=12, steps=200, H=96, W=96):
    rng = np.random.default_rng(1)
    with h5py.File(path, "w") as f:
        for e in range(eps):
            g = f.create_group(f"episode_{e}")
            obs = np.zeros((steps + 1, H, W, 3), np.uint8)
            act = rng.integers(0, 2, (steps, 8)).astype(np.uint8)
            x, y = int(rng.integers(4, W - 12)), int(rng.integers(4, H - 12))
            ex, ey = int(rng.integers(4, W - 12)), int(rng.integers(4, H - 12))
            for t in range(steps + 1):
                o = obs[t]
                o[H - 6:H - 4, 4:4 + (t % 20) * 2] = 90
                o[H - 14:H - 10, 10:W - 10] = 120
                o[0:2, :] = 100
                o[:, 0:2] = 100
                o[:, W - 2:] = 100
                o[y:y + 6, x:x + 6] = (220, 200, 60)
                o[ey:ey + 4, ex:ex + 4] = (200, 60, 60)
                if t < steps:
                    a = [int(v) for v in act[t]]
                    x = int(np.clip(x + 2 * (a[7] - a[6]), 0, W - 6))
                    y = int(np.clip(y + 2 * (a[5] - a[4]), 0, H - 10))
                    ex = (ex + 1) % (W - 4)
                    ey = (ey + (t % 3 == 0)) % (H - 8)
            g.create_dataset("observations", data=obs, compression="gzip", chunks=(1, H, W, 3))
            g["actions"] = act
            g["rewards"] = np.zeros(steps, np.float32)
            g["terminations"] = np.zeros(steps, np.uint8)
            tr = np.zeros(steps, np.uint8)
            tr[-1] = 1
            g["truncations"] = tr
        f.attrs["total_episodes"] = eps
        f.attrs["total_steps"] = eps * steps
        f.attrs["action_names"] = "A,B,SELECT,START,UP,DOWN,LEFT,RIGHT"
        f.attrs["game"] = "dark"
        f.attrs["frame_skip"] = 1


def train(tmp, name, *sets):
    with open(os.path.join(tmp, name + ".ini"), "w") as f:
        f.write(CONFIG.format(name=name, data=os.path.join(tmp, "dark.h5")))
    args = [os.path.join(BIN, "train"), name + ".ini"]
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, capture_output=True, text=True, timeout=600, cwd=tmp)


def log(tmp, name):
    rows = open(os.path.join(tmp, "runs", name, "log.csv")).read().strip().split("\n")
    head = rows[0].split(",")
    return head, [dict(zip(head, r.split(","))) for r in rows[1:]]


def main():
    if h5py is None:
        print("skipping: needs h5py and numpy")
        print("0 passed, 0 failed")
        return 0
    return run_in_tempdir(body, "nemu_collapse_", programs=("train",))


def body(tmp):
    dark_game(os.path.join(tmp, "dark.h5"))

    r = train(tmp, "gymemu", "model.output_bias=pytorch")
    warns = [l for l in r.stderr.splitlines() if "collapsed:" in l]
    check(r.returncode != 0, f"the gymemu init stops (rc {r.returncode})")
    check(len(warns) == 2 and all("decoder_conv.4 saturated against the data" in w for w in warns),
          f"one warning per collapsed epoch naming cause and layer: {warns}")
    check("autoencoder stopped: collapsed 2 epochs in a row (train.collapse_stop = 2)" in r.stderr,
          f"stop message: {r.stderr[-600:]}")
    check(os.path.exists(os.path.join(tmp, "runs", "gymemu", "ae_last.h5")), "checkpoint kept")
    head, rows = log(tmp, "gymemu")
    check(head[-4:] == ["grad_norm", "out_saturated", "out_saturated_wrong", "dead_relu"], f"log.csv columns {head}")
    check(len(rows) == 2 and float(rows[-1]["out_saturated_wrong"]) >= 0.9, f"log rows {rows}")
    check(abs(float(rows[-1]["train_loss"]) - 0.0438) < 0.002, "collapsed: train L1 = the mean pixel (a black frame)")
    dead = rows[-1]["dead_relu"].split(";")
    check([d.split("=")[0] for d in dead] == ["encoder_conv.0", "encoder_conv.2", "encoder_conv.4",
                                             "decoder_conv.0", "decoder_conv.2"], f"dead_relu per layer: {dead}")

    r = train(tmp, "fixed", "train.epochs=3")
    check(r.returncode == 0 and "collapsed" not in r.stderr, f"data_mean trains: {r.stderr[-400:]}")
    check("decoder_conv.4.bias[0] = logit(" in r.stdout, "the output bias line")
    head, rows = log(tmp, "fixed")
    check(len(rows) == 3 and float(rows[-1]["val_loss"]) < 0.02, f"val L1 < 0.02: {rows[-1]['val_loss'] if rows else None}")

    # train.changed_weight: the same data and init, the weighted L1 (train loss differs, val stays L1)
    r = train(tmp, "weighted", "train.epochs=1", "train.changed_weight=4")
    head, wrows = log(tmp, "weighted")
    check(r.returncode == 0 and len(wrows) == 1 and "changed_weight = 4" in
          open(os.path.join(tmp, "runs", "weighted", "config.ini")).read(), f"changed_weight runs: {r.stderr[-300:]}")
    check(wrows and float(wrows[0]["train_loss"]) > float(rows[0]["train_loss"]) and float(wrows[0]["val_loss"]) < 0.05,
          "weighted train loss (> the plain one: moving pixels weigh 5) and a plain-L1 val loss")

    r = train(tmp, "warnonly", "model.output_bias=pytorch", "train.collapse_stop=0", "train.epochs=3")
    head, rows = log(tmp, "warnonly")
    check(r.returncode == 0 and len(rows) == 3 and r.stderr.count("collapsed:") >= 2,
          f"collapse_stop = 0 warns only: rc {r.returncode}, {len(rows)} epochs")


if __name__ == "__main__":
    raise SystemExit(main())
