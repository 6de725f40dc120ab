#!/usr/bin/env python3
"""test_resume_kill_cli.py - ./train killed (SIGKILL) at every checkpoint commit, then --resume.

A checkpoint is written as <file>.tmp and renamed onto <file>; an epoch's end commits
<stage>_last.h5 and, when the epoch is the best, <stage>_best.h5. tests/test_train_cli.py
kills at random moments, which rarely land between two of these renames (a clean-clone CI run
once did: a kill after the first dynamics epoch's dyn_best.h5 and before its dyn_last.h5 left a
run that --resume refused). Here an LD_PRELOAD shim (tests/kill_at_rename.c) kills the process
just before and just after each rename onto a .h5 file of an uninterrupted run, so every state
such a kill leaves is made on purpose: a complete .tmp not yet renamed, a log.csv row beyond the
checkpoint's epoch, one of _last/_best of an epoch written and not the other. Each such run then
resumes with exit 0 and ends with the uninterrupted run's weights, Adam state and losses.
Needs cc, h5py and numpy.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

from nemutest import BIN, check, have, summary, tiny_config

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = tiny_config({"train": {"epochs": "2"}, "dynamics": {"epochs": "2"}})
FILES = ["ae_last.h5", "ae_best.h5", "dyn_last.h5", "dyn_best.h5"]


def weights(path):
    import h5py
    with h5py.File(path, "r") as f:
        out = {k: f["state_dict"][k][()] for k in f["state_dict"]}
        for grp in ("exp_avg", "exp_avg_sq"):
            for k in f["optimizer"][grp]:
                out[grp + "/" + k] = f["optimizer"][grp][k][()]
        out["@step"] = int(f.attrs["step"])
        out["@epoch"] = int(f.attrs["epoch"])
        return out


def same(a, b):
    import numpy as np
    wa, wb = weights(a), weights(b)
    return wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)


def losses(rundir):
    rows = open(os.path.join(rundir, "log.csv")).read().strip().split("\n")[1:]
    return [r.split(",")[:4] for r in rows]


def one_line(text):
    return " | ".join(text.strip().split("\n"))


def main():
    if not have("the kill-at-every-checkpoint check", "h5py", "numpy"):
        return summary()
    if not shutil.which("cc"):
        print("skipped: the kill-at-every-checkpoint check: needs cc (to build the LD_PRELOAD shim)")
        return summary()
    tmp = tempfile.mkdtemp(prefix="nemu_kill_")
    try:
        shim = os.path.join(tmp, "kill_at_rename.so")
        c = subprocess.run(["cc", "-shared", "-fPIC", os.path.join(HERE, "kill_at_rename.c"), "-o", shim, "-ldl"],
                           capture_output=True, text=True)
        if not check(c.returncode == 0, "the LD_PRELOAD shim builds: " + one_line(c.stderr)):
            return summary()
        data = os.path.join(tmp, "d.h5")
        g = subprocess.run([os.path.join(BIN, "gen"), "tetris", "--episodes", "6", "--steps", "40", "--seed", "3",
                            "--out", data], capture_output=True, text=True)
        check(g.returncode == 0, "gen tetris for the test data: " + one_line(g.stderr))
        cfg = os.path.join(tmp, "tiny.ini")
        open(cfg, "w").write(CONFIG.format(data=data))

        def train(name, env=None, resume=False):
            e = dict(os.environ, **(env or {}))
            return subprocess.run([os.path.join(BIN, "train"), cfg, "--set", "run.name=" + name]
                                  + (["--resume"] if resume else []), cwd=tmp, env=e, capture_output=True,
                                  text=True, timeout=300)

        # the uninterrupted run, with the list of the files it commits by rename
        log = os.path.join(tmp, "renames.txt")
        r = train("ref", {"LD_PRELOAD": shim, "NEMU_RENAME_LOG": log})
        if not check(r.returncode == 0, "the uninterrupted run exits 0: " + one_line(r.stderr)):
            return summary()
        ref = os.path.join(tmp, "runs", "ref")
        renames = open(log).read().split("\n")
        points = [(i + 1, os.path.basename(t)) for i, t in enumerate(renames) if t.endswith(".h5")]
        check(len(points) >= 6 and {p[1] for p in points} == set(FILES),
              "the run commits every checkpoint by rename: %s" % [p[1] for p in points])
        for n, target in points:
            for when in ("before", "after"):
                name = "k%d%s" % (n, when[0])
                what = "killed %s the rename onto %s (rename %d)" % (when, target, n)
                k = train(name, {"LD_PRELOAD": shim, "NEMU_KILL_RENAME": "%d:%s" % (n, when)})
                check(k.returncode == -signal.SIGKILL, "%s: the shim killed it (exit %d)" % (what, k.returncode))
                r = train(name, resume=True)
                rd = os.path.join(tmp, "runs", name)
                if not check(r.returncode == 0, "%s: --resume exits 0 (exit %d): %s" % (what, r.returncode,
                                                                                        one_line(r.stderr))):
                    continue
                check(all(same(os.path.join(ref, f), os.path.join(rd, f)) for f in FILES),
                      "%s: %s identical to the uninterrupted run's" % (what, ", ".join(FILES)))
                check(losses(rd) == losses(ref), "%s: log.csv has the uninterrupted run's losses" % what)
                check(not [f for f in os.listdir(rd) if f.endswith(".tmp")], "%s: no .tmp file left" % what)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


if __name__ == "__main__":
    sys.exit(main())
