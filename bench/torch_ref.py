#!/usr/bin/env python3
"""torch_ref.py - the PyTorch reference for `make bench`: gymemu's models timed with PyTorch
on this machine, under two set-ups, each in a fresh process (OpenBLAS and libgomp read their
environment when they load, so settings must be in the environment before Python starts):

  installed   Debian's python3-torch as a user gets it: environment cleared of every
              BLAS/OpenMP variable, torch's default thread count (rows torch_installed_*)
  best        OPENBLAS_CORETYPE for this CPU (Debian's OpenBLAS 0.3.21 can misdetect it),
              OMP_WAIT_POLICY=PASSIVE, torch.set_num_threads(all cores) (rows torch_*)
  misdetected (not part of `both`) what issue 6 measured "as installed" on its Xeon, where
              OpenBLAS 0.3.21 picks Prescott (SSE3) kernels: OPENBLAS_CORETYPE=Prescott,
              no wait policy, all cores (rows torch_misdetected_*)

Models (gymemu): ConvAutoencoder conv 1->32->64->128 k4 s2 p1 + ReLU, Linear to latent 32,
mirrored ConvTranspose2d decoder ending in Sigmoid, 80x80x1; the 240x256x3 variant with 4
stages (32..256 channels) and latent 256; DynamicsModel LayerNorm(Z+8) -> Linear 128 -> GELU
-> Linear 128 -> GELU -> Linear Z (8 actions, one-hot).

Rows (CSV `name,value,unit,threads` on stdout; value = best repeat, `<name>_median` = median):
  ae80_train_samples_per_s              batch 128, L1 loss, Adam: forward+backward+step
  ae80_encode_decode_b128_samples_per_s inference_mode, encode+decode, batch 128
  loop80_b1_fps                         z += dyn([z,a]); frame = decode(z); batch 1 (1, 2 threads)
  dyn_train_samples_per_s               batch 128, one step, MSE on the delta, Adam
  dyn_rollout5_train_samples_per_s      batch 128 windows of 5 steps, open loop, the 5 steps'
                                        MSE(delta, z_true' - z) summed, BPTT, Adam
  ae240rgb_train_samples_per_s          batch 16 (a 128 batch would take ~20 s a step installed)
  loop240rgb_b1_fps                     as loop80 with the 240x256x3 model, latent 256
Each measurement: warm-up, then repeats until ~2 s (at least 3); input data is random, made
once, outside the timed region.
Usage: torch_ref.py [installed|best|both|misdetected] [ae80|dyn|ae240rgb] (default both, every group);
a group runs its rows only: ae80 = the three ae80/loop80 rows, ae240rgb = the two 240x256 rows.
"""
import os
import subprocess
import sys
import time

THREADS_ALL = os.cpu_count() or 1
BUDGET_S = float(os.environ.get("NEMU_TORCH_BUDGET_S", "2.0"))


def wanted_core():
    """OpenBLAS core name for this CPU, the same choice as nemu's blas_init()."""
    try:
        flags = next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split()
    except (OSError, StopIteration):
        return None
    if all(f in flags for f in ("avx512f", "avx512bw", "avx512vl", "avx512dq")):
        return "SkylakeX"
    if "avx2" in flags and "fma" in flags:
        return "Haswell"
    return None


def child_env(mode):
    env = {k: v for k, v in os.environ.items()
           if not (k.startswith(("OPENBLAS_", "OMP_", "GOMP_", "KMP_", "MKL_", "NEMU_BLAS"))
                   or k == "GOTO_NUM_THREADS")}
    if mode == "best":
        core = wanted_core()
        if core:
            env["OPENBLAS_CORETYPE"] = core
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    elif mode == "misdetected":
        env["OPENBLAS_CORETYPE"] = "Prescott"
    return env


# ------------------------------------------------------------------ models (run in the child)

