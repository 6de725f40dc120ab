#!/usr/bin/env python3
"""test_perceptual_cli.py - ./train's perceptual term (roadmap 2.1: train.perceptual_weight,
train.perceptual_model; nn/perceptual.c is tested in test_perceptual.c), end to end (seconds):
  - a plain autoencoder trained first is the frozen feature extractor of a second run:
    it says so (and counts its memory in the estimate), reports the perceptual term each epoch, trains, and ends with another val L1
    than the same run without the term (the term changes the gradient)
  - refused with one line before any run folder: a weight without a model, a missing file, a
    dynamics checkpoint, a checkpoint of other frame sizes
"""
import os

from nemutest import check, log_rows, record, refused, run, run_in_tempdir, tiny_config, train, write_config

CONFIG = tiny_config({"train": {"stage": "autoencoder", "epochs": 2}, "run": {"threads": 1}})


def body(tmp):
    data = record(tmp, 6, 60, 5)
    cfg = write_config(tmp, CONFIG, data=data)
    if not train(tmp, cfg, "--set", "run.name=base"):
        return
    model = os.path.join("runs", "base", "ae_best.h5")
    r = run("train", cfg, "--set", "run.name=perc", "--set", "train.perceptual_weight=0.5", "--set",
            f"train.perceptual_model={model}", cwd=tmp)
    check(r.returncode == 0, f"train with the perceptual term: {r.stdout[-400:]} {r.stderr[-400:]}")
    check(f"L1 + 0.5 x perceptual, on the 3 frozen conv stages of {model} (4, 8, 16 channels" in r.stdout,
          f"the run names its frozen extractor: {r.stdout[:1500]}")
    check("  perceptual (frozen encoder)" in r.stdout, "the memory estimate counts the frozen extractor")
    terms = [float(ln.split(":")[1].split()[0]) for ln in r.stdout.splitlines()
             if ln.startswith("perceptual term (train, this epoch)")]
    check(len(terms) == 2 and all(t > 0 for t in terms), f"the term each epoch: {terms}")
    if not train(tmp, cfg, "--set", "run.name=plain"):
        return
    rp, rb = log_rows(os.path.join(tmp, "runs", "perc")), log_rows(os.path.join(tmp, "runs", "plain"))
    check(len(rp) == 2 and len(rb) == 2 and rp[-1]["val_loss"] != rb[-1]["val_loss"],
          f"val L1 with and without the term: {[x['val_loss'] for x in rp]} vs {[x['val_loss'] for x in rb]}")
    bad = [(["train.perceptual_weight=0.5"], ["perceptual_weight", "needs train.perceptual_model"]),
           (["train.perceptual_weight=0.5", "train.perceptual_model=nope.h5"], ["nope.h5", "No such file"]),
           (["train.perceptual_weight=0.5", "train.perceptual_model=" + data], ["perceptual_model", "checkpoint"]),
           (["train.perceptual_weight=0.5", f"train.perceptual_model={model}", "data.height=16", "data.width=16"],
            ["takes 32x32x1 frames", "16x16x1"])]
    for i, (sets, words) in enumerate(bad):
        args = ["--set", f"run.name=bad{i}"]
        for s in sets:
            args += ["--set", s]
        r = run("train", cfg, *args, cwd=tmp)
        refused(r, " ".join(sets), words)
        check(not os.path.exists(os.path.join(tmp, "runs", f"bad{i}")), f"no run folder after {sets}")


if __name__ == "__main__":
    raise SystemExit(run_in_tempdir(body, "nemu_perc_", programs=("gen", "train")))
