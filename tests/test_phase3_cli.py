#!/usr/bin/env python3
"""test_phase3_cli.py - roadmap phase 3 through ./train and ./eval on a tiny config (seconds):

  1. every combination the config accepts trains: dynamics.type deterministic | vae, times
     rollout_steps 1 | 3 with scheduled sampling 0 -> 0.5 | 3 open loop (sampling 1 -> 1);
     log.csv carries train_mse, train_kl, val_mse, val_kl, sampling_p (KL > 0 for a vae,
     empty for deterministic; p annealed linearly); the vae's dyn_best.h5 has 2Z outputs;
  2. fail fast (the regression test of the old late refusal: stage = both stopped with "not
     built yet" after training the autoencoder): a rollout longer than every episode is
     refused in one line before any work or file, and vae + rollout_steps > 1 with stage =
     both is no longer refused;
  3. a vae run stopped with SIGINT mid-stage and resumed ends with the uninterrupted weights
     (coin flips and eps travel in the checkpoint);
  4. ./eval of a vae: temperature 0 twice gives the same files bit for bit; --temperature 1
     --samples 3 writes samples.csv with a diversity > 0 at every step; refusals (samples at
     temperature 0, temperature on a deterministic run) in one line before any file.
"""
import csv
import os
import signal
import subprocess
import sys

from nemutest import BIN, check, log_rows, record, run_in_tempdir, tiny_config, write_config

try:
    import h5py
    import numpy as np
except ImportError:
    h5py = None

CONFIG = tiny_config({"dynamics": {"epochs": 3}})


