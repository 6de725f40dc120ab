#!/usr/bin/env python3
"""test_mpi_cli.py - data-parallel ./train over MPI (a build with `make MPI=1`; else skipped):
mpirun -np 2 and -np 4 (--oversubscribe) of a tiny two-stage config match the single process
with the same global batch (per-epoch losses within 1e-3 relative, weights within 2e-3: Adam
turns the other summation order's rounding into drift, as a thread count change does in one
process, 7.7e-4 in the weights; see README "On a cluster"; an AVX-512 build drifts 4.2e-4 at
np 2 where others stayed within 1e-5); two
runs with the same N are bit-identical; SIGTERM to mpirun saves once, every rank exits, and
--resume ends bit-identical to an uninterrupted run; a rank killed with SIGKILL ends the job
with a message, no hang. With train.grad_chunks = 4, np 2 and np 4 are bit-identical to one
process, also for the configs that draw random numbers per sample (model.latent_noise, a vae,
scheduled sampling with 0 < p < 1); grad_chunks < N and > the batch are refused in one line."""
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nemutest import BIN, check, have, run_in_tempdir, tiny_config  # noqa: E402

# nemutest's tiny two-stage run, one thread a rank, 2 test episodes, 2 + 3 epochs
CONFIG = tiny_config({"run": {"threads": 1}, "data": {"path": "d.h5", "test_episodes": 2, "val_split": None},
                      "train": {"epochs": 2, "lr": None}, "dynamics": {"epochs": 3}})
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")


