#!/usr/bin/env python3
"""test_sweep_cli.py - ./sweep end to end on a tiny config (seconds): bad grids stop with one
line before any file; --slurm writes one config per point and a job array; writing the same
sweep again is allowed, another grid under the same name is not; --local -j 2 trains and
evaluates every point; --collect writes the sorted summary (md, csv, png); ./train
--resume-or-start starts a missing run, resumes an existing one and refuses another config."""
import csv
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemutest import BIN, check, run_in_tempdir, tiny_config  # noqa: E402

CONFIG = tiny_config({"run": {"threads": 1}, "data": {"path": "d.h5", "val_split": None},
                      "train": {"lr": None, "epochs": 1}, "eval": {"steps": "1,2", "starts": 2}})


def sweep(args, cwd):
    return subprocess.run([os.path.join(BIN, "sweep")] + args, cwd=cwd, capture_output=True, text=True, timeout=600)


def one_line_error(r, what):
    check(r.returncode != 0 and len(r.stderr.strip().split("\n")) == 1, what + ": one line, non-zero exit: " + r.stderr)


def body(tmp):
    g = subprocess.run([os.path.join(BIN, "gen"), "tetris", "--episodes", "5", "--steps", "30", "--seed", "3",
                        "--out", os.path.join(tmp, "d.h5")], capture_output=True, text=True)
    check(g.returncode == 0, "gen tetris for the test data: " + g.stderr)
    open(os.path.join(tmp, "t.ini"), "w").write(CONFIG)
    grid = ["--grid", "train.lr=3e-3,1e-3"]

    # bad input: one line, nothing written
    for args, what in [(["t.ini", "--grid", "train.nope=1,2"], "unknown key"),
                       (["t.ini", "--grid", "train.lr=1e-3,-1"], "value out of range"),
                       (["t.ini", "--grid", "train.lr"], "grid without values"),
                       (["t.ini", "--grid", "train.lr=1e-3,"], "empty value"),
                       (["missing.ini"] + grid, "missing config"),
                       (["t.ini"], "no grid"),
                       (["t.ini", "--set", "run.threads=0", "--slurm"] + grid, "--slurm with run.threads = 0"),
                       (["t.ini", "--slurm", "--local"] + grid, "--slurm with --local"),
                       (["--collect", "nosuch"], "collect of a missing sweep")]:
        one_line_error(sweep(args, tmp), what)
        check(not os.path.exists(os.path.join(tmp, "sweeps")), what + ": no sweeps/ folder")

    # --slurm: configs, points.tsv and the job array
    r = sweep(["t.ini", "--slurm", "--name", "s", "--time", "0:10:00"] + grid, tmp)
    check(r.returncode == 0, "sweep --slurm exits 0: " + r.stderr)
    sd = os.path.join(tmp, "sweeps", "s")
    check(sorted(os.listdir(sd)) == ["job.sbatch", "lr1e-3.ini", "lr3e-3.ini", "points.tsv"],
          "sweeps/s holds the configs, points.tsv and job.sbatch: %s" % os.listdir(sd))
    ini = open(os.path.join(sd, "lr3e-3.ini")).read()
    check("name = s_lr3e-3" in ini and "lr = 0.003" in ini, "a point's config is resolved with its run name and value")
    job = open(os.path.join(sd, "job.sbatch")).read()
    for line in ["#SBATCH --array=0-1", "#SBATCH --cpus-per-task=1", "#SBATCH --signal=TERM@120", "#SBATCH --requeue",
                 "#SBATCH --time=0:10:00", "--resume-or-start", "scontrol requeue"]:
        check(line in job, "job.sbatch has " + line)
    check(sweep(["t.ini", "--slurm", "--name", "s"] + grid, tmp).returncode == 0, "the same sweep may be written again")
    one_line_error(sweep(["t.ini", "--slurm", "--name", "s", "--grid", "train.lr=1e-2,1e-3"], tmp),
                   "another grid under an existing name")

    # --local -j 2, then --collect
    r = sweep(["t.ini", "--local", "-j", "2", "--name", "s"] + grid, tmp)
    check(r.returncode == 0, "sweep --local exits 0: " + r.stdout[-500:] + r.stderr[-500:])
    for p in ["lr3e-3", "lr1e-3"]:
        check(os.path.isfile(os.path.join(sd, p, "eval.json")), p + ": evaluated into sweeps/s/" + p)
        check(os.path.isfile(os.path.join(tmp, "runs", "s_" + p, "dyn_best.h5")), p + ": trained as runs/s_" + p)
    r = sweep(["--collect", "s", "--sort", "l1@2"], tmp)
    check(r.returncode == 0, "sweep --collect exits 0: " + r.stderr)
    for f in ["summary.md", "summary.csv", "summary.png"]:
        check(os.path.isfile(os.path.join(sd, f)), "collect wrote " + f)
    rows = list(csv.DictReader(open(os.path.join(sd, "summary.csv"))))
    check(len(rows) == 2 and list(rows[0].keys())[0] == "train.lr", "one row per point, the grid column first")
    l1 = [float(x["l1@2"]) for x in rows]
    check(l1 == sorted(l1) and all(x["state"] == "evaluated" for x in rows), "sorted by l1@2, lowest first: %s" % l1)
    one_line_error(sweep(["--collect", "s", "--sort", "nope"], tmp), "--sort of an unknown column")

    # ./train --resume-or-start: resumes (a finished run: nothing left to do), refuses another config
    train = os.path.join(BIN, "train")
    r = subprocess.run([train, os.path.join(sd, "lr1e-3.ini"), "--resume-or-start"], cwd=tmp, capture_output=True,
                       text=True, timeout=300)
    check(r.returncode == 0 and "resuming" in r.stdout, "--resume-or-start resumes an existing run: " + r.stderr[-300:])
    r = subprocess.run([train, os.path.join(sd, "lr1e-3.ini"), "--resume-or-start", "--set", "train.lr=0.01"],
                       cwd=tmp, capture_output=True, text=True, timeout=300)
    one_line_error(r, "--resume-or-start with another config")
    r = subprocess.run([train, "t.ini", "--resume-or-start", "--set", "run.name=fresh", "--set", "train.stage=autoencoder"],
                       cwd=tmp, capture_output=True, text=True, timeout=300)
    check(r.returncode == 0 and "resuming" not in r.stdout and os.path.isfile(os.path.join(tmp, "runs", "fresh", "ae_best.h5")),
          "--resume-or-start starts a missing run: " + r.stderr[-300:])


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_sweep_", ("gen", "train", "eval", "sweep")))
