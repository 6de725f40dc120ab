#!/usr/bin/env python3
"""test_colour_cli.py - the phase 4 configs and the colour and digit measures end to end.

In a temp dir: records 3 short Tetris episodes (native 256x240 RGB, with replay seeds), then for
configs/tetris_rgb.ini (80x80 RGB) and configs/tetris_native.ini (240x256 RGB, 3 stages, its digit weight map):
  - `./train CONFIG --set train.epochs=1` on that file (the smoke run CI can afford) finishes,
    in under 20 s each, and its training memory estimate is within 10% of the peak RSS; so does
    the conv dynamics (configs/tetris_spatial_dynamics.ini) of one epoch on the native smoke run,
    whose peak comes after training, from its closing checks and rollout.png
  - `./eval --recon FILE --run` prints the colour and digits section: the source frames read
    100.00% of their digits (at 80x80 too), a recon row follows, RGB gets the per-palette table
  - a conv dynamics of one epoch on the RGB smoke run, then `./eval --steps 1,5`: eval.md has the
    section with source, recon, copy k and model k rows, eval.json its "colour_digits" member
    (source digit accuracy 1, hue error 0, ten per-palette hue errors per row)
  - a file of another game (the seeds deleted) says why the measures are unavailable
"""
import json
import os
import re
import time

from nemutest import ROOT, check, have, record, run, run_in_tempdir, train, without_attrs

if have("the h5py part", "h5py"):
    import h5py
else:
    h5py = None

SMALL = ["--set", "data.test_episodes=1", "--set", "data.val_split=0.3",
         "--set", "train.epochs=1", "--set", "train.batch_size=8", "--set", "run.threads=2"]


def smoke(tmp, data, cfg, name, *sets, budget=20):
    t0 = time.time()
    r = run("train", os.path.join(ROOT, "configs", cfg), "--set", f"data.path={data}", "--set", f"run.name={name}",
            *SMALL, *sets, cwd=tmp)
    dt = time.time() - t0
    print(f"  {cfg}: train.epochs=1 smoke run {dt:.1f} s")
    if not check(r.returncode == 0, f"{cfg} smoke run: {r.stdout[-400:]} {r.stderr[-400:]}"):
        return False
    check(dt < budget, f"{cfg} smoke run took {dt:.1f} s (CI budget {budget} s)")
    m = re.search(r"peak RSS (\d+) MB, estimated (\d+) MB", r.stdout)
    if check(m is not None, f"{cfg}: peak RSS and estimate printed"):
        peak, est = int(m.group(1)), int(m.group(2))
        print(f"  {cfg}: peak RSS {peak} MB, estimated {est} MB")
        check(abs(peak - est) <= 0.10 * peak, f"{cfg}: estimate {est} MB not within 10% of peak RSS {peak} MB")
    return True


def eval_rgb(tmp, data):
    if not train(tmp, os.path.join(ROOT, "configs", "tetris_spatial_dynamics.ini"), "--set", f"data.path={data}",
                 "--set", "run.name=rgbdyn", "--set", "model.autoencoder=runs/rgb/ae_best.h5", "--set", "data.channels=3",
                 *SMALL):
        return
    r = run("eval", "--run", "runs/rgbdyn", "--steps", "1,5", "--out", "ev", cwd=tmp)
    if not check(r.returncode == 0, f"eval of the RGB run: {r.stderr[-400:]}"):
        return
    names = [l.split("|")[1].strip() for l in r.stdout.split("## Colour and digits")[-1].splitlines()
             if l.startswith("| ") and "---" not in l]
    check(names[:6] == ["row", "source", "recon", "copy 1", "model 1", "copy 5"], f"colour section rows: {names[:8]}")
    with open(os.path.join(tmp, "ev", "eval.json")) as f:
        cd = json.load(f).get("colour_digits", {})
    rows = {x["row"]: x for x in cd.get("rows", [])}
    check(cd.get("available") is True and set(rows) == {"source", "recon", "copy 1", "model 1", "copy 5", "model 5"},
          f"eval.json colour_digits rows: {list(rows)}")
    src = rows.get("source", {})
    check(src.get("digit_accuracy") == 1 and src.get("hue_error_deg") == 0 and src.get("band_l1") == 0,
          f"source row in eval.json: {src}")
    check(all(len(x["hue_error_per_palette"]) == 10 for x in rows.values()), "ten palettes per row")


def body(tmp):
    data = record(tmp, 3, 20, 11)
    for cfg, name, side in [("tetris_rgb.ini", "rgb", "80x80"), ("tetris_native.ini", "native", "240x256")]:
        # the config's train.weight_map is a path from the repository root; these runs work in tmp
        wmap = ["--set", f"train.weight_map={os.path.join(ROOT, 'configs', 'tetris_hud_mask.png')}"]
        if not smoke(tmp, data, cfg, name, *(wmap if name == "native" else [])):
            continue
        r = run("eval", "--recon", data, "--run", f"runs/{name}", "--out", f"{name}.png", cwd=tmp)
        out = r.stdout
        check(r.returncode == 0 and "## Colour and digits" in out, f"{cfg}: colour and digits section: {r.stderr}")
        src = [l for l in out.splitlines() if l.startswith("| source |")]
        check(len(src) == 1 and src[0].split("|")[3].strip().startswith("100.00%"),
              f"{cfg}: source frames read every digit: {src}")
        check(f"the ceiling at {side}" in out, f"{cfg}: {side}")
        check(any(l.startswith("| recon |") for l in out.splitlines()), f"{cfg}: recon row")
        check("per palette" in out and "| pixels |" in out, f"{cfg}: per-palette hue table")
    if os.path.exists(os.path.join(tmp, "runs", "native")):   # the dynamics on the native autoencoder
        # the budget: its closing checks decode 220 frames at 240x256
        smoke(tmp, data, "tetris_spatial_dynamics.ini", "nativedyn", "--set", "model.autoencoder=runs/native/ae_best.h5",
              "--set", "data.height=240", "--set", "data.width=256", "--set", "data.channels=3", budget=30)
    if not os.path.exists(os.path.join(tmp, "runs", "rgb")):
        return
    eval_rgb(tmp, data)
    if not h5py:
        return
    bare = without_attrs(tmp, data, 3, ["tetris_game_seed"])
    r = run("eval", "--recon", bare, "--run", "runs/rgb", "--out", "bare.png", cwd=tmp)
    check(r.returncode == 0 and "colour and digit measures unavailable" in r.stdout and "no replay seeds" in r.stdout,
          f"unavailable with the reason: {r.stdout[-300:]}")


if __name__ == "__main__":
    raise SystemExit(run_in_tempdir(body, "nemu_colour_"))
