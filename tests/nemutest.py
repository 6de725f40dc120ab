"""nemutest.py - what the Python tests share: where the programs are (tests/run.sh sets
NEMU_BIN and NEMU_ROOT), one check counter, and the closing `N passed, N failed` line."""
import os

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
