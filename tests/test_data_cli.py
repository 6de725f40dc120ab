#!/usr/bin/python3
"""test_data_cli.py - program-level checks of `gen info` on h5py-written files.

Accepted: the committed Minari fixtures, numpy-bool multi-binary actions (h5py stores them as
an HDF5 enum), discrete actions sized by the root attr n_actions. Rejected (exit 1, exactly one
line on stderr naming file, episode and dataset, nothing on stdout): int16 observations,
float actions, a 2-D observation dataset, n_actions smaller than the largest action.
Skips (skipped: needs ...) when h5py or numpy is missing. Uses $NEMU_BIN/gen (tests/run.sh).
"""
import os
import subprocess
import sys
import tempfile

from nemutest import BIN, ROOT, check, need, summary

need("h5py", "numpy")   # CI machines may lack them
import h5py  # noqa: E402
import numpy as np  # noqa: E402

GEN = os.path.join(BIN, "gen")


def gen_info(path, *opts):
    r = subprocess.run([GEN, "info", *opts, path], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def episode(f, i, T, H=16, W=16, C=1, actions=None):
    g = f.create_group(f"episode_{i}")
    g.create_dataset("observations", data=np.full((T + 1, H, W, C), 9, np.uint8))
    g.create_dataset("actions", data=actions if actions is not None else np.zeros((T, 8), np.uint8))
    return g


def main():
    fx = os.path.join(ROOT, "tests/fixtures")
    # ids 0, 2, 10 and a metadata group: an odd layout, refused unless --accept-odd (then named)
    rc, out, err = gen_info(os.path.join(fx, "data_minari_mb.h5"))
    check(rc == 1 and out == "" and "root object 'metadata' is not an episode" in err and "--accept-odd" in err,
          f"mb fixture without --accept-odd: rc {rc} stderr {err!r}")
    rc, out, err = gen_info(os.path.join(fx, "data_minari_mb.h5"), "--accept-odd")
    check(rc == 0 and err == "", f"mb fixture: rc {rc} stderr {err!r}")
    for want in ("episodes      3 (ids 0..10)", "steps         12   frames 15", "uint8 [T+1,24,32,3]",
                 "int8 [T,8]  multi-binary", "A,B,SELECT,START,UP,DOWN,LEFT,RIGHT",
                 "min 3  median 4  max 5", "validation    ok",
                 "odd layout    accepted (--accept-odd): 1 root object skipped ('metadata'); episode ids 0..10 with "
                 "8 missing (first: episode_1)"):
        check(want in out, f"mb fixture: {want!r} not in output:\n{out}")
    rc, out, err = gen_info(os.path.join(fx, "data_minari_discrete.h5"))
    check(rc == 0 and "int64 [T]  discrete, one-hot to 5" in out and "uint8 [T,16,20,1]" in out,
          f"discrete fixture: rc {rc}\n{out}{err}")

    with tempfile.TemporaryDirectory(prefix="nemu_test_data_cli_") as tmp:
        def make(name, build):
            p = os.path.join(tmp, name)
            with h5py.File(p, "w") as f:
                build(f)
            return p

        p = make("bool.h5", lambda f: episode(f, 0, 4, actions=np.eye(4, 8, dtype=bool)))
        rc, out, err = gen_info(p)
        check(rc == 0 and "bool [T,8]  multi-binary" in out, f"bool actions: rc {rc}\n{out}{err}")

        def n_actions(f):
            episode(f, 0, 3, actions=np.array([0, 2, 1], np.int32))
            f.attrs["n_actions"] = 6
        rc, out, err = gen_info(make("n_actions.h5", n_actions))
        check(rc == 0 and "int32 [T]  discrete, one-hot to 6" in out, f"n_actions: rc {rc}\n{out}{err}")

        def small_n(f):
            episode(f, 0, 3, actions=np.array([0, 7, 1], np.int64))
            f.attrs["n_actions"] = 4
        bad = {
            "int16_obs.h5": (lambda f: f.create_dataset("episode_0/observations", data=np.zeros((3, 16, 16, 1), np.int16)),
                             "episode_0/observations", "int16"),
            "float_act.h5": (lambda f: episode(f, 0, 3, actions=np.zeros((3, 8), np.float32)), "episode_0/actions", "float32"),
            "obs_2d.h5": (lambda f: episode(f, 0, 3) and f.create_dataset("episode_1/observations", data=np.zeros((4, 16), np.uint8)),
                          "episode_1/observations", "rank 2"),
            "small_n.h5": (small_n, "n_actions", "largest action is 7"),
        }
        for name, (build, must1, must2) in bad.items():
            p = make(name, build)
            rc, out, err = gen_info(p)
            lines = err.splitlines()
            check(rc == 1 and out == "" and len(lines) == 1 and p in err and must1 in err and must2 in err,
                  f"{name}: rc {rc}, stdout {out!r}, stderr {err!r}")
            print(f"  {name}: {err.strip()}")

    rc, out, err = subprocess.run([GEN, "info"], capture_output=True, text=True).returncode, "", ""
    check(rc != 0, "gen info without a file must fail")
    return summary()


if __name__ == "__main__":
    sys.exit(main())
