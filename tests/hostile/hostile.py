"""hostile.py - the hostile-input suite's machinery (issue #16): shared fixtures, one Case per
bad (or odd) input, and the checks every case gets whatever its class.

Each case runs in its own copy of the fixture folder (a tiny dataset, a flat run and a spatial
run, both stages trained) with a 30 s timeout, and is judged on:
  - outcome "error": exit status != 0 and stderr exactly one line, matching the case's pattern
    (the file, key or argument, what was found, what was expected), and no file created,
    changed or removed (the refusal comes before any work and any file);
  - outcome "handled": the command copes (exit 0 unless rc is given; its own check passes);
  - outcome "accepted": an odd input taken on purpose (exit 0; README says so);
and, for every outcome: it ends within 30 s; every file that existed before is still there
with the same bytes unless the case names it in `changes`; no temp file (*.tmp, *.tmp.<pid>,
*.old.<pid>) is left; and a command that leaves a non-finite tensor in any .h5 it wrote must
not exit 0.
"""
import hashlib
import os
import re
import shutil
import subprocess
import tempfile

import h5py
import numpy as np

from nemutest import BIN, check  # noqa: F401 (BIN: the cases build commands with it)

TIMEOUT = 30
LEFTOVER = re.compile(r"(\.tmp$|\.tmp\.|\.old\.\d+$)")

TINY = """[run]
seed = 7
threads = 1
[data]
path = d.h5
generate = none
height = 32
width = 32
test_episodes = 1
val_split = 0.2
[model]
latent = {latent}
{latent_key}
base_channels = 4
[train]
stage = both
epochs = 1
batch_size = 16
lr = 0.003
[dynamics]
epochs = 1
hidden = 8
{dyn_key}
[eval]
steps = 1,2
starts = 1
"""


def tiny_ini(latent, stage="both", autoencoder=None):
    """The fixtures' config for a flat or spatial latent; stage = dynamics needs autoencoder."""
    text = TINY.format(latent=latent, latent_key="latent_dim = 8" if latent == "flat" else "latent_channels = 2",
                       dyn_key="" if latent == "flat" else "blocks = 1")
    if stage != "both":
        text = text.replace("stage = both", "stage = " + stage)
    if stage == "dynamics":
        text = text.replace("epochs = 1\nbatch_size", "batch_size").replace("[train]", "[train]\n", 1)
        text = text.replace("[model]\n", "[model]\nautoencoder = %s\n" % autoencoder, 1)
    return text


class Case:
    """One hostile input. cmd: argv (argv[0] a program name: train, eval, gen) run in the case's
    folder; setup(dir): prepares the input; outcome: error | handled | accepted; expect: regex
    the one-line error (or, else, stdout+stderr) must match; rc: the exit status a "handled"
    case must give (default 0); changes: files the command may change or create (globs);
    after(dir, result) -> (ok, why): an extra check."""

    def __init__(self, klass, name, cmd, outcome="error", expect="", setup=None, changes=(), after=None, rc=None,
                 stdin=None):
        self.klass, self.name, self.cmd, self.outcome, self.expect = klass, name, cmd, outcome, expect
        self.setup, self.changes, self.after, self.rc, self.stdin = setup, changes, after, rc, stdin


def h5_set(path, name, fn):
    """Replaces dataset `name` of an HDF5 file by fn(its value) (same shape and dtype)."""
    with h5py.File(path, "r+") as f:
        v = f[name][()]
        f[name][...] = fn(v)


def nan_at(index, value=np.nan):
    def fn(v):
        v = np.array(v, dtype=v.dtype)
        v.flat[index] = value
        return v
    return fn


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)


def snapshot(root):
    """path -> sha1 of every regular file under root (symlinks recorded by target)."""
    out = {}
    for d, dirs, files in os.walk(root):
        for n in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            p = os.path.join(d, n)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = "link:" + os.readlink(p)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    out[rel] = hashlib.sha1(f.read()).hexdigest()
            else:
                out[rel] = "special"
    return out


def nonfinite_h5(path):
    """The first non-finite float tensor of an HDF5 file, or None."""
    found = []

    def visit(name, obj):
        if not found and isinstance(obj, h5py.Dataset) and obj.dtype.kind == "f" and obj.size < 50_000_000:
            if not np.all(np.isfinite(obj[()])):
                found.append(name)
    try:
        with h5py.File(path, "r") as f:
            f.visititems(visit)
    except OSError:
        return None
    return found[0] if found else None


