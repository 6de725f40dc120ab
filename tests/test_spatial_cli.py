#!/usr/bin/env python3
"""test_spatial_cli.py - the spatial family end to end on a tiny config (seconds):

  1. stage = both with model.latent = spatial trains the spatial autoencoder, then the conv
     dynamics (checkpoint attributes latent = spatial, family = conv; log rows);
  2. dynamics.loss = pixel (with changed_weight, K = 2, deterministic and vae) trains from that
     autoencoder: its loss is the pixel L1 (not the latent MSE logged beside it) and falls;
  3. ./eval runs on the spatial run; --compose 1 keeps every pixel of the start frame (the
     model row equals the copy row), --compose 0.2 is named in eval.md and eval.json, and
     ./play --compose 1 shows the start frame at every step;
  4. a flat model.latent on a spatial autoencoder is refused in one line before any file;
  5. the latent deadband (dynamics.deadband, --deadband of ./eval and ./play): at 5 every cell is
     kept, so the model's frames stand still in both programs (and move at 0), from the option and
     from the run's config.ini; eval.md, eval.json and ./play --check's check.md name it; bad
     values are refused in one line.
  6. re-encoding (dynamics.reencode, --reencode of ./eval and ./play): changes the model's
     frames, is named in eval.md, eval.json and check.md, is taken from the run's config.ini, and
     bad values are refused in one line.
"""
import os
import re
import shutil
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
        change = l1_prev_column(csv)
        check(len(change) == 5 and max(change) == 0, "--compose 1: every played frame is the start frame %s" % change)

    # 5. the latent deadband: ./eval and ./play keep every latent cell under --deadband 5 (the model
    # stands still), move without it, name it, take it from the run's dynamics.deadband and refuse bad values
    deadband(tmp, rundir)
    # 6. re-encoding every N steps
    reencode(tmp, rundir)

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
    # a missing autoencoder is refused before a missing data file is recorded
    r = run("train", [cfg2, "--set", "run.name=noae", "--set", "train.stage=dynamics", "--set",
                      "model.autoencoder=nope.h5", "--set", "data.path=fresh.h5", "--set", "data.generate=tetris"], tmp)
    check(r.returncode != 0 and "model.autoencoder = nope.h5: No such file" in r.stderr and
          r.stderr.count("\n") == 1 and not os.path.exists(os.path.join(tmp, "fresh.h5")) and
          not os.path.exists(os.path.join(tmp, "runs", "noae")),
          "a missing autoencoder is refused in one line before the data are recorded: " + r.stderr)

def liveliness(out):
    lines = open(os.path.join(out, "eval.csv")).read().splitlines()
    head = lines[0].split(",")
    rows = [dict(zip(head, l.split(","))) for l in lines[1:]]
    return [float(x["liveliness_mean"]) for x in rows if x["row"] == "model"]


def play_changes(tmp, rundir, name, extra):
    csv = os.path.join(tmp, name + ".csv")
    r = run("play", ["--run", rundir, "--policy", "random", "--steps", "6", "--fps", "0", "--csv", csv] + extra, tmp)
    if not check(r.returncode == 0, "./play %s: %s" % (extra, r.stderr[-300:])):
        return []
    return l1_prev_column(csv)


def l1_prev_column(path):
    """./play --csv's l1_prev (each frame's L1 change from the frame before), read by its name."""
    lines = open(path).read().splitlines()
    col = lines[0].split(",").index("l1_prev")
    return [float(l.split(",")[col]) for l in lines[1:]]


