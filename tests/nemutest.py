"""nemutest.py - what the Python tests share: where the programs are (tests/run.sh sets
NEMU_BIN and NEMU_ROOT), one check counter, the skips and the closing `N passed, N failed`
line. A skip prints `skipped: <why>` (tests/run.sh counts those lines and shows the first)."""
import importlib
import os
import shutil
import sys
import tempfile

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
