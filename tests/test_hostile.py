#!/usr/bin/env python3
"""test_hostile.py - the hostile-input suite of issue #16 (tests/hostile/): bad or odd inputs
by class, each with a 30 s timeout and the checks of tests/hostile/hostile.py (one clear line,
nothing lost, no temp file or run folder left, no exit 0 after a non-finite model). Prints a
table: per class, how many cases end in a clear error, are handled, or are accepted on purpose."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile"))
from nemutest import need, run_in_tempdir  # noqa: E402

need("h5py", "numpy")
import hostile  # noqa: E402
import cases_cause  # noqa: E402
import cases_config  # noqa: E402
import cases_data  # noqa: E402
import cases_files  # noqa: E402
import cases_init  # noqa: E402
import cases_leftover  # noqa: E402
import cases_nan  # noqa: E402

MODULES = [cases_config, cases_data, cases_nan, cases_files, cases_cause, cases_leftover, cases_init]


def body(_tmp):
    fx = hostile.Fixtures()
    try:
        cases = [c for m in MODULES for c in m.cases()]
        only = os.environ.get("HOSTILE_ONLY")   # a regex of case names, to run a few while developing
        if only:
            import re
            cases = [c for c in cases if re.search(only, c.name)]
        table = hostile.run_cases(cases, fx)
    finally:
        fx.close()
    print("hostile cases: %d" % len(cases))
    print("class  error  handled  accepted  (passed cases)")
    for k in sorted(table):
        t = table[k]
        print("%5s  %5d  %7d  %8d" % (k, t.get("error", 0), t.get("handled", 0), t.get("accepted", 0)))


if __name__ == "__main__":
    sys.exit(run_in_tempdir(body, "nemu_hostile_"))