def train(np_, name, tmp, *extra, popen=False):
    cmd = ([shutil.which("mpirun"), "-np", str(np_), "--oversubscribe"] if np_ else []) + \
          [os.path.join(BIN, "train"), "m.ini", "--set", "run.name=" + name] + list(extra)
    if popen:
        return subprocess.Popen(cmd, cwd=tmp, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(cmd, cwd=tmp, env=ENV, capture_output=True, text=True, timeout=600)


def losses(tmp, name):
    rows = open(os.path.join(tmp, "runs", name, "log.csv")).read().strip().split("\n")[1:]
    return [(r.split(",")[0], float(r.split(",")[2]), float(r.split(",")[3])) for r in rows]


def weights(tmp, name):
    import h5py
    out = {}
    for f in ("ae_last.h5", "dyn_last.h5"):
        with h5py.File(os.path.join(tmp, "runs", name, f), "r") as h:
            out.update({f + k: h["state_dict"][k][()] for k in h["state_dict"]})
    return out


def compare(tmp, a, b, what):
    la, lb = losses(tmp, a), losses(tmp, b)
    rel = max(abs(x - y) / max(abs(x), 1e-30) for ra, rb in zip(la, lb) for x, y in zip(ra[1:], rb[1:]))
    check(len(la) == len(lb) == 5 and rel <= 1e-3, "%s: per-epoch losses within 1e-3 relative (max %.2g)" % (what, rel))
    if have(what + " weights", "h5py", "numpy"):
        import numpy as np
        wa, wb = weights(tmp, a), weights(tmp, b)
        d = max(float(np.max(np.abs(wa[k] - wb[k]))) for k in wa)
        check(wa.keys() == wb.keys() and d <= 2e-3, "%s: weights within 2e-3 (max diff %.2g)" % (what, d))


def same_bits(tmp, a, b, what):
    same = losses(tmp, a) == losses(tmp, b)
    if have(what + " weights", "h5py", "numpy"):
        import numpy as np
        wa, wb = weights(tmp, a), weights(tmp, b)
        same &= wa.keys() == wb.keys() and all(np.array_equal(wa[k], wb[k]) for k in wa)
    check(same, what + ": bit-identical losses and weights")


def wait_for(path, p, seconds=120):
    t0 = time.time()
    while not os.path.exists(path) and p.poll() is None and time.time() - t0 < seconds:
        time.sleep(0.05)


def body(tmp):
    g = subprocess.run([os.path.join(BIN, "gen"), "tetris", "--episodes", "12", "--steps", "60", "--seed", "3",
                        "--out", os.path.join(tmp, "d.h5")], capture_output=True, text=True)
    check(g.returncode == 0, "gen tetris for the test data: " + g.stderr)
    open(os.path.join(tmp, "m.ini"), "w").write(CONFIG)
    for np_, name in [(0, "s1"), (2, "n2"), (2, "n2b"), (4, "n4")]:
        r = train(np_, name, tmp)
        check(r.returncode == 0, "%s (np %d) exits 0: %s" % (name, np_, r.stdout[-800:]))
        if np_:
            check("data parallel: %d ranks (MPI), global batch 16, per-rank batch %d" % (np_, 16 // np_) in r.stdout,
                  name + ": the memory table shows the ranks and the per-rank batch")
            check(r.stdout.count("autoencoder epoch 2/2") == 1, name + ": only rank 0 writes the epoch lines")
    compare(tmp, "s1", "n2", "np 2 vs one process")
    compare(tmp, "s1", "n4", "np 4 vs one process")
    same_bits(tmp, "n2", "n2b", "two np 2 runs")

    # SIGTERM to mpirun: one save, all ranks exit; --resume ends as the uninterrupted run
    long = ["--set", "train.epochs=40"]
    r = train(2, "u2", tmp, *long)
    check(r.returncode == 0, "uninterrupted np 2 run: " + r.stdout[-300:])
    p = train(2, "t2", tmp, *long, popen=True)
    wait_for(os.path.join(tmp, "runs", "t2", "log.csv"), p)
    p.send_signal(signal.SIGTERM)
    out = p.communicate(timeout=120)[0]
    check(p.returncode != 0 and out.count("stopped by SIGTERM") == 1, "SIGTERM: one save, non-zero exit: " + out[-400:])
    r = train(2, "t2", tmp, *long, "--resume")
    check(r.returncode == 0 and "resuming autoencoder" in r.stdout, "np 2 --resume: " + r.stdout[-400:])
    same_bits(tmp, "t2", "u2", "np 2 stopped by SIGTERM and resumed vs uninterrupted")

    # a rank killed: the job ends with mpirun's message, never a hang
    p = train(2, "k2", tmp, "--set", "train.epochs=100000", popen=True)
    wait_for(os.path.join(tmp, "runs", "k2", "log.csv"), p)
    ranks = subprocess.run(["ps", "-o", "pid=", "--ppid", str(p.pid)], capture_output=True, text=True).stdout.split()
    if check(len(ranks) == 2, "mpirun has 2 rank processes: %s" % ranks):
        os.kill(int(ranks[-1]), signal.SIGKILL)
        t0 = time.time()
        try:
            out = p.communicate(timeout=60)[0]
        except subprocess.TimeoutExpired:
            p.kill()
            out = p.communicate()[0] + "\n(hung: killed after 60 s)"
        check(p.returncode != 0 and "signal 9" in out and time.time() - t0 < 60,
              "a killed rank ends the job with a message within 60 s: " + out[-400:])
    else:
        p.kill()
        p.communicate()

    # train.grad_chunks = 4: the batch's 4 chunks' gradients summed in chunk order, so np 2 and np 4
    # do one process's float operations: bit-identical, also for configs that draw random numbers
    # per sample (each sample's from its own stream: seed, epoch, index in the epoch)
    for feat, sets in FEATURES:
        extra = [x for kv in sets + ["train.grad_chunks=4"] for x in ("--set", kv)]
        for np_ in (0, 2, 4):
            r = train(np_, "%s%d" % (feat, np_), tmp, *extra)
            check(r.returncode == 0, "%s np %d exits 0: %s" % (feat, np_, (r.stdout + r.stderr)[-500:]))
        if sets:
            check(losses(tmp, feat + "0") != losses(tmp, "base0"), feat + ": the run differs from the base config's")
        compare(tmp, feat + "0", feat + "2", feat + ", grad_chunks 4: np 2 vs one process")
        same_bits(tmp, feat + "0", feat + "2", feat + ", grad_chunks 4: np 2 vs one process")
        same_bits(tmp, feat + "0", feat + "4", feat + ", grad_chunks 4: np 4 vs one process")
    check(losses(tmp, "base0") != losses(tmp, "s1"), "grad_chunks 4 sums in another order than one pass")
    for np_, sets, want in [(2, ["train.grad_chunks=1"], "train.grad_chunks = 1 is smaller than the 2 ranks"),
                            (0, ["train.grad_chunks=17"], "train.grad_chunks = 17 is larger than train.batch_size = 16")]:
        r = train(np_, "bad", tmp, *[x for kv in sets for x in ("--set", kv)])
        check(r.returncode != 0 and want in r.stdout + r.stderr and not os.path.exists(os.path.join(tmp, "runs", "bad")),
              "np %d %s: refused in one line before any file: %s" % (np_, sets, (r.stdout + r.stderr)[-300:]))


# the three per-sample draws of training, each on its own, and none
FEATURES = [("base", []),
            ("noise", ["model.latent_noise=0.05"]),
            ("vae", ["dynamics.type=vae", "dynamics.beta=0.001"]),
            ("ss", ["dynamics.rollout_steps=3", "dynamics.sampling_start=0.3", "dynamics.sampling_end=0.7"])]


def main():
    h = subprocess.run([os.path.join(BIN, "train"), "--help"], capture_output=True, text=True)
    if "Built with MPI" not in h.stdout:
        print("skipped: built without MPI (make MPI=1)")
        print("0 passed, 0 failed")
        return 0
    if not shutil.which("mpirun"):
        print("skipped: mpirun not installed (apt-get install openmpi-bin)")
        print("0 passed, 0 failed")
        return 0
    return run_in_tempdir(body, "nemu_mpi_", ("gen", "train"))


if __name__ == "__main__":
    sys.exit(main())
