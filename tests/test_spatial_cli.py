#!/usr/bin/env python3
"""test_spatial_cli.py - the spatial family end to end on a tiny config (seconds):

  1. stage = both with model.latent = spatial trains the spatial autoencoder, then the conv
     dynamics (checkpoint attributes latent = spatial, family = conv; log rows);
  2. dynamics.loss = pixel (with changed_weight, K = 2, deterministic and vae) trains from that
     autoencoder: its loss is the pixel L1 (not the latent MSE logged beside it) and falls;
  3. ./eval runs on the spatial run; --compose 1 keeps every pixel of the start frame (the
     model row equals the copy row), --compose 0.2 is named in eval.md and eval.json, and
     ./play --compose 1 shows the start frame at every step;
  4. a flat model.latent on a spatial autoencoder is refused in one line before any file.
"""
import os
import subprocess
import sys

from nemutest import BIN, check, log_rows, record, run_in_tempdir, tiny_config, write_config

try:
    import h5py
except ImportError:
    h5py = None

CONFIG = tiny_config({"model": {"latent": "spatial", "latent_channels": 4, "latent_dim": None},
                      "dynamics": {"hidden": 8, "blocks": 1, "epochs": 3}})


def run(prog, args, cwd, timeout=300):
    return subprocess.run([os.path.join(BIN, prog)] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def body(tmp):
    data = record(tmp, 6, 40, 3)
    cfg = write_config(tmp, CONFIG, data=data)

    # 1. both stages
    r = run("train", [cfg, "--set", "run.name=sp", "--set", "train.epochs=2"], tmp)
    if not check(r.returncode == 0, "spatial stage = both trains: " + r.stderr[-300:]):
        return
    check("conv dynamics on a 4x4x4 latent grid" in r.stdout, "the conv dynamics is the one built")
    rundir = os.path.join(tmp, "runs", "sp")
    check(len(log_rows(rundir, "dynamics")) == 3, "3 dynamics rows in log.csv")
    if h5py:
        with h5py.File(os.path.join(rundir, "ae_best.h5"), "r") as f:
            check(f.attrs["latent"] in ("spatial", b"spatial") and f.attrs["latent_channels"] == 4 and
                  f["state_dict/latent_enc.weight"].shape == (4, 16, 1, 1), "spatial autoencoder checkpoint")
        with h5py.File(os.path.join(rundir, "dyn_best.h5"), "r") as f:
            check(f.attrs["family"] in ("conv", b"conv") and f.attrs["blocks"] == 1 and
                  f["state_dict/conv_out.weight"].shape == (4, 8, 3, 3), "conv dynamics checkpoint")

    # 2. the pixel loss, deterministic and vae
    ae = os.path.join(rundir, "ae_best.h5")
    base = ["--set", "train.stage=dynamics", "--set", "model.autoencoder=" + ae, "--set", "dynamics.loss=pixel",
            "--set", "dynamics.changed_weight=4", "--set", "dynamics.rollout_steps=2", "--set", "dynamics.epochs=4"]
    for name, extra in (("pix", []), ("pix_vae", ["--set", "dynamics.type=vae", "--set", "dynamics.beta=0.001"])):
        r = run("train", [cfg, "--set", "run.name=" + name] + base + extra, tmp)
        if not check(r.returncode == 0, name + " trains: " + r.stderr[-300:]):
            continue
        rows = log_rows(os.path.join(tmp, "runs", name), "dynamics")
        check(len(rows) == 4, name + ": 4 dynamics rows")
        loss = [float(x["train_loss"]) for x in rows]
        mse = [float(x["train_mse"]) for x in rows]
        check(all(abs(a - b) > 1e-6 for a, b in zip(loss, mse)), name + ": the loss is not the latent MSE")
        check(loss[-1] < loss[0], name + ": the pixel loss falls %s" % loss)
        check("pixel L1" in r.stdout, name + ": the epoch lines name the pixel loss")

    # 3. ./eval on the spatial run
    r = run("eval", ["--run", rundir, "--episodes", "1", "--starts", "1", "--steps", "1,2", "--out",
                     os.path.join(tmp, "res")], tmp)
    check(r.returncode == 0 and os.path.exists(os.path.join(tmp, "res", "eval.csv")),
          "./eval on the spatial run: " + r.stderr[-300:])
    out = os.path.join(tmp, "res_c1")
    r = run("eval", ["--run", rundir, "--episodes", "1", "--starts", "2", "--steps", "1,2", "--compose", "1", "--out",
                     out], tmp)
    if check(r.returncode == 0, "./eval --compose 1: " + r.stderr[-300:]):
        rows = [l.split(",") for l in open(os.path.join(out, "eval.csv")).read().splitlines() if l[:1].isdigit()]
        model = [x[2:23] for x in rows if x[1] == "model"]   # frame metrics and changed-pixel L1
        copy = [x[2:23] for x in rows if x[1] == "copy"]
        check(model and model == copy, "--compose 1: the model row is the copy row %s %s" % (model, copy))
    out = os.path.join(tmp, "res_c02")
    r = run("eval", ["--run", rundir, "--episodes", "1", "--starts", "1", "--steps", "1", "--compose", "0.2", "--out",
                     out], tmp)
    check(r.returncode == 0 and "dynamics.compose = 0.2" in open(os.path.join(out, "eval.md")).read() and
          '"compose": 0.2' in open(os.path.join(out, "eval.json")).read(), "--compose 0.2 in eval.md and eval.json")
    r = run("eval", ["--run", rundir, "--compose", "2"], tmp)
    check(r.returncode != 0 and r.stderr.count("\n") == 1, "--compose 2 refused in one line: " + r.stderr)
    csv = os.path.join(tmp, "play_c1.csv")
    r = run("play", ["--run", rundir, "--policy", "random", "--steps", "4", "--fps", "0", "--compose", "1", "--csv",
                     csv], tmp)
    if check(r.returncode == 0, "./play --compose 1: " + r.stderr[-300:]):
        lines = open(csv).read().splitlines()
        change = [float(l.split(",")[-1]) for l in lines[1:]]
        check(len(change) == 5 and max(change) == 0, "--compose 1: every played frame is the start frame %s" % change)

    # 4. a flat model.latent on a spatial autoencoder: one line, no run folder
    r = run("train", [cfg, "--set", "run.name=mismatch", "--set", "model.latent=flat"], tmp)
    check(r.returncode != 0 and "latent_channels: has no effect while model.latent = flat" in r.stderr,
          "latent_channels under a flat latent refused: " + r.stderr)
    cfg2 = os.path.join(tmp, "flat.ini")
    open(cfg2, "w").write(tiny_config({"model": {"latent_dim": None}, "dynamics": {"hidden": 8, "epochs": 3}})
                          .format(data=data))
    r = run("train", [cfg2, "--set", "run.name=mismatch", "--set", "train.stage=dynamics", "--set",
                      "model.autoencoder=" + ae], tmp)
    check(r.returncode != 0 and "spatial latent but model.latent = flat" in r.stderr and
          r.stderr.count("\n") == 1 and not os.path.exists(os.path.join(tmp, "runs", "mismatch")),
          "a flat model.latent on a spatial autoencoder is refused in one line, no run folder: " + r.stderr)

if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_spatial_"))
