#!/usr/bin/env python3
"""test_history_cli.py - dynamics.history end to end on a tiny spatial config (seconds):

  1. stage = both with dynamics.history = 3 (and 2 hypotheses, 2-step windows with scheduled
     sampling) trains; the dynamics checkpoint says history = 3 and conv_in takes the latent,
     the buttons and 3 difference planes per latent channel; the loss is finite and falls;
  2. ./eval and ./play (--policy random, T = 0 twice: the same frames) run on it; the same for
     a history of steps back (dynamics.history = 1,3,7: history_offsets in the checkpoint,
     refused by ./eval when config.ini names other steps), trained with dynamics.event_weight
     (the windows of the biggest latent changes drawn 4 times: the epoch's count adds up); ./play
     from a recording's frame takes its real past (other steps than from a PNG of that frame);
     dynamics.hyp_choice = cell (a chooser per cell) trains, says so in the checkpoint and the
     model table, and ./eval --hyp-oracle counts its cells; ./play at T = 0 replays it;
  3. refused in one line before any file: the history on a flat latent, a history out of range,
     a run whose config.ini disagrees with its checkpoint (./eval), ./export of such a run.
"""
import csv
import json
import os
import re
import shutil

import numpy as np
import subprocess
import sys

from nemutest import BIN, check, log_rows, record, refused, run_in_tempdir, write_config
from test_spatial_cli import CONFIG

try:
    import h5py
except ImportError:
    h5py = None
try:
    from PIL import Image
except ImportError:
    Image = None


def run(prog, args, cwd, timeout=300):
    return subprocess.run([os.path.join(BIN, prog)] + args, cwd=cwd, capture_output=True, text=True, timeout=timeout)


HIST = ["--set", "dynamics.history=3", "--set", "dynamics.hypotheses=2", "--set", "dynamics.rollout_steps=2",
        "--set", "dynamics.sampling_start=0", "--set", "dynamics.sampling_end=0.5"]


def play_twice(rundir, steps, tmp, tag, what, hyps):
    """./play --policy random --steps `steps` of rundir twice (T = 0): each run's PNG frames, read.
    Its --csv names the candidate that drew each frame (none at frame 0): at T = 0 the most probable
    of the `hyps`, so its probability (or with a chooser per cell, the share of the cells that took
    it) is at least 1 / hyps; the same both times."""
    runs, picks = [], []
    for k in range(2):
        d, csvp = os.path.join(tmp, "%s%d" % (tag, k)), os.path.join(tmp, "%s%d.csv" % (tag, k))
        r = run("play", ["--run", rundir, "--policy", "random", "--steps", str(steps), "--fps", "0", "--png-dir", d,
                         "--csv", csvp], tmp)
        if check(r.returncode == 0, "%s: %s" % (what, r.stderr[-300:])):
            runs.append([open(os.path.join(d, f), "rb").read() for f in sorted(os.listdir(d))])
            rows = list(csv.DictReader(open(csvp)))
            picks.append([(x["hypothesis"], x["hyp_p"]) for x in rows])
    if len(picks) == 2:
        p = picks[0]
        check(len(p) == steps + 1 and p[0] == ("", "") and
              all(0 <= int(h) < hyps and 1.0 / hyps - 1e-4 <= float(q) <= 1 for h, q in p[1:]) and picks[1] == p,
              "%s: --csv names the candidate of each step, probability >= 1/%d, the same twice: %s" % (what, hyps, p[:4]))
    return runs


