#!/usr/bin/env python3
"""test_train_cli.py - ./train end to end on a tiny config (seconds):

  1. both stages train, the loss falls, every file of SPEC.md §5 exists and the checkpoints
     hold the gymemu state_dict names; a finished run resumes as a no-op (loads checkpoints);
  2. the same config and seed give the same numbers twice;
  3. killed at a random moment (SIGKILL) or stopped with SIGINT/SIGTERM, then --resume,
     the run ends with weights identical to the uninterrupted one;
  4. bad starts (existing run, bad config, missing autoencoder) leave nothing behind.
Needs h5py and numpy for the weight comparisons (skips those checks without them).
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from nemutest import BIN, check, have, summary, tiny_config

if have("the checkpoint-contents check", "h5py", "numpy"):
    import h5py
    import numpy as np
else:
    h5py = None

CONFIG = tiny_config({"train": {"epochs": "{ae_epochs}"}, "dynamics": {"epochs": "{dyn_epochs}"}})


def run(args, cwd, timeout=300):
    return subprocess.run([os.path.join(BIN, "train")] + args, cwd=cwd, capture_output=True, text=True,
                          timeout=timeout)


def weights(path):
    with h5py.File(path, "r") as f:
        out = {k: f["state_dict"][k][()] for k in f["state_dict"]}
        for grp in ("exp_avg", "exp_avg_sq"):
            if "optimizer" in f and grp in f["optimizer"]:
                for k in f["optimizer"][grp]:
                    out[grp + "/" + k] = f["optimizer"][grp][k][()]
        out["@step"] = int(f.attrs["step"])
        return out


def same_weights(a, b):
    wa, wb = weights(a), weights(b)
    if wa.keys() != wb.keys():
        return False
    return all(np.array_equal(wa[k], wb[k]) for k in wa)


def losses(rundir):
    rows = open(os.path.join(rundir, "log.csv")).read().strip().split("\n")[1:]
    return [(r.split(",")[0], int(r.split(",")[1]), float(r.split(",")[2]), float(r.split(",")[3])) for r in rows]


def main():
    tmp = tempfile.mkdtemp(prefix="nemu_train_")
    try:
        data = os.path.join(tmp, "d.h5")
        g = subprocess.run([os.path.join(BIN, "gen"), "tetris", "--episodes", "6", "--steps", "40", "--seed", "3",
                            "--out", data], capture_output=True, text=True)
        check(g.returncode == 0, "gen tetris for the test data: " + g.stderr)
        cfg = os.path.join(tmp, "tiny.ini")
        open(cfg, "w").write(CONFIG.format(data=data, ae_epochs=4, dyn_epochs=6))

        # 1. end to end
        t0 = time.time()
        r = run([cfg, "--set", "run.name=a"], tmp)
        t_full = time.time() - t0
        check(r.returncode == 0, "tiny run exits 0: " + r.stderr[-500:])
        rd = os.path.join(tmp, "runs", "a")
        for f in ["config.ini", "split.txt", "log.csv", "ae_last.h5", "ae_best.h5", "dyn_last.h5", "dyn_best.h5",
                  "recon.png", "loss.png", "rollout.png", "dynamics_checks.txt"]:
            check(os.path.isfile(os.path.join(rd, f)), "run folder has " + f)
        check(not [d for d in os.listdir(os.path.join(tmp, "runs")) if ".tmp." in d], "no tmp folder left")
        ls = losses(rd)
        ae = [x for x in ls if x[0] == "autoencoder"]
        dy = [x for x in ls if x[0] == "dynamics"]
        check(len(ae) == 4 and len(dy) == 6, "log.csv has one row per epoch and stage (%d, %d)" % (len(ae), len(dy)))
        check(ae and ae[-1][2] < ae[0][2], "autoencoder train loss fell %s" % [x[2] for x in ae])
        check(dy and dy[-1][2] < dy[0][2], "dynamics train loss fell %s" % [x[2] for x in dy])
        check("epoch 4/4" in r.stdout and "BLAS core" in r.stdout, "per-epoch lines and the BLAS core are printed")
        check(r.returncode == 0 and "memory" in r.stdout and "encoder_conv.0" in r.stdout,
              "start-up prints the model table and memory estimate")
        r2 = run([cfg, "--set", "run.name=a", "--resume"], tmp)
        check(r2.returncode == 0 and "resuming dynamics: its 6 epochs are done, nothing left to train" in r2.stdout,
              "resuming a finished run is a no-op, and says so: " + r2.stdout[-300:] + r2.stderr[-300:])
        check(losses(rd) == ls, "log.csv unchanged by a no-op resume")
        if h5py:
            with h5py.File(os.path.join(rd, "ae_best.h5"), "r") as f:
                names = set(f["state_dict"].keys())
                check({"encoder_conv.0.weight", "fc_enc.weight", "fc_dec.bias", "decoder_conv.4.weight"} <= names,
                      "autoencoder checkpoint uses gymemu state_dict names")
                check(f["state_dict"]["encoder_conv.0.weight"].shape == (4, 1, 4, 4), "conv weight shape")
            with h5py.File(os.path.join(rd, "dyn_best.h5"), "r") as f:
                check({"net.0.weight", "net.1.weight", "net.5.bias"} <= set(f["state_dict"].keys()),
                      "dynamics checkpoint uses gymemu state_dict names")

        # 2. same config + seed = same numbers
        r = run([cfg, "--set", "run.name=b"], tmp)
        check(r.returncode == 0, "second run exits 0")
        lb = losses(os.path.join(tmp, "runs", "b"))
        check([x[2:] for x in lb] == [x[2:] for x in ls], "same config and seed give the same losses")
        if h5py:
            check(same_weights(os.path.join(rd, "dyn_last.h5"), os.path.join(tmp, "runs", "b", "dyn_last.h5")),
                  "same config and seed give the same weights")

        # 3. interruptions then --resume end with the uninterrupted weights
        rng = random.Random()
        seed = rng.randrange(1 << 30)
        rng.seed(seed)
        print("interruption schedule seed", seed, "full run %.2fs" % t_full)
        for trial, sig in enumerate([signal.SIGKILL, signal.SIGINT, signal.SIGTERM, signal.SIGKILL]):
            name = "k%d" % trial
            args = [cfg, "--set", "run.name=" + name]
            attempts = 0
            while True:
                attempts += 1
                exists = os.path.isdir(os.path.join(tmp, "runs", name))
                p = subprocess.Popen([os.path.join(BIN, "train")] + args + (["--resume"] if exists else []), cwd=tmp,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                delay = rng.uniform(0.05, max(0.2, t_full))
                try:
                    p.wait(timeout=delay if attempts <= 3 else 300)
                except subprocess.TimeoutExpired:
                    p.send_signal(sig)
                    p.wait()
                    err = p.stderr.read()
                    # a stop request is honoured at the next batch; one that comes after the last
                    # batch lets the run finish (exit 0); one before the handler is set kills it
                    if sig != signal.SIGKILL:
                        check(p.returncode in (128 + sig, -sig, 0) and ("--resume" in err or p.returncode <= 0),
                              "%s gives exit %d and says how to resume: %s"
                              % (sig.name, p.returncode, " | ".join(err.strip().split("\n"))))
                        if p.returncode == 0:
                            break
                    continue
                # the whole stderr on the FAIL line (tests/run.sh shows only lines with FAIL)
                check(p.returncode == 0, "%s trial finishes after %d attempts (exit %d, schedule seed %d): %s"
                      % (name, attempts, p.returncode, seed, " | ".join(p.stderr.read().strip().split("\n"))))
                break
            kd = os.path.join(tmp, "runs", name)
            check(os.path.isfile(os.path.join(kd, "dyn_last.h5")), name + " finished")
            if h5py:
                for f in ["ae_last.h5", "dyn_last.h5", "dyn_best.h5"]:
                    check(same_weights(os.path.join(rd, f), os.path.join(kd, f)),
                          "%s (%s, %d starts): %s identical to the uninterrupted run" % (name, sig.name, attempts, f))
            check([x[2:] for x in losses(kd)] == [x[2:] for x in ls], name + ": log.csv identical losses")

        # NaN/Inf: a huge dynamics learning rate overflows within a few steps; the run stops
        # with one line naming the stage, epoch and batch, and keeps the last good checkpoint
        r = run([cfg, "--set", "run.name=nan", "--set", "dynamics.lr=1e30"], tmp)
        nd = os.path.join(tmp, "runs", "nan")
        check(r.returncode != 0 and "dynamics loss is" in r.stderr and "epoch" in r.stderr and "batch" in r.stderr
              and r.stderr.strip().count("\n") == 0, "NaN/Inf loss stops in one line: " + r.stderr[-300:])
        check(os.path.isfile(os.path.join(nd, "ae_best.h5")) and not os.path.exists(os.path.join(nd, "dyn_best.h5")),
              "the NaN stop keeps the good autoencoder checkpoints and writes no dynamics checkpoint")
        if h5py:
            check(same_weights(os.path.join(rd, "ae_last.h5"), os.path.join(nd, "ae_last.h5")),
                  "the autoencoder before the NaN is intact")

        # 4. bad starts leave nothing behind and touch no earlier run
        shutil.rmtree(nd, ignore_errors=True)
        before = sorted(os.listdir(os.path.join(tmp, "runs")))
        mtime = os.path.getmtime(os.path.join(rd, "ae_best.h5"))
        r = run([cfg, "--set", "run.name=a"], tmp)
        check(r.returncode != 0 and "already exists" in r.stderr and r.stderr.count("\n") == 1,
              "existing run refused in one line: " + r.stderr)
        r = run([cfg, "--set", "run.name=c", "--set", "train.lr=fast"], tmp)
        check(r.returncode != 0 and "lr" in r.stderr and r.stderr.count("\n") == 1, "bad --set in one line")
        dcfg = os.path.join(tmp, "dyn.ini")
        open(dcfg, "w").write("[data]\npath = %s\ngenerate = none\nheight = 32\nwidth = 32\ntest_episodes = 1\n"
                              "[model]\nautoencoder = nope.h5\n[train]\nstage = dynamics\n" % data)
        r = run([dcfg, "--set", "run.name=c"], tmp)
        check(r.returncode != 0 and "nope.h5" in r.stderr and r.stderr.count("\n") == 1,
              "missing autoencoder in one line: " + r.stderr)
        r = run([cfg, "--set", "run.name=zz", "--resume"], tmp)
        check(r.returncode != 0 and r.stderr.count("\n") == 1, "resume of a missing run in one line: " + r.stderr)
        check(sorted(os.listdir(os.path.join(tmp, "runs"))) == before, "failed starts leave nothing behind")
        check(os.path.getmtime(os.path.join(rd, "ae_best.h5")) == mtime, "an earlier run is not touched")
        r = run([cfg, "--set", "run.name=a", "--force", "--set", "train.epochs=1", "--set", "dynamics.epochs=1"], tmp)
        check(r.returncode == 0 and len(losses(rd)) == 2, "--force replaces a run")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
