"""nemutest.py - what the Python tests share: where the programs are (tests/run.sh sets
NEMU_BIN and NEMU_ROOT), one check counter, the skips and the closing `N passed, N failed`
line. A skip prints `skipped: <why>` (tests/run.sh counts those lines and shows the first).
For the end-to-end tests of the programs: run() one of them, refused() (the one-line
refusal), tiny_config() (the INI of a tiny run, as a change of TINY) and log_rows()."""
import csv
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.environ.get("NEMU_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NEMU_BIN", os.path.join(ROOT, "build", "release", "bin"))

_counts = {"passed": 0, "failed": 0}

# The Debian package of each Python module a test may want (.ci/run installs the light ones).
DEBIAN = {"h5py": "python3-h5py", "numpy": "python3-numpy", "PIL": "python3-pil", "torch": "python3-torch",
          "skimage": "python3-skimage"}


def _missing(modules):
    """The Debian packages of those of `modules` that do not import, in order, once each."""
    pkgs = []
    for m in modules:
        try:
            importlib.import_module(m)
        except ImportError:
            pkg = DEBIAN.get(m.split(".")[0], m)
            if pkg not in pkgs:
                pkgs.append(pkg)
    return pkgs


def need(*modules):
    """Skips the whole file unless every module imports: prints `skipped: needs <packages>`
    and the closing line, and exits 0."""
    pkgs = _missing(modules)
    if pkgs:
        print(f"skipped: needs {' '.join(pkgs)}")
        print("0 passed, 0 failed")
        sys.exit(0)


def have(what, *modules):
    """Whether the part of a test named `what` can run; when not, prints `skipped: <what>:
    needs <packages>` and returns False."""
    pkgs = _missing(modules)
    if pkgs:
        print(f"skipped: {what}: needs {' '.join(pkgs)}")
    return not pkgs


def check(cond, msg):
    """One check; prints FAIL and the message when cond is false. Returns cond."""
    if cond:
        _counts["passed"] += 1
    else:
        _counts["failed"] += 1
        print("FAIL", msg)
    return cond


def summary():
    """Prints the closing line; returns the exit status (1 when a check failed)."""
    print(f"{_counts['passed']} passed, {_counts['failed']} failed")
    return 1 if _counts["failed"] else 0