def run_prog(cmd, cwd, stdin=None):
    prog = os.path.join(BIN, cmd[0]) if cmd[0] in ("train", "eval", "gen") else cmd[0]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([prog] + list(cmd[1:]), cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT,
                          env=env, input=stdin, errors="replace")


class Fixtures:
    """Built once: d.h5 (6 episodes x 40 steps of the built-in Tetris), runs/flat and runs/sp
    (flat and spatial autoencoder + dynamics, one epoch each) with flat.ini and sp.ini."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="nemu_hostile_fx_")
        try:
            r = run_prog(["gen", "tetris", "--episodes", "6", "--steps", "40", "--seed", "3", "--out", "d.h5"],
                         self.root)
            assert r.returncode == 0, r.stderr
            for name, latent in (("flat", "flat"), ("sp", "spatial")):
                write(os.path.join(self.root, name + ".ini"), tiny_ini(latent))
                r = subprocess.run([os.path.join(BIN, "train"), name + ".ini"], cwd=self.root, capture_output=True,
                                   text=True, timeout=300)
                assert r.returncode == 0, r.stderr
        except BaseException:   # a fixture that cannot be built leaves no folder behind
            self.close()
            raise

    def copy(self):
        d = tempfile.mkdtemp(prefix="nemu_hostile_")
        shutil.copytree(self.root, d, dirs_exist_ok=True, symlinks=True)
        return d

    def close(self):
        shutil.rmtree(self.root, ignore_errors=True)


def _allowed(rel, globs):
    import fnmatch
    return any(fnmatch.fnmatch(rel, g) for g in globs)


def judge(case, d, before, r):
    """The checks of one finished case: a list of failure reasons (empty: passed)."""
    why = []
    err = r.stderr.strip()
    if case.outcome == "error":
        if r.returncode == 0:
            why.append("exit 0, expected an error")
        if err.count("\n") != 0 or not err:
            why.append("error is not one line: %r" % err[-400:])
        if case.expect and not re.search(case.expect, err):
            why.append("error %r does not match %r" % (err[-300:], case.expect))
    else:
        want = 0 if case.rc is None else case.rc
        if r.returncode != want:
            why.append("exit %d, expected %d: %s" % (r.returncode, want, err[-300:]))
        if case.expect and not re.search(case.expect, r.stdout + r.stderr):
            why.append("output does not match %r: %s" % (case.expect, (r.stdout + r.stderr)[-300:]))
    after = snapshot(d)
    for rel, h in before.items():
        if _allowed(rel, case.changes):
            continue
        if rel not in after:
            why.append("lost a file that existed before: " + rel)
        elif after[rel] != h:
            why.append("changed a file that existed before: " + rel)
    for rel in after:
        if LEFTOVER.search(rel) or any(LEFTOVER.search(p) for p in rel.split(os.sep)[:-1]):
            why.append("left a temp file: " + rel)
        elif rel not in before and not _allowed(rel, case.changes):
            why.append("created a file: " + rel)
    for rel, h in after.items():
        if rel.endswith(".h5") and before.get(rel) != h and r.returncode == 0:
            bad = nonfinite_h5(os.path.join(d, rel))
            if bad:
                why.append("exit 0 after writing a non-finite tensor %s in %s" % (bad, rel))
    if case.after and not why:
        ok, msg = case.after(d, r)
        if not ok:
            why.append(msg)
    return why


def run_cases(cases, fx):
    """Runs every case; returns {class: {outcome: count}} of the passed ones."""
    table = {}
    for case in cases:
        d = fx.copy()
        try:
            if case.setup:
                case.setup(d)
            before = snapshot(d)
            try:
                r = run_prog(case.cmd, d, case.stdin)
                why = judge(case, d, before, r)
            except subprocess.TimeoutExpired:
                why = ["hangs: no exit within %d s" % TIMEOUT]
            ok = check(not why, "hostile %s %s (%s): %s" % (case.klass, case.name, " ".join(case.cmd), "; ".join(why)))
            if ok:
                cell = table.setdefault(case.klass, {})
                cell[case.outcome] = cell.get(case.outcome, 0) + 1
        finally:
            remove_case_dir(d)
    return table


def remove_case_dir(d):
    """Removes a case's folder, also when a case made part of it immutable or read-only and
    failed before its own clean-up ran."""
    shutil.rmtree(d, ignore_errors=True)
    if os.path.exists(d):
        subprocess.run(["chattr", "-R", "-i", d], capture_output=True)
        subprocess.run(["chmod", "-R", "u+w", d], capture_output=True)
        shutil.rmtree(d, ignore_errors=True)
