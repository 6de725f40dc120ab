#!/usr/bin/env python3
"""test_eval_cli.py - `./eval` rollout evaluation end to end.

In a temp dir (the cwd of every command, so runs/ and results/ land there): records a tiny
Tetris dataset with $NEMU_BIN/gen, trains a tiny stage=both run with $NEMU_BIN/train (32x32
RGB, latent 8, base 4 channels, 1 epoch each, 2 test episodes), then checks:
  - ./eval with no options finds the run, prints the Markdown table, writes eval.md (= stdout),
    eval.csv, eval.json (parses; run, config hash, data, split, seed, steps, rows), rollouts.png
    and eval_plot.png; the paired model-against-copy table (its means = the rows' differences);
    starts.csv (each start point's model and copy at each step; its means = the table's); the [eval] section of the run's config gives the defaults
  - the same command twice prints the same table; another --seed other start points
  - --out DIR, --episodes, --starts; --data with another file (all its episodes)
  - bad input: one line on stderr, non-zero exit, nothing on stdout, old results untouched:
    steps longer than every test episode, a run folder without dyn_best.h5, no runs at all,
    a --data file whose frames cannot become the run's (grey file, RGB run; needs h5py),
    temperature/samples for a deterministic model, bad option values
Only the standard library is needed (h5py for the one --data check).
"""
import json
import os
import shutil
import sys

from nemutest import check, have, refused, record, run, run_in_tempdir, tiny_config, train, write_config


def table(out):
    """The first Markdown table of out (the frame metrics; the emulation tables follow)."""
    lines, started = [], False
    for l in out.splitlines():
        if l.startswith("|"):
            lines.append(l)
            started = True
        elif started:
            break
    return lines


CONFIG = tiny_config({"run": {"name": "{name}", "threads": 1},
                      "data": {"channels": 3, "test_episodes": 2, "val_split": None},
                      "train": {"lr": None, "epochs": 1}, "eval": {"steps": "1,5,10,30", "starts": 3}})


