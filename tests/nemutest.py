"""nemutest.py - what the Python tests share: where the programs are (tests/run.sh sets
NEMU_BIN and NEMU_ROOT), one check counter, and the closing `N passed, N failed` line."""
import os
import shutil
import tempfile

ROOT = os.environ.get("NEMU_ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("NEMU_BIN", os.path.join(ROOT, "build", "release", "bin"))

_counts = {"passed": 0, "failed": 0}


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
    """Skips (0 passed, 0 failed) unless every program is built; else runs body(tmp) in a
    fresh temp folder that is removed afterwards. Returns the exit status."""
    for prog in programs:
        if not os.access(os.path.join(BIN, prog), os.X_OK):
            print(f"skipping: {BIN}/{prog} not built")
            print("0 passed, 0 failed")
            return 0
    tmp = tempfile.mkdtemp(prefix=prefix)
    try:
        body(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summary()
