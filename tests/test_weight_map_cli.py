#!/usr/bin/env python3
"""test_weight_map_cli.py - ./train's weight map (train.weight_map, train.weight_map_gain; the
loss, its gradients and the PyTorch/Pillow parity are in test_weight_map.c), end to end (seconds):
  - `gen tetris --hud-mask` writes the Tetris HUD mask (configs/tetris_hud_mask.png's pixels)
  - with that map (gain 30, and train.changed_weight = 4 on top) a flat and a spatial autoencoder
    train, say how many pixels weigh more, record both keys in config.ini, and end with another
    val L1 than the same run without the map (the map changes the gradient)
  - --init from the flat run's ae_best.h5 fine-tunes with the map, as configs/tetris_cell_ae_digits.ini
  - refused with one line before any run folder: a missing map, a file that is not a PNG, a map
    of another size than the frames as stored, a negative gain, a gain without a map
"""
import os

from nemutest import ROOT, check, have, log_rows, record, refused, run, run_in_tempdir, tiny_config, train, write_config

CONFIG = tiny_config({"train": {"stage": "autoencoder", "epochs": 2}, "run": {"threads": 1}})
MASK = os.path.join(ROOT, "configs", "tetris_hud_mask.png")


def body(tmp):
    data = record(tmp, 6, 60, 5)
    cfg = write_config(tmp, CONFIG, data=data)
    out = os.path.join(tmp, "mask.png")
    r = run("gen", "tetris", "--hud-mask", out, cwd=tmp)
    check(r.returncode == 0 and "256x240 grey, white on the digit cells of 4 number fields" in r.stderr,
          f"gen tetris --hud-mask: {r.stderr}")
    if have("the mask's pixels against configs/tetris_hud_mask.png", "PIL", "numpy"):
        import numpy as np
        from PIL import Image
        a, b = np.asarray(Image.open(out)), np.asarray(Image.open(MASK))
        check(a.shape == (240, 256) and (a == b).all() and int((a == 255).sum()) == 17 * 64,
              f"the committed mask is the generator's: {a.shape} {int((a == 255).sum())}")
    wm = ["--set", f"train.weight_map={MASK}", "--set", "train.weight_map_gain=30", "--set", "train.changed_weight=4"]
    spatial = tiny_config({"train": {"stage": "autoencoder", "epochs": 2}, "run": {"threads": 1},
                           "model": {"latent": "spatial", "latent_dim": None, "latent_channels": 4}})
    for fam, cf in (("flat", cfg), ("spatial", write_config(tmp, spatial, out="spatial.ini", data=data))):
        r = run("train", cf, "--set", f"run.name={fam}_map", *wm, cwd=tmp)
        check(r.returncode == 0, f"{fam} with the map: {r.stdout[-400:]} {r.stderr[-400:]}")
        check(f"train.weight_map = {MASK}: " in r.stdout and "of 1024 pixels weigh more (up to 1 + 30), resized to "
              "32x32 as the frames" in r.stdout, f"{fam}: the map line: {r.stdout[:600]}")
        ini = open(os.path.join(tmp, "runs", f"{fam}_map", "config.ini")).read()
        gain = [ln.split("=")[1] for ln in ini.splitlines() if ln.startswith("weight_map_gain =")]
        check(f"weight_map = {MASK}\n" in ini and len(gain) == 1 and float(gain[0]) == 30,
              f"{fam}: config.ini records the map and its gain: {gain}")
        if not train(tmp, cf, "--set", f"run.name={fam}_plain", "--set", "train.changed_weight=4"):
            return
        rm, rp = log_rows(os.path.join(tmp, "runs", f"{fam}_map")), log_rows(os.path.join(tmp, "runs", f"{fam}_plain"))
        check(len(rm) == 2 and len(rp) == 2 and rm[-1]["val_loss"] != rp[-1]["val_loss"] and
              float(rm[0]["train_loss"]) > float(rp[0]["train_loss"]),
              f"{fam}: train (weighted) and val L1 with and without the map: {[(x['train_loss'], x['val_loss']) for x in rm]}"
              f" vs {[(x['train_loss'], x['val_loss']) for x in rp]}")
    init = os.path.join("runs", "flat_map", "ae_best.h5")
    r = run("train", cfg, "--init", init, "--set", "run.name=ft", "--set", "train.epochs=1", *wm[:4], cwd=tmp)
    check(r.returncode == 0 and len(log_rows(os.path.join(tmp, "runs", "ft"))) == 1,
          f"--init {init} with the map: {r.stderr[-400:]}")
    with open(os.path.join(tmp, "notpng.png"), "w") as f:
        f.write("not a png\n")
    r = run("gen", "tetris", "--sheet", os.path.join(tmp, "sheet.png"), cwd=tmp)   # a PNG of another size
    check(r.returncode == 0, f"gen tetris --sheet: {r.stderr}")
    bad = [(["train.weight_map=nope.png", "train.weight_map_gain=3"], ["train.weight_map", "nope.png", "No such file"]),
           (["train.weight_map=notpng.png", "train.weight_map_gain=3"], ["notpng.png", "not a PNG file"]),
           ([f"train.weight_map={os.path.join(tmp, 'sheet.png')}", "train.weight_map_gain=3"],
            ["train.weight_map", "is 1024x960 (WxH) but the frames of", "are 256x240 as stored"]),
           ([f"train.weight_map={MASK}", "train.weight_map_gain=-2"], ["weight_map_gain", "expected a number"]),
           (["train.weight_map_gain=3"], ["weight_map_gain", "needs train.weight_map"])]
    for i, (sets, words) in enumerate(bad):
        args = ["--set", f"run.name=bad{i}"]
        for s in sets:
            args += ["--set", s]
        r = run("train", cfg, *args, cwd=tmp)
        refused(r, " ".join(sets), words)
        check(not os.path.exists(os.path.join(tmp, "runs", f"bad{i}")), f"no run folder after {sets}")


if __name__ == "__main__":
    raise SystemExit(run_in_tempdir(body, "nemu_wmap_", programs=("gen", "train")))
