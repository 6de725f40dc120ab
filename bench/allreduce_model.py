#!/usr/bin/env python3
"""bench/allreduce_model.py - a model of the data-parallel step time at N ranks (README "On a
cluster"): each rank is one node like the one measured (its step at the global batch takes
T1 seconds), computes its share B/N of the batch in T1/N (ideal: it ignores the loss of
efficiency of small per-rank batches, so it is optimistic there), then the ranks sum the
gradients (S bytes) with a ring allreduce, which sends and receives 2(N-1)/N * S bytes per
rank in 2(N-1) messages, after the backward pass (no overlap, as ./train does):

    T(N) = T1/N + 2(N-1)/N * S/BW + 2(N-1) * alpha

Scaling stops where the sum costs as much as the compute: N* ~ T1 * BW / (2 S).
Usage: allreduce_model.py NAME T1_S BYTES BATCH [NAME T1_S BYTES BATCH ...]"""
import sys

NETS = [("10 Gb/s", 10e9 / 8, 20e-6), ("100 Gb/s", 100e9 / 8, 5e-6)]   # bytes/s, per-message latency


def table(name, t1, s, batch):
    print(f"\n{name}: step {t1 * 1e3:.0f} ms at batch {batch} on one node, {s / 1e6:.2f} MB of gradients")
    print("| N | per-rank batch | " + " | ".join(f"{n}: step ms (sum ms), speed-up" for n, _, _ in NETS) + " |")
    print("|---:|---:|" + "---:|" * len(NETS))
    for N in (2, 8, 32, 128):
        if N > batch:
            print(f"| {N} | < 1 | " + " | ".join("-" for _ in NETS) + " |")
            continue
        cells = []
        for _, bw, alpha in NETS:
            ar = 2 * (N - 1) / N * s / bw + 2 * (N - 1) * alpha
            t = t1 / N + ar
            cells.append(f"{t * 1e3:.1f} ({ar * 1e3:.1f}), {t1 / t:.1f}x")
        print(f"| {N} | {batch / N:g} | " + " | ".join(cells) + " |")
    for n, bw, _ in NETS:
        print(f"{n}: the sum costs as much as the compute at N ~ {t1 * bw / (2 * s):.1f}")


if __name__ == "__main__":
    a = sys.argv[1:]
    if not a or len(a) % 4:
        sys.exit(__doc__)
    for i in range(0, len(a), 4):
        table(a[i], float(a[i + 1]), float(a[i + 2]), int(a[i + 3]))
