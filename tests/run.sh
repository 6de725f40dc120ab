#!/usr/bin/env bash
# tests/run.sh BUILD_DIR - runs every test binary in BUILD_DIR/tests and every tests/test_*.py
# (those skip themselves when their Python modules are missing), adds up their closing
# "N passed, N failed" lines and their "skipped: <why>" lines (a whole file or a part of
# one that could not run), shows each file's first reason on its row and prints the total
# last: "N passed, N failed, N skipped". Exit status 1 on any failure.
set -u
build=${1:-build/release}
export NEMU_BIN="$PWD/$build/bin"      # programs under test (./train, ./gen, ./eval)
export NEMU_ROOT="$PWD"
# tests are not benchmarks: never let idle OpenMP threads spin against a busy neighbour
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
py=/usr/bin/python3
passed=0 failed=0 skipped=0 log=$(mktemp)
trap 'rm -f "$log"' EXIT
run_one() {   # name, command...
    local name=$1; shift
    local t0=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    local last
    last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    local p=0 f=0
    if [ -n "$last" ]; then
        p=$(echo "$last" | awk '{print $1}'); f=$(echo "$last" | awk '{print $3}')
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi      # crashed or exited non-zero
    if [ -z "$last" ] && [ "$rc" -eq 0 ]; then f=1; echo "(no summary line)" >>"$log"; fi
    local s why
    s=$(grep -c '^skipped: ' "$log")
    why=$(grep -m 1 '^skipped: ' "$log")
    [ "$s" -gt 1 ] && why="$why (+$((s - 1)) more)"
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    printf '%-28s %4d passed %3d failed  %3ds%s\n' "$name" "$p" "$f" $((SECONDS - t0)) "${why:+  $why}"
    if [ "$f" -ne 0 ]; then sed 's/^/    | /' "$log" | grep -E 'FAIL|error|Error|ERROR|runtime error|Sanitizer|no summary' | head -n 40; fi
}
for t in "$build"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.o|*.d) continue;; esac
    run_one "$(basename "$t")" "$t"
done
# the convolutions' second path: im2col/col2im + GEMM for the shapes the direct kernels take
[ -x "$build/tests/test_ops" ] && run_one "test_ops (NEMU_CONV_DIRECT=0)" env NEMU_CONV_DIRECT=0 "$build/tests/test_ops"
# the spatial models with their stride-1 convs on im2col + GEMM instead of the shifted GEMMs
[ -x "$build/tests/test_spatial" ] && run_one "test_spatial (NEMU_CONV_SHIFT=0)" env NEMU_CONV_SHIFT=0 "$build/tests/test_spatial"
# the size limits: no file over 800 lines, no C function over 120 (lists what is over)
run_one "check_style.py" "$py" tests/check_style.py
for t in tests/test_*.py; do
    [ -f "$t" ] || continue
    run_one "$(basename "$t")" "$py" "$t"
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
