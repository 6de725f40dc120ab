#!/usr/bin/env bash
# bench/spatial_pairs.sh [BUILD_DIR] - paired rounds of the spatial family (issue #23):
# bench_spatial (nemu) and bench/torch_spatial.py (PyTorch running tests/nemu_modules.py), group
# by group, at 1 thread and at all cores, ours first in odd rounds and PyTorch's first in even
# ones, so that each group's four runs are seconds apart. Per round and row: our best thread
# count over PyTorch's best (its best settings: OPENBLAS_CORETYPE, OMP_WAIT_POLICY=PASSIVE, at 1
# thread and at all cores); prints per row the median and lowest of the rounds' ratios, and the
# load average at the start of each round. Rows go to bench/results_spatial.csv (round first).
# (times, rows *_us, as PyTorch's time over ours). NEMU_SPATIAL_BASE=BINARY also times an earlier
# bench_spatial in the same rounds (before/after of a change); NEMU_SPATIAL_OURS=BINARY instead of
# BUILD_DIR/bench/bench_spatial.
# Environment: NEMU_BENCH_ROUNDS (default 3), NEMU_BENCH_BUDGET_S (default 1.5, both sides),
#              NEMU_SPATIAL_GROUPS (default "sae80 cdyn80 sloop80 sloop240rgb sae240rgb").
set -u
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/results_spatial.csv"
py=/usr/bin/python3
rounds=${NEMU_BENCH_ROUNDS:-3}
budget=${NEMU_BENCH_BUDGET_S:-1.5}
groups=${NEMU_SPATIAL_GROUPS:-sae80 cdyn80 sloop80 sloop240rgb sae240rgb}
core=$(flags=$(grep -m1 "^flags" /proc/cpuinfo); for f in avx512f avx512bw avx512vl avx512dq; do case " $flags " in *" $f "*) ;; *) echo Haswell; exit;; esac; done; echo SkylakeX)  # torch_ref.py's wanted_core()
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
# nemu as a user's shell runs it: no OPENBLAS_*/GOMP_* settings inherited (blas_init picks the
# core and the spin count; an inherited OPENBLAS_CORETYPE=Haswell gives AVX2 kernels on an
# AVX-512 CPU, ~1.8x slower GEMMs here)
nemu() {  # BINARY GROUP THREADS
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE -u GOMP_SPINCOUNT -u OMP_WAIT_POLICY -u NEMU_BLAS_REEXEC \
        OMP_NUM_THREADS=$3 NEMU_BENCH_ONLY=$2 NEMU_BENCH_BUDGET_S=$budget "$1" 2>/dev/null
}
ours() { nemu "${NEMU_SPATIAL_OURS:-$build/bench/bench_spatial}" "$@"; }
# NEMU_SPATIAL_BASE=BINARY: an earlier bench_spatial timed in the same rounds (rows base_*)
base() { nemu "$NEMU_SPATIAL_BASE" "$@" | sed 's/^/base_/'; }
theirs() {
    env -u OPENBLAS_L2_SIZE NEMU_TORCH_THREADS=$2 NEMU_TORCH_BUDGET_S=$budget OPENBLAS_CORETYPE=$core \
        OMP_WAIT_POLICY=PASSIVE "$py" "$root/bench/torch_spatial.py" "$1" 2>/dev/null
}
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
for r in $(seq 1 "$rounds"); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    echo "$r,load_avg,$load,,0" >>"$tmp"
    for g in $groups; do
        sides="ours theirs"
        [ -n "${NEMU_SPATIAL_BASE:-}" ] && sides="base ours theirs"
        [ $((r % 2)) -eq 0 ] && sides=$(echo "$sides" | tr ' ' '\n' | tac | tr '\n' ' ')
        for side in $sides; do
            # the loop groups time 1 thread and all cores in one process; the rest once per count
            for t in $(case $g in sloop*) nproc ;; *) echo 1 "$(nproc)" ;; esac); do
                $side "$g" "$t" | grep -E '^[a-z0-9_]+,[-+0-9.eE]+,' | grep -v '_median,' | sed "s/^/$r,/" >>"$tmp"
            done
        done
    done
    echo "round $r done (load at start $load)" >&2
done
cp "$tmp" "$out"
"$py" - "$out" <<'PY'
import sys, collections, statistics
rows = [l.strip().split(",") for l in open(sys.argv[1]) if l.strip()]
best = collections.defaultdict(dict)   # (round, row) -> {side: best}
load = {}
for r, name, val, unit, thr in rows:
    if name == "load_avg": load[r] = val; continue
    side = "torch" if name.startswith("torch_") else "base" if name.startswith("base_") else "ours"
    key = name[6:] if side == "torch" else name[5:] if side == "base" else name
    if key.endswith("_us"):  # times: lower is better; keep the ratio as theirs/ours
        v = 1.0 / float(val)
    else:
        v = float(val)
    d = best[(r, key)]
    d[side] = max(d.get(side, 0.0), v)
print("loads at round start:", ", ".join(f"{k}: {v}" for k, v in sorted(load.items())))
for side in ("base", "ours"):
    ratios = collections.defaultdict(list)
    for (r, key), d in sorted(best.items()):
        if side in d and "torch" in d: ratios[key].append((d[side] / d["torch"], r, d))
    if not ratios: continue
    print(f"{side + ' row':36s} {'median':>7s} {'lowest':>7s}  per round ({side} / torch at its best)")
    for key, lst in sorted(ratios.items()):
        rs = [x[0] for x in lst]
        per = "; ".join(f"{x[0]:.2f}x ({x[2][side]:.4g}/{x[2]['torch']:.4g})" for x in lst)
        print(f"{key:36s} {statistics.median(rs):6.2f}x {min(rs):6.2f}x  {per}")
PY