def body(tmp):
    data = record(tmp, 6, 40, 3)
    name = f"evaltest_{os.getpid()}"
    write_config(tmp, CONFIG, name=name, data=data)

    # no runs at all
    refused(run("eval", cwd=tmp), "no runs/ folder", ["runs/"])
    if not train(tmp, "tiny.ini"):
        return
    rundir = os.path.join("runs", name)
    results = os.path.join(tmp, "results", name)

    # the default run, the [eval] section's defaults
    r1 = run("eval", cwd=tmp)
    check(r1.returncode == 0, f"eval: {r1.stderr}")
    t1 = table(r1.stdout)
    check(len(t1) == 2 + 4 * 3, f"table has header + 12 rows: {len(t1)}")
    check(any(l.startswith("| 30 | recon |") for l in t1), "row '| 30 | recon |'")
    files = ["eval.md", "eval.csv", "eval.json", "rollouts.png", "eval_plot.png", "starts.csv"]
    for fn in files:
        check(os.path.isfile(os.path.join(results, fn)), f"{fn} written")
    check(not [f for f in os.listdir(results) if f.endswith(".part") or f.endswith(".tmp")], "no temp files left")
    for fn in ("rollouts.png", "eval_plot.png"):
        with open(os.path.join(results, fn), "rb") as f:
            check(f.read(8) == b"\x89PNG\r\n\x1a\n", f"{fn} is a PNG")
    with open(os.path.join(results, "eval.md")) as f:
        check(f.read() == r1.stdout, "eval.md = stdout")
    with open(os.path.join(results, "eval.json")) as f:
        js = json.load(f)
    check(js["run"] == rundir and js["run_name"] == name, f"json run {js['run']}")
    check(len(js["config_hash"]) == 16 and js["data"] == data, "json config hash and data")
    check(js["steps"] == [1, 5, 10, 30] and js["seed"] == 7 and js["starts_per_episode"] == 3, "json settings")
    check(js["split"]["kind"] == "test" and len(js["split"]["evaluated_ids"]) == 2, f"json split {js['split']}")
    with open(os.path.join(tmp, rundir, "split.txt")) as f:
        test_ids = [int(x) for l in f if l.startswith("test:") for x in l.split()[1:]]
    check(sorted(js["split"]["evaluated_ids"]) == sorted(test_ids), "evaluated episodes = split.txt test")
    check(all(sp[0] in test_ids and 0 <= sp[1] <= 40 - 30 for sp in js["start_points"]), "start points in test eps")
    check(js["n_starts"] == 6 and len(js["rows"]) == 12, f"json rows {len(js['rows'])}")
    row = js["rows"][1]
    check(row["row"] == "copy" and row["n"] == 6 and row["ssim"]["lo"] <= row["ssim"]["mean"] <= row["ssim"]["hi"],
          f"json row {row}")
    # model against copy, paired: the mean of the differences is the difference of the rows' means
    by = {(r["step"], r["row"]): r for r in js["rows"]}
    check([p["step"] for p in js["paired"]] == [1, 5, 10, 30], "json paired steps")
    for p in js["paired"]:
        m, c = by[(p["step"], "model")], by[(p["step"], "copy")]
        d, l = p["ssim_model_minus_copy"], p["l1_copy_minus_model"]
        check(p["n"] == 6 and abs(d["mean"] - (m["ssim"]["mean"] - c["ssim"]["mean"])) < 1e-6 and
              abs(l["mean"] - (c["l1"]["mean"] - m["l1"]["mean"])) < 1e-6 and 0 <= p["ssim_above_copy"] <= 6,
              f"paired step {p['step']}: {p}")
    check("## Model against copy, paired" in r1.stdout and
          sum(1 for l in r1.stdout.splitlines() if l.startswith("| 30 | ") and " of 6 |" in l) == 1,
          "eval.md: the paired table, 30 steps")
    with open(os.path.join(results, "eval.csv")) as f:
        csv = f.read().splitlines()
    check(len(csv) == 13 and csv[0].startswith("step,row,n,l1_mean"), "csv lines")
    # starts.csv: every start point at every step; its rows' means are the table's
    with open(os.path.join(results, "starts.csv")) as f:
        st = f.read().splitlines()
    check(st[0] == "start,episode,t,step,model_ssim,copy_ssim,model_l1,copy_l1" and len(st) == 1 + 6 * 4,
          f"starts.csv: header and 24 rows: {st[:2]} {len(st)}")
    cells = [x.split(",") for x in st[1:]]
    check([(int(c[1]), int(c[2])) for c in cells[::4]] == [tuple(sp) for sp in js["start_points"]],
          "starts.csv: the json's start points, in order")
    for k, (col, row, key) in enumerate(((4, "model", "ssim"), (5, "copy", "ssim"), (6, "model", "l1"), (7, "copy", "l1"))):
        mean = sum(float(c[col]) for c in cells if c[3] == "30") / 6
        check(abs(mean - by[(30, row)][key]["mean"]) < 1e-6, f"starts.csv {row} {key} at 30 = the table's: {mean}")

    # seeded: same table twice; another seed, other start points
    r2 = run("eval", cwd=tmp)
    check(r2.returncode == 0 and table(r2.stdout) == t1, "same command, same table")
    r3 = run("eval", "--seed", 99, "--out", "other", cwd=tmp)
    check(r3.returncode == 0, f"eval --seed: {r3.stderr}")
    with open(os.path.join(tmp, "other", "eval.json")) as f:
        js3 = json.load(f)
    check(js3["start_points"] != js["start_points"] and js3["seed"] == 99, "another seed, other start points")
    check(table(r3.stdout) != t1, "another seed, another table")
    for fn in files:
        check(os.path.isfile(os.path.join(tmp, "other", fn)), f"--out: {fn}")

    # options
    r = run("eval", "--run", rundir, "--steps", "2,7", "--episodes", 1, "--starts", 2, "--out", "o2", cwd=tmp)
    check(r.returncode == 0 and len(table(r.stdout)) == 2 + 6, f"--steps/--episodes/--starts: {r.stderr}")
    if r.returncode == 0:
        with open(os.path.join(tmp, "o2", "eval.json")) as f:
            j = json.load(f)
        check(j["n_starts"] == 2 and len(j["split"]["evaluated_ids"]) == 1 and j["steps"] == [2, 7], "option values")
    other = os.path.join(tmp, "e.h5")
    run("gen", "tetris", "--episodes", 3, "--steps", 20, "--seed", 11, "--out", other, cwd=tmp)
    r = run("eval", "--data", other, "--steps", "1,5", "--out", "o3", cwd=tmp)
    check(r.returncode == 0, f"--data another file: {r.stderr}")
    if r.returncode == 0:
        with open(os.path.join(tmp, "o3", "eval.json")) as f:
            j = json.load(f)
        check(j["split"]["kind"] == "all" and len(j["split"]["evaluated_ids"]) == 3 and j["data"] == other,
              f"--data: all episodes of the other file {j['split']}")

    # bad input: one line, non-zero, old results untouched
    with open(os.path.join(results, "eval.json")) as f:
        before = f.read()
    refused(run("eval", "--steps", "1,50", cwd=tmp), "steps longer than every test episode", ["longest", "41 frames"])
    refused(run("eval", "--steps", "1,5,100", cwd=tmp), "steps 100", ["longest"])
    refused(run("eval", "--hyp-oracle", "frame", cwd=tmp), "--hyp-oracle on a model without hypotheses", ["--hyp-oracle", "hypotheses = 1"])
    noddyn = os.path.join(tmp, "runs", "aeonly")
    shutil.copytree(os.path.join(tmp, rundir), noddyn)
    for fn in os.listdir(noddyn):
        if fn.startswith("dyn_"):
            os.remove(os.path.join(noddyn, fn))
    refused(run("eval", "--run", "runs/aeonly", cwd=tmp), "run without dynamics checkpoint", ["dyn_best.h5"])
    r = run("eval", cwd=tmp)   # the default still finds the run that has one
    check(r.returncode == 0 and table(r.stdout) == t1, "default run skips runs without dyn_best.h5")
    os.makedirs(os.path.join(tmp, "empty", "runs", "a"))
    refused(run("eval", cwd=os.path.join(tmp, "empty")), "no dynamics run", ["dyn_best.h5"])
    refused(run("eval", "--run", "runs/nothere", cwd=tmp), "missing run folder", ["nothere"])
    refused(run("eval", "--temperature", 0.5, cwd=tmp), "temperature on a deterministic model", ["deterministic"])
    refused(run("eval", "--samples", 3, cwd=tmp), "samples on a deterministic model", ["deterministic"])
    refused(run("eval", "--steps", "5,1", cwd=tmp), "steps not increasing", ["--steps"])
    refused(run("eval", "--steps", "0", cwd=tmp), "step 0", ["--steps"])
    refused(run("eval", "--steps", "1,x", cwd=tmp), "steps garbage", ["--steps"])
    refused(run("eval", "--starts", 0, cwd=tmp), "starts 0", ["--starts"])
    refused(run("eval", "--episodes", 5, cwd=tmp), "more episodes than held out", ["--episodes"])
    refused(run("eval", "--seed", "-1", cwd=tmp), "negative seed", ["--seed"])
    refused(run("eval", "--bogus", cwd=tmp), "unknown option", ["--bogus"])
    refused(run("eval", "--run", cwd=tmp), "option without value", ["--run"])
    refused(run("eval", "--data", os.path.join(tmp, "missing.h5"), cwd=tmp), "missing data file", ["missing.h5"])
    if have("the grey-data check", "h5py", "numpy"):
        import h5py
        import numpy as np
        grey = os.path.join(tmp, "grey.h5")
        with h5py.File(grey, "w") as f:
            f.attrs["total_episodes"] = 1
            f.attrs["total_steps"] = 12
            g = f.create_group("episode_0")
            g["observations"] = np.random.default_rng(0).integers(0, 255, (13, 32, 32, 1), dtype=np.uint8)
            g["actions"] = np.zeros((12, 8), dtype=np.uint8)
        refused(run("eval", "--data", grey, "--steps", 1, cwd=tmp), "grey data for an RGB run", ["grey.h5"])
    with open(os.path.join(results, "eval.json")) as f:
        check(f.read() == before, "failed runs left the old results alone")
    check(not [f for f in os.listdir(results) if not f in files], f"only result files in {results}")


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_eval_"))