def deadband(tmp, rundir):
    ev = ["--run", rundir, "--episodes", "1", "--starts", "2", "--steps", "1,3"]
    outs = {}
    for name, extra in (("db0", ["--deadband", "0"]), ("db5", ["--deadband", "5"])):
        outs[name] = os.path.join(tmp, "res_" + name)
        r = run("eval", ev + extra + ["--out", outs[name]], tmp)
        check(r.returncode == 0, "./eval %s: %s" % (extra, r.stderr[-300:]))
    if check(os.path.exists(os.path.join(outs["db5"], "eval.csv")), "./eval --deadband 5 wrote eval.csv"):
        live0, live5 = liveliness(outs["db0"]), liveliness(outs["db5"])
        check(live5 and max(live5) == 0 and max(live0) > 0, "--deadband 5: the model's frames stand still "
              "(liveliness %s; %s without)" % (live5, live0))
        check("dynamics.deadband = 5" in open(os.path.join(outs["db5"], "eval.md")).read() and
              '"deadband": 5' in open(os.path.join(outs["db5"], "eval.json")).read() and
              '"deadband": 0' in open(os.path.join(outs["db0"], "eval.json")).read(),
              "--deadband named in eval.md and eval.json")
    moved, still = play_changes(tmp, rundir, "db0", ["--deadband", "0"]), play_changes(tmp, rundir, "db5",
                                                                                         ["--deadband", "5"])
    check(len(still) == 7 and max(still) == 0 and max(moved) > 0, "./play --deadband 5: every frame is frame 0 "
          "(changes %s; %s without)" % (still, moved))
    # the run's dynamics.deadband is the default of both programs
    dbrun = os.path.join(tmp, "runs", "sp_db")
    shutil.copytree(rundir, dbrun)
    ini = open(os.path.join(dbrun, "config.ini")).read()
    check(re.search(r"^deadband = 0$", ini, re.M), "config.ini lists dynamics.deadband = 0")
    ini = re.sub(r"^deadband = 0$", "deadband = 5", ini, flags=re.M)
    open(os.path.join(dbrun, "config.ini"), "w").write(ini)
    out = os.path.join(tmp, "res_dbrun")
    r = run("eval", ["--run", dbrun, "--episodes", "1", "--starts", "2", "--steps", "1,3", "--out", out], tmp)
    check(r.returncode == 0 and max(liveliness(out)) == 0, "dynamics.deadband = 5 in config.ini: ./eval stands "
          "still: " + r.stderr[-300:])
    check(max(play_changes(tmp, dbrun, "dbrun", []) or [1]) == 0, "dynamics.deadband = 5: ./play stands still")
    chk = os.path.join(tmp, "chk_db")
    r = run("play", ["--check", "--run", rundir, "--check-frames", "50", "--deadband", "0.05", "--out", chk], tmp)
    if check(r.returncode == 0, "./play --check --deadband 0.05: " + r.stderr[-300:]):
        md = open(os.path.join(chk, "check.md")).read()
        check("Latent deadband 0.05" in md and "kept" in md and "| motion |" in md, "check.md names the deadband, "
              "the cells it kept and the motion")
    for prog, val in (("eval", "-1"), ("play", "6"), ("eval", "x")):
        r = run(prog, ["--run", rundir, "--deadband", val], tmp)
        check(r.returncode != 0 and r.stderr.count("\n") == 1 and "--deadband" in r.stderr,
              "%s --deadband %s refused in one line: %s" % (prog, val, r.stderr))


def model_l1(out):
    lines = open(os.path.join(out, "eval.csv")).read().splitlines()
    head = lines[0].split(",")
    return [x["l1_mean"] for x in (dict(zip(head, l.split(","))) for l in lines[1:]) if x["row"] == "model"]


def reencode(tmp, rundir):
    ev = ["--run", rundir, "--episodes", "1", "--starts", "2", "--steps", "1,2,4", "--compose", "0"]
    outs = {}
    for n in ("0", "2"):
        outs[n] = os.path.join(tmp, "res_re" + n)
        r = run("eval", ev + ["--reencode", n, "--out", outs[n]], tmp)
        check(r.returncode == 0, "./eval --reencode %s: %s" % (n, r.stderr[-300:]))
    if check(os.path.exists(os.path.join(outs["2"], "eval.csv")), "./eval --reencode 2 wrote eval.csv"):
        l0, l2 = model_l1(outs["0"]), model_l1(outs["2"])
        check(len(l0) == 3 and l0[0] == l2[0] and l0[2] != l2[2], "--reencode 2: step 1 as without it, step 4 "
              "differs (model L1 %s; %s without)" % (l2, l0))
        check("dynamics.reencode = 2" in open(os.path.join(outs["2"], "eval.md")).read() and
              '"reencode": 2' in open(os.path.join(outs["2"], "eval.json")).read() and
              '"reencode": 0' in open(os.path.join(outs["0"], "eval.json")).read(),
              "--reencode named in eval.md and eval.json")
    rerun = os.path.join(tmp, "runs", "sp_re")
    shutil.copytree(rundir, rerun)
    ini = open(os.path.join(rerun, "config.ini")).read()
    check(re.search(r"^reencode = 0$", ini, re.M), "config.ini lists dynamics.reencode = 0")
    open(os.path.join(rerun, "config.ini"), "w").write(re.sub(r"^reencode = 0$", "reencode = 2", ini, flags=re.M))
    out = os.path.join(tmp, "res_rerun")
    r = run("eval", ev + ["--run", rerun, "--out", out], tmp)
    check(r.returncode == 0 and model_l1(out) == model_l1(outs["2"]), "dynamics.reencode = 2 in config.ini: "
          "./eval as --reencode 2: " + r.stderr[-300:])
    a, b = play_changes(tmp, rundir, "re0", ["--compose", "0"]), play_changes(tmp, rundir, "re1",
                                                                             ["--compose", "0", "--reencode", "1"])
    check(len(a) == 7 and len(b) == 7 and a != b, "./play --reencode 1 draws other frames (%s; %s without)" % (b, a))
    chk = os.path.join(tmp, "chk_re")
    r = run("play", ["--check", "--run", rundir, "--check-frames", "50", "--reencode", "3", "--out", chk], tmp)
    if check(r.returncode == 0, "./play --check --reencode 3: " + r.stderr[-300:]):
        check("Re-encoded every 3 steps" in open(os.path.join(chk, "check.md")).read(), "check.md names it")
    for prog, val in (("eval", "-1"), ("play", "x"), ("eval", "0.5")):
        r = run(prog, ["--run", rundir, "--reencode", val], tmp)
        check(r.returncode != 0 and r.stderr.count("\n") == 1 and "--reencode" in r.stderr,
              "%s --reencode %s refused in one line: %s" % (prog, val, r.stderr))


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_spatial_"))
