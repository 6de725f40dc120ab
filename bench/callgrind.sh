#!/bin/bash
# bench/callgrind.sh - instruction counts per function (valgrind --tool=callgrind) for the
# batch-1 interactive loop (loop80) and the dynamics training step (dyn), one thread.
# valgrind 3.19 cannot decode AVX-512, so this builds an AVX2 variant in build/callgrind;
# counts, not times: they show where the instructions go, and what a change saves, without
# the noise of a shared machine. Usage: bash bench/callgrind.sh [loop80|dyn ...]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 1; }
make -s MODE=callgrind OPT='-O3 -march=x86-64-v3' build/callgrind/bench/bench_models
out=build/callgrind/profiles
mkdir -p "$out"
export NEMU_BLAS_REEXEC=1 OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE NEMU_BENCH_BUDGET_S=0.001
for what in "${@:-loop80 dyn}"; do
    for w in $what; do
        NEMU_BENCH_ONLY=$w valgrind --tool=callgrind --callgrind-out-file="$out/$w.out" \
            build/callgrind/bench/bench_models >/dev/null 2>"$out/$w.log"
        echo "== $w: top functions by instructions ($out/$w.out)"
        callgrind_annotate "$out/$w.out" 2>/dev/null | grep -E '^ *[0-9,]+ \(' | sed -n 2,16p
    done
done
