#!/usr/bin/env python3
"""test_chain_cli.py - tools/tetris_cell_chain.sh, the README's best Tetris model trained from
nothing, run on a tiny recording with one epoch a step (~1 min):

  1. the eleven ./train runs of the chain finish, each from the one before: the last,
     runs/tetris_cell_events3, is the history of steps back with the events drawn 3 times, on
     the digit autoencoder;
  2. run again, every step resumes its finished run and the chain ends at once, the model as it was;
  3. without ./train or without configs/ it says so in one line.
"""
import os
import subprocess

from nemutest import BIN, ROOT, check, run_in_tempdir

try:
    import h5py
except ImportError:
    h5py = None

SCRIPT = os.path.join(ROOT, "tools", "tetris_cell_chain.sh")
TINY = ["--set", "data.path=data/t.h5", "--set", "data.gen_episodes=8", "--set", "data.gen_steps=40",
        "--set", "data.test_episodes=2", "--set", "train.epochs=1",
        "--set", "train.batch_size=8", "--set", "run.threads=1"]
RUNS = ["tetris_cell_ae", "tetris_cell_ae_digits", "tetris_cell_dynamics", "tetris_cell_dynamics2",
        "tetris_cell_dynamics3", "tetris_cell_history", "tetris_cell_history_digits", "tetris_cell_rollout4",
        "tetris_cell_rollout8", "tetris_cell_pause", "tetris_cell_events3"]


def chain(tmp, env=None, timeout=600):
    e = dict(os.environ, NEMU_BIN=BIN, OMP_NUM_THREADS="1")
    e.update(env or {})
    return subprocess.run(["sh", SCRIPT] + TINY, cwd=tmp, env=e, capture_output=True, text=True, timeout=timeout)


def setting(rundir, key):
    with open(os.path.join(rundir, "config.ini")) as f:
        for line in f:
            if line.startswith(key + " = "):
                return line.split(" = ", 1)[1].strip()
    return None


def body(tmp):
    os.symlink(os.path.join(ROOT, "configs"), os.path.join(tmp, "configs"))
    os.mkdir(os.path.join(tmp, "data"))

    # 1. the chain, from nothing
    r = chain(tmp)
    if not check(r.returncode == 0, "the chain runs: " + r.stderr[-500:]):
        return
    steps = [line for line in r.stderr.splitlines() if line.startswith("== ")]
    check(len(steps) == 11, "eleven ./train runs: %d" % len(steps))
    for name in RUNS:
        files = os.listdir(os.path.join(tmp, "runs", name)) if os.path.isdir(os.path.join(tmp, "runs", name)) else []
        check(any(f.endswith("_best.h5") for f in files), "runs/%s has its best checkpoint: %s" % (name, files))
    last = os.path.join(tmp, "runs", "tetris_cell_events3")
    check(setting(last, "event_weight") == "3" and setting(last, "history") == "1,2,3,4,5,6,8,12,16,24,32,48"
          and setting(last, "autoencoder") == "runs/tetris_cell_ae_digits/ae_best.h5",
          "the last run: events x3, the history of steps back, the digit autoencoder")
    before = open(os.path.join(last, "dyn_best.h5"), "rb").read()
    if h5py:
        with h5py.File(os.path.join(last, "dyn_best.h5"), "r") as f:
            v = f.attrs.get("history_offsets", b"")
            v = v.decode() if isinstance(v, bytes) else str(v)
            check(v == "1,2,3,4,5,6,8,12,16,24,32,48", "its checkpoint's history_offsets: %r" % v)

    # 2. again: every step resumes its finished run
    r = chain(tmp)
    check(r.returncode == 0 and r.stdout.count("resuming") + r.stderr.count("resuming") == 11,
          "run again, the eleven steps resume: rc %d, %s" % (r.returncode, r.stderr[-300:]))
    check(open(os.path.join(last, "dyn_best.h5"), "rb").read() == before, "the model as it was")

    # 3. what it needs, said in one line
    r = chain(tmp, env={"NEMU_BIN": os.path.join(tmp, "nowhere")})
    check(r.returncode != 0 and "make" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          "no ./train: one line: " + r.stderr)
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    r = subprocess.run(["sh", SCRIPT], cwd=empty, env=dict(os.environ, NEMU_BIN=BIN), capture_output=True,
                       text=True, timeout=60)
    check(r.returncode != 0 and "configs/" in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          "no configs/: one line: " + r.stderr)


if __name__ == "__main__":
    raise SystemExit(run_in_tempdir(body, "nemu_chain_", programs=("train",)))