def run(prog, args, cwd, timeout=300):
    return subprocess.run([os.path.join(BIN, prog)] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def weights(path):
    with h5py.File(path, "r") as f:
        return {k: f["state_dict"][k][()] for k in f["state_dict"]}


def body(tmp):
    data = record(tmp, 6, 40, 3)
    cfg = write_config(tmp, CONFIG, data=data)

    # 1. every combination trains; the first trains the autoencoder the others reuse
    r = run("train", [cfg, "--set", "run.name=base", "--set", "train.epochs=2"], tmp)
    check(r.returncode == 0, "deterministic single-step run: " + r.stderr[-300:])
    ae = os.path.join(tmp, "runs", "base", "ae_best.h5")
    dyn_only = ["--set", "train.stage=dynamics", "--set", "model.autoencoder=" + ae]
    combos = {
        "det_k3_ss": ["--set", "dynamics.rollout_steps=3", "--set", "dynamics.sampling_end=0.5"],
        "det_k3_open": ["--set", "dynamics.rollout_steps=3", "--set", "dynamics.sampling_start=1",
                        "--set", "dynamics.sampling_end=1"],
        "vae_k1": ["--set", "dynamics.type=vae", "--set", "dynamics.beta=0.01"],
        "vae_k3_ss": ["--set", "dynamics.type=vae", "--set", "dynamics.beta=0.001", "--set", "dynamics.rollout_steps=3",
                      "--set", "dynamics.sampling_end=0.5"],
        "vae_k3_open": ["--set", "dynamics.type=vae", "--set", "dynamics.rollout_steps=3",
                        "--set", "dynamics.sampling_start=1", "--set", "dynamics.sampling_end=1"],
    }
    for name, extra in combos.items():
        r = run("train", [cfg, "--set", "run.name=" + name] + dyn_only + extra, tmp)
        ok = check(r.returncode == 0, "%s trains: %s" % (name, r.stderr[-300:]))
        if not ok:
            continue
        rows = log_rows(os.path.join(tmp, "runs", name), "dynamics")
        check(len(rows) == 3, "%s: 3 dynamics rows in log.csv" % name)
        vae = name.startswith("vae")
        for x in rows:
            loss, mse = float(x["train_loss"]), float(x["train_mse"])
            kl = float(x["train_kl"]) if x["train_kl"] else 0.0
            if vae:
                check(kl > 0 and float(x["val_kl"]) > 0, "%s: KL > 0 in log.csv (%s)" % (name, x["train_kl"]))
                beta = 0.01 if name == "vae_k1" else 0.001 if name == "vae_k3_ss" else 0.0
                check(abs(loss - (mse + beta * kl)) <= 1e-5 * loss, "%s: train_loss = mse + beta*kl" % name)
            else:
                check(float(x["train_kl"]) == 0.0 and abs(loss - mse) <= 1e-6 * loss, "%s: no KL, loss = mse" % name)
        p = [float(x["sampling_p"]) for x in rows]
        want = [0, 0.25, 0.5] if name.endswith("_ss") else [1, 1, 1] if name.endswith("_open") else [0, 0, 0]
        check(p == want, "%s: sampling_p %s, want %s" % (name, p, want))
        if vae and h5py:
            w = weights(os.path.join(tmp, "runs", name, "dyn_best.h5"))
            check(w["net.5.weight"].shape[0] == 16 and w["net.5.bias"].shape == (16,), name + ": vae head 2Z = 16")
    base_rows = log_rows(os.path.join(tmp, "runs", "base"), "autoencoder")
    check(all(x["train_mse"] == "" and x["train_kl"] == "" for x in base_rows), "autoencoder rows leave the parts empty")

    # 2. fail fast: nothing created, one line, before any work
    before = sorted(os.listdir(os.path.join(tmp, "runs")))
    r = run("train", [cfg, "--set", "run.name=long", "--set", "dynamics.rollout_steps=500", "--set", "train.epochs=2"],
            tmp)
    check(r.returncode != 0 and "rollout_steps = 500" in r.stderr and r.stderr.count("\n") == 1
          and not os.path.exists(os.path.join(tmp, "runs", "long")),
          "a rollout longer than every episode is refused in one line: " + r.stderr)
    check("epoch" not in r.stdout, "refused before any training")
    check(sorted(os.listdir(os.path.join(tmp, "runs"))) == before, "the refusal leaves nothing behind")
    r = run("train", [cfg, "--set", "run.name=both_vae", "--set", "dynamics.type=vae", "--set", "dynamics.rollout_steps=2",
                      "--set", "train.epochs=1", "--set", "dynamics.epochs=1"], tmp)
    check(r.returncode == 0 and "not built" not in r.stderr,
          "stage = both with vae and rollout_steps 2 trains to the end (was refused after the autoencoder): "
          + r.stderr[-300:])

    # 3. SIGINT mid-stage, --resume: the uninterrupted weights (vae + scheduled sampling)
    more = combos["vae_k3_ss"] + ["--set", "dynamics.epochs=40"]
    full = run("train", [cfg, "--set", "run.name=vfull"] + dyn_only + more, tmp)
    check(full.returncode == 0, "vae reference run")
    args = [cfg, "--set", "run.name=vint"] + dyn_only + more
    p = subprocess.Popen([os.path.join(BIN, "train")] + args, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    for line in p.stdout:   # stop it once the dynamics stage has logged an epoch
        if "dynamics epoch 2/" in line:
            p.send_signal(signal.SIGINT)
            break
    p.communicate()
    check(p.returncode == 128 + signal.SIGINT, "SIGINT stopped the vae run mid-stage (exit %d)" % p.returncode)
    r = run("train", args + ["--resume"], tmp)
    check(r.returncode == 0 and "resuming dynamics" in r.stdout, "vae resume: " + r.stderr[-300:])
    if h5py:
        a, b = (weights(os.path.join(tmp, "runs", n, "dyn_last.h5")) for n in ("vfull", "vint"))
        check(all(np.array_equal(a[k], b[k]) for k in a), "resumed vae run = uninterrupted run, bit for bit")
    la, lb = ([(x["epoch"], x["train_loss"], x["train_kl"], x["val_loss"]) for x in log_rows(os.path.join(tmp, "runs", n))]
              for n in ("vfull", "vint"))
    check(la == lb, "resumed vae run logs the same losses and KL")

    # 4. ./eval of a vae
    run_dir = os.path.join(tmp, "runs", "vae_k3_ss")
    outs = []
    for k in range(2):
        out = os.path.join(tmp, "ev0_%d" % k)
        r = run("eval", ["--run", run_dir, "--steps", "1,3,5", "--starts", "2", "--out", out, "--temperature", "0"], tmp)
        check(r.returncode == 0, "eval at temperature 0: " + r.stderr[-300:])
        outs.append(out)
    same = all(open(os.path.join(outs[0], f), "rb").read() == open(os.path.join(outs[1], f), "rb").read()
               for f in ("eval.csv", "samples.csv", "rollouts.png"))
    check(same, "temperature 0 replays bit for bit")
    out = os.path.join(tmp, "ev1")
    r = run("eval", ["--run", run_dir, "--steps", "1,3,5", "--starts", "2", "--out", out, "--temperature", "1",
                     "--samples", "3"], tmp)
    check(r.returncode == 0 and "diversity" in r.stdout, "eval --temperature 1 --samples 3: " + r.stderr[-300:])
    if r.returncode == 0:
        rows = [x for x in csv.reader(open(os.path.join(out, "samples.csv"))) if x and not x[0].startswith("#")][1:]
        div = [float(x[3]) for x in rows if x[1] == "diversity"]
        check(len(div) == 3 and all(d > 0 for d in div), "diversity > 0 at every step: %s" % div)
        check(len([x for x in rows if x[1] in ("1", "2", "3")]) == 9, "one row per sample and step")
        check(os.path.getsize(os.path.join(out, "samples.png")) > 1000, "samples.png written with --samples 3")
    check(not os.path.exists(os.path.join(outs[0], "samples.png")), "no samples.png for one sample")
    for args, what in ((["--temperature", "0", "--samples", "3"], "samples at temperature 0"),
                       (["--run", os.path.join(tmp, "runs", "base"), "--temperature", "1"], "temperature, deterministic")):
        out = os.path.join(tmp, "bad")
        a = (["--run", run_dir] if "--run" not in args else []) + args + ["--out", out]
        r = run("eval", a, tmp)
        check(r.returncode != 0 and r.stderr.count("\n") == 1 and not os.path.exists(out),
              "%s refused in one line before any file: %s" % (what, r.stderr))


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_phase3_"))
