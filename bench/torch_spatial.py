#!/usr/bin/env python3
"""torch_spatial.py - PyTorch running the shipped spatial modules (tests/nemu_modules.py:
SpatialAutoencoder, ConvDynamics), row for row with bench/bench_spatial.c, rows prefixed
torch_ (CSV `name,value,unit,threads`; value = best repeat, `<name>_median` the median).

PyTorch at its best settings, as bench/torch_ref.py's `best`: run it in a fresh process with
OPENBLAS_CORETYPE for this CPU and OMP_WAIT_POLICY=PASSIVE in the environment, e.g.

    OPENBLAS_CORETYPE=Haswell OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/torch_spatial.py [group]

(group as bench_spatial's NEMU_BENCH_ONLY: sae80 sloop80 cdyn80 sae240rgb sloop240rgb conv;
default all). Training rows run at all cores; the play loop at 1 thread and at all cores.
NEMU_TORCH_BUDGET_S (default 2) seconds per measurement; NEMU_TORCH_THREADS caps "all cores".
"""
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from nemu_modules import ConvDynamics, SpatialAutoencoder  # noqa: E402

THREADS_ALL = int(os.environ.get("NEMU_TORCH_THREADS", "0")) or os.cpu_count() or 1
BUDGET_S = float(os.environ.get("NEMU_TORCH_BUDGET_S", "2.0"))


def measure(fn, warm=2, budget=BUDGET_S):
    t_end = time.perf_counter() + 0.1 * budget
    i = 0
    while i < warm or time.perf_counter() < t_end:
        fn()
        i += 1
    ts = []
    t_end = time.perf_counter() + budget
    while len(ts) < 3 or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    return ts[0], ts[len(ts) // 2]


def rate_row(name, t, per_call, unit, threads):
    print(f"torch_{name},{per_call / t[0]:.6g},{unit},{threads}")
    print(f"torch_{name}_median,{per_call / t[1]:.6g},{unit},{threads}", flush=True)


def time_row(name, t, threads):
    print(f"torch_{name},{1e6 * t[0]:.6g},us,{threads}")
    print(f"torch_{name}_median,{1e6 * t[1]:.6g},us,{threads}", flush=True)


def family(C, H, W, stages, B, train_name, loop_name, do_train, do_loop, frames):
    torch.set_num_threads(THREADS_ALL)
    ae = SpatialAutoencoder(C, H, W, 16, stages, 32)
    x = torch.rand(B, C, H, W)
    if do_train:
        opt = torch.optim.Adam(ae.parameters(), lr=1e-3)

        def step():
            opt.zero_grad()
            F.l1_loss(ae(x)[0], x).backward()
            opt.step()
        rate_row(train_name, measure(step), B, "samples/s", THREADS_ALL)
    if do_loop:
        dyn = ConvDynamics(16, H >> stages, W >> stages, 8, 64, 2)
        with torch.no_grad():
            for p in dyn.parameters():
                p.add_(0.01 * torch.randn_like(p))
        a = torch.zeros(1, 8)
        a[0, 6] = 1
        with torch.inference_mode():
            z0 = ae.encode(x[:1])

            def loop():
                z = z0
                for _ in range(frames):
                    z = z + dyn(z, a)
                    ae.decode(z)
            for t in sorted({1, THREADS_ALL}):
                torch.set_num_threads(t)
                rate_row(loop_name, measure(loop, warm=1), frames, "frames/s", t)
        torch.set_num_threads(THREADS_ALL)


def cdyn80():
    torch.set_num_threads(THREADS_ALL)
    B = 128
    dyn = ConvDynamics(16, 10, 10, 8, 64, 2)
    z = torch.randn(B, 16, 10, 10)
    a = F.one_hot(torch.randint(0, 8, (B,)), 8).float()
    target = 0.1 * torch.randn(B, 16, 10, 10)
    opt = torch.optim.Adam(dyn.parameters(), lr=1e-3)

    def step():
        opt.zero_grad()
        F.mse_loss(dyn(z, a), target).backward()
        opt.step()
    rate_row("cdyn80_train_samples_per_s", measure(step, warm=3), B, "samples/s", THREADS_ALL)


def conv():
    torch.set_num_threads(THREADS_ALL)
    layer = torch.nn.Conv2d(64, 64, 3, padding=1)
    for B in (128, 1):
        x = torch.randn(B, 64, 10, 10, requires_grad=True)
        with torch.inference_mode():
            time_row(f"conv3x3_10x10_c64_fwd_b{B}_us", measure(lambda: F.relu(layer(x)), warm=5), THREADS_ALL)
        y = F.relu(layer(x))
        g = torch.randn_like(y)

        def bwd():
            layer.zero_grad()
            x.grad = None
            torch.autograd.grad(y, [x, layer.weight, layer.bias], g, retain_graph=True)
        time_row(f"conv3x3_10x10_c64_bwd_b{B}_us", measure(bwd, warm=5), THREADS_ALL)


def main():
    only = sys.argv[1] if len(sys.argv) > 1 else None
    want = lambda g: only is None or only == g  # noqa: E731
    print(f"torch_spatial: torch {torch.__version__}, {THREADS_ALL} threads", file=sys.stderr)
    if want("sae80") or want("sloop80"):
        family(1, 80, 80, 3, 128, "sae80_train_samples_per_s", "sloop80_b1_fps", want("sae80"), want("sloop80"), 20)
    if want("cdyn80"):
        cdyn80()
    if want("sae240rgb") or want("sloop240rgb"):
        family(3, 240, 256, 4, 16, "sae240rgb_train_samples_per_s", "sloop240rgb_b1_fps", want("sae240rgb"),
               want("sloop240rgb"), 4)
    if want("conv"):
        conv()


if __name__ == "__main__":
    main()