def body(tmp):
    data = record(tmp, 6, 40, 3)
    cfg = write_config(tmp, CONFIG, data=data)

    # 1. both stages with a history
    r = run("train", [cfg, "--set", "run.name=h", "--set", "train.epochs=2"] + HIST, tmp)
    if not check(r.returncode == 0, "stage = both with dynamics.history = 3 trains: " + r.stderr[-300:]):
        return
    check("+ 12 history planes" in r.stdout, "the model table shows 3 x 4 history planes")
    rundir = os.path.join(tmp, "runs", "h")
    rows = log_rows(rundir, "dynamics")
    loss = [float(x["train_loss"]) for x in rows]
    check(len(rows) == 3 and all(v == v and abs(v) < 1e9 for v in loss) and loss[-1] < loss[0],
          "3 dynamics rows, finite, falling: %s" % loss)
    if h5py:
        with h5py.File(os.path.join(rundir, "dyn_best.h5"), "r") as f:
            check(f.attrs["history"] == 3 and f["state_dict/conv_in.weight"].shape == (8, 4 + 8 + 12, 3, 3),
                  "dyn_best.h5: history = 3, conv_in.weight %s" % (f["state_dict/conv_in.weight"].shape,))

    # 2. eval and play
    out = os.path.join(tmp, "res")
    r = run("eval", ["--run", rundir, "--episodes", "1", "--starts", "2", "--steps", "1,3", "--out", out], tmp)
    check(r.returncode == 0 and os.path.exists(os.path.join(out, "eval.csv")), "./eval: " + r.stderr[-300:])
    # --hyp-oracle: the candidate nearest the encoded true next frame at each of 2 starts x 3 steps
    oo = os.path.join(tmp, "res_oracle")
    r = run("eval", ["--run", rundir, "--episodes", "1", "--starts", "2", "--steps", "1,3", "--hyp-oracle", "frame",
                     "--out", oo], tmp)
    if check(r.returncode == 0, "./eval --hyp-oracle: " + r.stderr[-300:]):
        js, js0 = (json.load(open(os.path.join(d, "eval.json"))) for d in (oo, out))
        ho = js.get("hyp_oracle", {})
        check(ho.get("kind") == "frame" and ho.get("choices") == 6 and 0 <= ho.get("most_probable_nearest", -1) <= 6 and
              "hypotheses chosen by an oracle" in r.stdout and "hyp_oracle" not in js0 and
              "spawn tests take the candidate nearest the engine's next frame" in r.stdout,
              "--hyp-oracle: 6 choices, said in eval.md and eval.json: %s" % ho)
        check([x for x in js["rows"] if x["row"] != "model"] == [x for x in js0["rows"] if x["row"] != "model"],
              "--hyp-oracle: the copy and recon rows as without it")
    # --hyp-oracle cell: each grid cell its own nearest candidate
    oc = os.path.join(tmp, "res_oracle_cell")
    r = run("eval", ["--run", rundir, "--episodes", "1", "--starts", "2", "--steps", "1,3", "--hyp-oracle", "cell",
                     "--out", oc], tmp)
    if check(r.returncode == 0, "./eval --hyp-oracle cell: " + r.stderr[-300:]):
        js = json.load(open(os.path.join(oc, "eval.json")))
        check(js.get("hyp_oracle", {}).get("kind") == "cell" and "--hyp-oracle cell" in r.stdout,
              "--hyp-oracle cell: said in eval.md and eval.json: %s" % js.get("hyp_oracle"))
    for bad_args in (["--hyp-oracle", "frame", "--samples", "2", "--temperature", "1"], ["--hyp-oracle", "best"]):
        r = run("eval", ["--run", rundir] + bad_args, tmp)
        check(r.returncode != 0 and r.stderr.count("\n") == 1 and "--hyp-oracle" in r.stderr,
              "%s refused in one line: %s" % (bad_args, r.stderr))
    frames = play_twice(rundir, 12, tmp, "png", "./play --policy random", 2)
    check(len(frames) == 2 and len(frames[0]) == 13 and frames[0] == frames[1],
          "./play at T = 0 replays the same 13 frames")

    # 2a. a chooser per cell: hyp_choice in the checkpoint; the oracle counts cells that count
    r = run("train", [cfg, "--set", "run.name=hc", "--set", "train.epochs=1", "--set", "dynamics.hyp_choice=cell"] +
            HIST, tmp)
    if check(r.returncode == 0, "dynamics.hyp_choice = cell trains: " + r.stderr[-300:]):
        mc = re.search(r"2 hypotheses, chosen per cell: each of the (\d+) cells", r.stdout)
        cells = int(mc.group(1)) if mc else 0
        check(cells > 1, "the model table says per cell (%d cells)" % cells)
        hc = os.path.join(tmp, "runs", "hc")
        if h5py:
            with h5py.File(os.path.join(hc, "dyn_best.h5"), "r") as f:
                v = f.attrs.get("hyp_choice", b"")
                check((v.decode() if isinstance(v, bytes) else str(v)) == "cell", "dyn_best.h5: hyp_choice = cell")
        oh = os.path.join(tmp, "res_hc")
        r = run("eval", ["--run", hc, "--episodes", "1", "--starts", "2", "--steps", "1,3", "--hyp-oracle", "frame",
                         "--out", oh], tmp)
        if check(r.returncode == 0, "./eval --hyp-oracle on a chooser per cell: " + r.stderr[-300:]):
            ho = json.load(open(os.path.join(oh, "eval.json"))).get("hyp_oracle", {})
            check(ho.get("chooser") == "cell" and 0 <= ho.get("most_probable_nearest", -1) <= ho.get("choices", -1) <=
                  6 * cells and "nearest in its cell" in r.stdout, "the oracle counts cells: %s" % ho)
        pf = play_twice(hc, 6, tmp, "pngc", "./play a chooser per cell", 2)
        check(len(pf) == 2 and len(pf[0]) == 7 and pf[0] == pf[1], "./play per cell at T = 0 replays the same 7 frames")

    # 2b. the history as steps back (1,3,7): trained with 2-step windows from the real past, then
    # ./eval (rollouts from the 7 real frames before each start) and ./play; the checkpoint says so
    # (with dynamics.event_weight = 4: the windows of the largest 10% of latent changes 4 times)
    r = run("train", [cfg, "--set", "run.name=hs", "--set", "train.epochs=1", "--set", "dynamics.history=1,3,7",
                      "--set", "dynamics.rollout_steps=2", "--set", "dynamics.event_weight=4",
                      "--set", "dynamics.event_share=0.1"], tmp)
    if check(r.returncode == 0, "dynamics.history = 1,3,7 trains: " + r.stderr[-300:]):
        check("history: the latents 1,3,7 steps before" in r.stdout, "the model table names the steps back")
        m = re.search(r"events: (\d+) of (\d+) training windows hold a step among the largest 0.1 of the latent "
                      r"changes \(RMS >= [0-9.]+\), drawn 4 times: (\d+) windows an epoch", r.stdout)
        check(m and 0 < int(m.group(1)) < int(m.group(2)) and int(m.group(3)) == int(m.group(2)) + 3 * int(m.group(1)),
              "event_weight 4: the event windows drawn 4 times (%s)" % (m.group(0) if m else "no events line"))
        hs = os.path.join(tmp, "runs", "hs")
        if h5py:
            with h5py.File(os.path.join(hs, "dyn_best.h5"), "r") as f:
                ho = f.attrs["history_offsets"]
                ho = ho.decode() if isinstance(ho, bytes) else str(ho)
                check(f.attrs["history"] == 3 and ho == "1,3,7" and
                      f["state_dict/conv_in.weight"].shape == (8, 4 + 8 + 12, 3, 3),
                      "dyn_best.h5: history = 3, history_offsets = %s" % ho)
        check("\nhistory = 1,3,7\n" in open(os.path.join(hs, "config.ini")).read(), "config.ini: history = 1,3,7")
        r = run("eval", ["--run", hs, "--episodes", "1", "--starts", "2", "--steps", "1,9", "--out",
                         os.path.join(tmp, "res_hs")], tmp)
        check(r.returncode == 0, "./eval of the steps-back run: " + r.stderr[-300:])
        r = run("play", ["--run", hs, "--policy", "random", "--steps", "10", "--fps", "0", "--png-dir",
                         os.path.join(tmp, "png_hs")], tmp)
        check(r.returncode == 0 and len(os.listdir(os.path.join(tmp, "png_hs"))) == 11,
              "./play of the steps-back run: " + r.stderr[-300:])
        # ./play from a recording's frame takes the frames before it as the history (as ./eval); from a
        # PNG of the same frame, the start frame repeated: the same frame 0, other frames after it
        # (the history planes' weights of conv_in and conv_out's made large, so that the 1-epoch model's
        # history shows in the 8-bit frames)
        if h5py and Image:
            with h5py.File(data, "r") as f:   # the frame whose 7 frames before differ most from it
                obs = f["episode_0/observations"][...].astype(np.float32)
                t0 = max(range(8, len(obs)), key=lambda t: sum(np.abs(obs[t - k] - obs[t]).sum() for k in (1, 3, 7)))
                Image.fromarray(obs[t0].astype(np.uint8)).save(os.path.join(tmp, "f20.png"))
            big = os.path.join(tmp, "runs", "hsbig")
            shutil.copytree(hs, big)
            with h5py.File(os.path.join(big, "dyn_best.h5"), "r+") as f:
                w = f["state_dict/conv_in.weight"]
                v = w[...]
                v[:, 12:] = 0.5 * np.sign(np.sin(np.arange(v[:, 12:].size))).reshape(v[:, 12:].shape)
                w[...] = v
                f["state_dict/conv_out.weight"][...] = 20 * f["state_dict/conv_out.weight"][...]
            with h5py.File(os.path.join(big, "ae_best.h5"), "r+") as f:   # latents far apart between frames
                f["state_dict/latent_enc.weight"][...] = 50 * f["state_dict/latent_enc.weight"][...]
            got = {}
            for name, start in (("h5", "%s:0:%d" % (data, t0)), ("png", os.path.join(tmp, "f20.png"))):
                d = os.path.join(tmp, "past_" + name)
                r = run("play", ["--run", big, "--start", start, "--policy", "idle", "--steps", "4", "--fps", "0",
                                 "--png-dir", d], tmp)
                if check(r.returncode == 0, "./play --start %s: %s" % (start, r.stderr[-300:])):
                    got[name] = [open(os.path.join(d, x), "rb").read() for x in sorted(os.listdir(d))]
            if len(got) == 2:
                check(got["h5"][0] == got["png"][0] and got["h5"][1:] != got["png"][1:],
                      "./play from FILE.h5:0:%d and from a PNG of that frame: the same frame 0, then the real "
                      "past changes the steps" % t0)
        hb = os.path.join(tmp, "runs", "hsbad")
        shutil.copytree(hs, hb)
        ini = open(os.path.join(hb, "config.ini")).read().replace("history = 1,3,7", "history = 1,3,8")
        open(os.path.join(hb, "config.ini"), "w").write(ini)
        r = run("eval", ["--run", hb, "--out", os.path.join(tmp, "res_hsbad")], tmp)
        refused(r, "./eval of a run whose config.ini names other steps back", ["history = 1,3,7", "1,3,8"])

    # 3. refusals, one line before any file
    cfg_flat = os.path.join(tmp, "flat.ini")
    open(cfg_flat, "w").write(open(cfg).read().replace("latent = spatial\nlatent_channels = 4\n", "latent_dim = 16\n")
                              .replace("blocks = 1\n", ""))
    r = run("train", [cfg_flat, "--set", "run.name=hf", "--set", "dynamics.history=2"], tmp)
    refused(r, "history on a flat latent", ["dynamics.history", "spatial"])
    check(not os.path.exists(os.path.join(tmp, "runs", "hf")), "no run folder for the refused flat config")
    r = run("train", [cfg, "--set", "run.name=hb", "--set", "dynamics.history=33"], tmp)
    refused(r, "history 33", ["dynamics.history"])
    bad = os.path.join(tmp, "runs", "hbad")
    shutil.copytree(rundir, bad)
    ini = open(os.path.join(bad, "config.ini")).read().replace("history = 3", "history = 2")
    open(os.path.join(bad, "config.ini"), "w").write(ini)
    r = run("eval", ["--run", bad, "--out", os.path.join(tmp, "res_bad")], tmp)
    refused(r, "./eval of a run whose config.ini says another history", ["history"])
    check(not os.path.exists(os.path.join(tmp, "res_bad")), "no eval folder for the refused run")
    if os.access(os.path.join(BIN, "export"), os.X_OK):
        r = run("export", ["--run", rundir, "--out", os.path.join(tmp, "x")], tmp)
        refused(r, "./export of a run with a history", ["dynamics.history"])


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_history_", ("gen", "train", "eval", "play")))