def run_in_tempdir(body, prefix, programs=("gen", "train", "eval")):
    """Skips (`skipped:`, 0 passed, 0 failed) unless every program is built; else runs body(tmp) in a
    fresh temp folder that is removed afterwards. Returns the exit status."""
    for prog in programs:
        if not os.access(os.path.join(BIN, prog), os.X_OK):
            print(f"skipped: {BIN}/{prog} not built")
            print("0 passed, 0 failed")
            return 0
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        body(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()


def run(prog, *args, cwd, timeout=300):
    """Runs $NEMU_BIN/prog with args (str() of each) in cwd; the CompletedProcess, text output."""
    return subprocess.run([os.path.join(BIN, prog), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def refused(r, what, words=()):
    """One check: r failed with exactly one line on stderr, holding every one of words, and
    printed nothing on stdout."""
    lines = r.stderr.strip().splitlines()
    ok = r.returncode != 0 and len(lines) == 1 and r.stdout == "" and all(w in r.stderr for w in words)
    return check(ok, f"{what}: expected one error line containing {list(words)}, got rc {r.returncode}, "
                     f"stderr {r.stderr!r}, stdout {r.stdout[:200]!r}")


# The tiny run the end-to-end tests train (seconds): 32x32 grey frames, base 4 channels,
# latent 8, batch 16, both stages. `{data}` is left for str.format.
TINY = {
    "run": {"seed": 7, "threads": 2},
    "data": {"path": "{data}", "generate": "none", "height": 32, "width": 32, "test_episodes": 1,
             "val_split": 0.2},
    "model": {"latent_dim": 8, "base_channels": 4},
    "train": {"stage": "both", "batch_size": 16, "lr": 0.003},
}


def tiny_config(changes=None, base=TINY):
    """INI text of base with changes: {section: {key: value}}; a value None drops the key, a
    section None drops the section; new keys go to the end of their section, new sections to
    the end."""
    sections = {s: dict(keys) for s, keys in base.items()}
    for s, keys in (changes or {}).items():
        if keys is None:
            sections.pop(s, None)
            continue
        sec = sections.setdefault(s, {})
        for k, v in keys.items():
            if v is None:
                sec.pop(k, None)
            else:
                sec[k] = v
    return "".join(f"[{s}]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items())
                   for s, keys in sections.items())


def log_rows(rundir, stage=None):
    """The rows of rundir/log.csv as dicts (only those of stage when given)."""
    with open(os.path.join(rundir, "log.csv")) as f:
        return [x for x in csv.DictReader(f) if stage is None or x["stage"] == stage]


def _fail(msg):
    """A failure that is not the outcome of a check of its own (the program could not run)."""
    _counts["failed"] += 1
    print("FAIL", msg)


def test_program(name):
    """The C test program `name` (build/<mode>/tests, beside $NEMU_BIN), or None after a FAIL
    when it is not built."""
    exe = os.path.join(os.path.dirname(BIN), "tests", name)
    if os.access(exe, os.X_OK):
        return exe
    _fail(f"{exe} not built")
    return None


def run_c(exe, *args, counted=True):
    """Runs a C test program with args; returns whether it exited 0 (a FAIL when not).
    counted: its output is shown indented and its `N passed` adds to this file's count."""
    r = subprocess.run([exe, *map(str, args)], capture_output=True, text=True)
    if counted:
        print("\n".join("  | " + ln for ln in r.stdout.splitlines()))
    if r.returncode != 0:
        _fail(f"{os.path.basename(exe)} {' '.join(map(str, args))}: exit {r.returncode}\n"
              f"{'' if counted else r.stdout}{r.stderr}")
        return False
    last = [ln for ln in r.stdout.splitlines() if ln.endswith(" failed")]
    if counted and last:
        _counts["passed"] += int(last[-1].split()[0])
    return True


def close(name, got, want, tol=1e-5):
    """One check: max |got - want| <= tol (arrays or tensors, compared in float64), printed."""
    import numpy as np
    d = float(np.max(np.abs(np.asarray(got, dtype=np.float64) - np.asarray(want, dtype=np.float64))))
    ok = d <= tol
    print(f"  {name:40s} max_abs={d:.3g} {'ok' if ok else 'FAIL'}")
    return check(ok, f"{name}: max abs diff {d:.3g} > {tol}")


def record(tmp, episodes, steps, seed, out="d.h5"):
    """`gen tetris` of a small dataset into tmp/out (one check); returns its path."""
    path = os.path.join(tmp, out)
    r = run("gen", "tetris", "--episodes", episodes, "--steps", steps, "--seed", seed, "--out", path, cwd=tmp)
    check(r.returncode == 0, f"gen tetris for the test data: {r.stderr}")
    return path


def write_config(tmp, template, out="tiny.ini", **fields):
    """template.format(**fields) into tmp/out; returns its path."""
    path = os.path.join(tmp, out)
    with open(path, "w") as f:
        f.write(template.format(**fields))
    return path


def train(tmp, config, *args):
    """./train config args in tmp: one check that it finished; returns whether it did."""
    r = run("train", config, *args, cwd=tmp)
    return check(r.returncode == 0, f"train {config}: {r.stdout[-500:]} {r.stderr[-500:]}")


def without_attrs(tmp, data, episodes, keys, out="bare.h5"):
    """A copy of the dataset `data` as tmp/out with the attributes `keys` deleted from its
    episodes 0..episodes-1 (needs h5py); returns its path."""
    import h5py
    path = os.path.join(tmp, out)
    shutil.copy(data, path)
    with h5py.File(path, "a") as f:
        for e in range(episodes):
            for k in keys:
                del f[f"episode_{e}"].attrs[k]
    return path


def wait_for(cond, timeout=10):
    """cond()'s first true value within timeout seconds (polled every 0.1 s), else its last value."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = cond()
        if v:
            return v
        time.sleep(0.1)
    return cond()