def build_models():
    """gymemu's modules, as the tests define them (tests/gymemu_models.py)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    from gymemu_models import ConvAutoencoder, DynamicsModel
    return ConvAutoencoder, DynamicsModel


def measure(fn, per_call, warm=2, min_reps=3, budget=BUDGET_S):
    """Runs fn() `warm` times (and for a tenth of `budget`), then repeats until `budget`
    seconds (at least min_reps).
    Returns (best, median) of per_call / seconds-per-call."""
    t_end = time.perf_counter() + 0.1 * budget   # at least a tenth of the budget, as bench_models
    i = 0
    while i < warm or time.perf_counter() < t_end:
        fn()
        i += 1
    times, t_end = [], time.perf_counter() + budget
    while len(times) < min_reps or (time.perf_counter() < t_end and len(times) < 20000):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return per_call / times[0], per_call / times[len(times) // 2]


GROUPS = ("ae80", "dyn", "ae240rgb")
PREFIX = "torch_"


def row(name, best_median, unit, threads):
    b, m = best_median
    print(f"{PREFIX}{name},{b:.6g},{unit},{threads}")
    print(f"{PREFIX}{name}_median,{m:.6g},{unit},{threads}")
    sys.stdout.flush()


def train_fn(model, x, loss_fn, target=None):
    import torch
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    tgt = x if target is None else target

    def step():
        opt.zero_grad(set_to_none=True)
        out = model(x)
        loss = loss_fn(out[0] if isinstance(out, tuple) else out, tgt)   # the AE returns (recon, z)
        loss.backward()
        opt.step()
    return step


def loop_fn(ae, dyn, z_dim, frames=20):
    import torch
    z = torch.zeros(1, z_dim)
    a = torch.zeros(1, 8)
    a[0, 3] = 1.0

    def run():
        nonlocal z
        with torch.inference_mode():
            for _ in range(frames):
                z = z + dyn(torch.cat([z, a], dim=1))
                ae.decode(z)
    return run, frames


def ae80_rows(nthreads):
    import torch
    from torch import nn
    ConvAutoencoder, DynamicsModel = build_models()
    ae = ConvAutoencoder(1, 80, 80, 32, 3)
    x = torch.rand(128, 1, 80, 80)
    row("ae80_train_samples_per_s", measure(train_fn(ae, x, nn.functional.l1_loss), 128),
        "samples/s", nthreads)

    def encdec():
        with torch.inference_mode():
            ae(x)
    row("ae80_encode_decode_b128_samples_per_s", measure(encdec, 128), "samples/s", nthreads)

    dyn = DynamicsModel(32, 8)
    for t in sorted({1, nthreads}):
        torch.set_num_threads(t)
        run, frames = loop_fn(ae, dyn, 32)
        row("loop80_b1_fps", measure(run, frames, warm=3), "frames/s", t)
    torch.set_num_threads(nthreads)


def dyn_rows(nthreads):
    import torch
    from torch import nn
    _, DynamicsModel = build_models()
    dyn = DynamicsModel(32, 8)
    za = torch.cat([torch.randn(128, 32), nn.functional.one_hot(
        torch.randint(0, 8, (128,)), 8).float()], dim=1)
    delta = torch.randn(128, 32) * 0.1
    row("dyn_train_samples_per_s",
        measure(train_fn(dyn, za, nn.functional.mse_loss, delta), 128, warm=5),
        "samples/s", nthreads)

    K = 5   # nemu's dynm_rollout_forward/backward with feed = NULL
    ztrue = torch.randn(K + 1, 128, 32)
    acts = nn.functional.one_hot(torch.randint(0, 8, (K, 128)), 8).float()
    dyn5 = DynamicsModel(32, 8)
    opt = torch.optim.Adam(dyn5.parameters(), lr=1e-3)

    def rollout_step():
        opt.zero_grad(set_to_none=True)
        z, loss = ztrue[0], 0
        for k in range(K):
            d = dyn5(torch.cat([z, acts[k]], dim=1))
            loss = loss + nn.functional.mse_loss(d, ztrue[k + 1] - z)
            z = z + d
        loss.backward()
        opt.step()
    row("dyn_rollout5_train_samples_per_s", measure(rollout_step, 128, warm=5), "samples/s", nthreads)


def ae240_rows(nthreads):
    import torch
    from torch import nn
    ConvAutoencoder, DynamicsModel = build_models()
    # 240x256 RGB, 4 stages, latent 256
    ae2 = ConvAutoencoder(3, 240, 256, 256, 4)
    x2 = torch.rand(16, 3, 240, 256)
    row("ae240rgb_train_samples_per_s",
        measure(train_fn(ae2, x2, nn.functional.l1_loss), 16, warm=1), "samples/s", nthreads)
    dyn2 = DynamicsModel(256, 8)
    run, frames = loop_fn(ae2, dyn2, 256, frames=5)
    row("loop240rgb_b1_fps", measure(run, frames, warm=1), "frames/s", nthreads)


def run_child(mode, group):
    global PREFIX
    import torch
    torch.manual_seed(0)
    PREFIX = {"installed": "torch_installed_", "misdetected": "torch_misdetected_"}.get(mode, "torch_")
    if mode in ("best", "misdetected"):
        torch.set_num_threads(THREADS_ALL)
    nthreads = torch.get_num_threads()
    print(f"torch_ref[{mode}]: torch {torch.__version__}, {nthreads} threads, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}", file=sys.stderr)
    for g, rows in (("ae80", ae80_rows), ("dyn", dyn_rows), ("ae240rgb", ae240_rows)):
        if group in ("all", g):
            rows(nthreads)


def main():
    if len(sys.argv) > 3 and sys.argv[1] == "--child":
        run_child(sys.argv[2], sys.argv[3])
        return 0
    what = sys.argv[1] if len(sys.argv) > 1 else "both"
    group = sys.argv[2] if len(sys.argv) > 2 else "all"
    if what not in ("installed", "best", "both", "misdetected") or group not in GROUPS + ("all",) or len(sys.argv) > 3:
        print("usage: torch_ref.py [installed|best|both|misdetected] [ae80|dyn|ae240rgb]", file=sys.stderr)
        return 2
    rc = 0
    for mode in (["best", "installed"] if what == "both" else [what]):
        r = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode, group],
                           env=child_env(mode))
        rc = rc or r.returncode
    return rc


if __name__ == "__main__":
    sys.exit(main())
