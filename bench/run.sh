#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - runs every BUILD_DIR/bench/bench_* binary, then (when
# /usr/bin/python3 can import torch; nothing is installed) bench/torch_ref.py, collects their
# CSV rows `name,value,unit,threads` into bench/results.csv (every round's rows, with the
# round first, into bench/results_rounds.csv) and prints a comparison table.
# Each benchmark prints its best repeat as `name` and the median as `name_median`.
# Environment: NEMU_BENCH_ARGS  extra arguments for every bench binary (e.g. "quick")
#              NEMU_BENCH_TORCH=0  skip the PyTorch reference
#              NEMU_BENCH_ROUNDS=3 rounds of everything; each row keeps its best round, and
#                                  each ratio to PyTorch is also taken round by round
# See bench/README.md for how to read the table.
set -u
build=${1:-build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/bench/results.csv"
py=/usr/bin/python3
rows=$(mktemp) log=$(mktemp) all=$(mktemp)
trap 'rm -f "$rows" "$log" "$all"' EXIT
status=0
# Our benchmarks run as a user's shell runs nemu: blas_init() picks OpenBLAS's core and the spin
# count unless they are set, and an inherited OPENBLAS_CORETYPE=Haswell (set in some sandboxes'
# environments) gives AVX2 kernels on an AVX-512 CPU: GEMMs ~1.8x slower here. PyTorch's runs set
# their own (torch_ref.py's child_env clears OPENBLAS_*).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE

csv_only() { grep -E '^[A-Za-z0-9_]+,[-+0-9.eE]+(,[^,]*){2}$' || true; }

echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
rounds=${NEMU_BENCH_ROUNDS:-3}
torch=0
if [ "${NEMU_BENCH_TORCH:-1}" != 0 ] && [ -x "$py" ] && "$py" -c 'import torch' 2>/dev/null; then torch=1
else echo "torch_ref.py: skipped (no /usr/bin/python3 with torch, or NEMU_BENCH_TORCH=0)"; fi

# run LABEL ROUND CMD...: runs one benchmark, appends its CSV rows to $all as `ROUND,row`.
run() {
    local label=$1 round=$2 t0=$SECONDS rc
    shift 2
    "$@" >"$log.out" 2>"$log"
    rc=$?
    csv_only <"$log.out" | sed "s/^/$round,/" >>"$all"
    printf '%-28s rc=%d %4ds  %s\n' "$label" "$rc" $((SECONDS - t0)) \
        "$(grep -v '^$' "$log" | tr '\n' ' ' | cut -c1-150)"
    [ "$rc" -eq 0 ] || status=1
    rm -f "$log.out"
}
# xcore ROUND LABEL: the cross-core round trip (bench_xcore) as a row of $all; prints the ns.
xcore() {
    [ -x "$build/bench/bench_xcore" ] || return 0
    "$build/bench/bench_xcore" "$2" | csv_only | sed "s/^/$1,/" | tee -a "$all" | cut -d, -f3
}
# settle ROUND LABEL: waits (2 s at a time, NEMU_BENCH_SETTLE_S = 60 s at most) until the
# cross-core round trip is below NEMU_BENCH_XCORE_NS (200 ns): the VM places its two vCPUs
# far apart for tens of seconds at a time (bench/README.md), and a run caught there measures
# the placement, not the code. The last round trip (the one a run starts at) and the seconds
# waited go to $all as xcore_roundtrip_ns_LABEL and xcore_wait_s_LABEL.
settle() {
    local t0=$SECONDS row ns
    [ -x "$build/bench/bench_xcore" ] || return 0
    while :; do
        row=$("$build/bench/bench_xcore" "$2" | csv_only)
        ns=$(echo "$row" | cut -d, -f2)
        { [ -z "$ns" ] || [ "$ns" -lt "${NEMU_BENCH_XCORE_NS:-200}" ] ||
            [ $((SECONDS - t0)) -ge "${NEMU_BENCH_SETTLE_S:-60}" ]; } && break
        sleep 2
    done
    [ -n "$row" ] && echo "$1,$row" >>"$all"
    echo "$1,xcore_wait_s_$2,$((SECONDS - t0)),s,2" >>"$all"
}
# placed ROUND LABEL XLABEL CMD...: run LABEL (above) once the vCPUs are close (settle), with
# the round trip before and after as rows xcore_roundtrip_ns_XLABEL; when the one after shows
# the far placement, once more (rates keep the round's best). Ours and PyTorch's runs alike.
placed() {
    local round=$1 label=$2 x=$3 try ns
    shift 3
    for try in 1 2; do
        settle "$round" "$x"
        run "$label" "$round" "$@"
        ns=$(xcore "$round" "$x")
        [ -n "$ns" ] && [ "$ns" -ge "${NEMU_BENCH_XCORE_NS:-200}" ] || break
    done
}

for round in $(seq 1 "$rounds"); do
    [ "$rounds" -gt 1 ] && echo "-- round $round of $rounds"
    for b in "$build"/bench/bench_*; do
        [ -x "$b" ] && [ -f "$b" ] || continue
        case "$b" in *.o|*.d|*/bench_models|*/bench_xcore) continue ;; esac
        # shellcheck disable=SC2086
        run "$(basename "$b")" "$round" "$b" ${NEMU_BENCH_ARGS:-}
    done
    # The models, group by group, each right after or before PyTorch's same group (the
    # order flips every round), so that each ratio compares two runs a few seconds apart.
    for g in ae80 dyn ae240rgb; do
        if [ $((round % 2)) -eq 0 ] && [ "$torch" = 1 ]; then
            placed "$round" "torch_ref.py $g" "torch_$g" "$py" "$root/bench/torch_ref.py" both "$g"
        fi
        # shellcheck disable=SC2086
        [ -x "$build/bench/bench_models" ] &&
            placed "$round" "bench_models $g" "$g" env NEMU_BENCH_ONLY="$g" "$build/bench/bench_models" ${NEMU_BENCH_ARGS:-}
        if [ $((round % 2)) -eq 1 ] && [ "$torch" = 1 ]; then
            placed "$round" "torch_ref.py $g" "torch_$g" "$py" "$root/bench/torch_ref.py" both "$g"
        fi
        # issue 6's "PyTorch as installed" on its Xeon (OpenBLAS picks SSE3 kernels there)
        if [ "$g" = ae80 ] && [ "$torch" = 1 ] && [ "${NEMU_BENCH_MISDETECTED:-1}" != 0 ]; then
            run "torch_ref.py misdetected" "$round" "$py" "$root/bench/torch_ref.py" misdetected ae80
        fi
    done
done
# Across rounds, each row keeps its best: the highest rate (units with "/"), the lowest time
# (s, ms), the last value of anything else (memory, ratios).
awk -F, '
{ k = $2 FS $4 FS $5
  if (!(k in v)) { order[++n] = k; v[k] = $3; next }
  if ($4 ~ /\//) { if ($3 + 0 > v[k] + 0) v[k] = $3 }
  else if ($4 == "s" || $4 == "ms") { if ($3 + 0 < v[k] + 0) v[k] = $3 }
  else v[k] = $3 }
END { for (i = 1; i <= n; i++) { split(order[i], f, FS); print f[1] "," v[order[i]] "," f[2] "," f[3] } }' "$all" >"$rows"
# The issue-6 ratios, paired: in each round, our fastest thread count of the row over the
# fastest PyTorch run of the same round (either set-up, any thread count); rows
# `vs_torch_<name>` = the median of the rounds' ratios, `vs_torch_<name>_min` the lowest.
awk -F, '
# Our rate over PyTorch set-up p ("t": best or as installed, "m": misdetected) of the row,
# round by round: the number of rounds with both; the ratios sorted in x[], their median in med.
function paired(name, p,    m, r, o, t, i, j, y) {
    m = 0
    for (r = 1; r <= nr; r++) {
        o = r SUBSEP "" SUBSEP name; t = r SUBSEP p SUBSEP name
        if ((o in v) && (t in v) && v[t] > 0) x[++m] = v[o] / v[t]
    }
    for (i = 2; i <= m; i++) for (j = i; j > 1 && x[j - 1] > x[j]; j--) { y = x[j]; x[j] = x[j - 1]; x[j - 1] = y }
    if (m > 0) med = m % 2 ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2
    return m
}
$2 !~ /_median$/ && $4 ~ /\// {
    name = $2; p = ""
    if (name ~ /^torch_misdetected_/) { p = "m"; name = substr(name, 19) }
    else if (name ~ /^torch_installed_/) { p = "t"; name = substr(name, 17) }
    else if (name ~ /^torch_/) { p = "t"; name = substr(name, 7) }
    k = $1 SUBSEP p SUBSEP name
    if (!(k in v) || $3 + 0 > v[k] + 0) v[k] = $3
    if (p == "t") { has[name] = 1; if ($1 + 0 > nr) nr = $1 + 0 }
}
END {
    for (name in has) {
        if (!(m = paired(name, "t"))) continue
        printf "vs_torch_%s,%.3f,x,%d\nvs_torch_%s_min,%.3f,x,%d\n", name, med, nc, name, x[1], nc
        printf "vs_torch_%s_rounds,%d,rounds,%d\n", name, m, nc
    }
    # AE80 training against PyTorch on misdetected (SSE3) kernels, paired the same way
    if (paired("ae80_train_samples_per_s", "m"))
        printf "vs_torch_misdetected_ae80_train_samples_per_s,%.3f,x,%d\nvs_torch_misdetected_ae80_train_samples_per_s_min,%.3f,x,%d\n", med, nc, x[1], nc
}' nc="$(nproc)" "$all" | sort >>"$rows"

{ echo "name,value,unit,threads"; cat "$rows"; } >"$out"
{ echo "round,name,value,unit,threads"; cat "$all"; } >"${out%.csv}_rounds.csv"
echo "wrote $out ($(wc -l <"$rows") rows) and ${out%.csv}_rounds.csv (every round's rows)"
echo

# The table. Peak = the measured FMA peak (peak_fp32_gflops) when bench_gemm ran, else the
# nominal 2 x 2.96 GHz x 64 FLOP/cycle of the issue's Xeon.
awk -F, '
function key(n, t) { return n SUBSEP t }
NR > 1 {
    v[key($1, $4)] = $2; u[$1] = $3
    if (!($1 in thr)) thr[$1] = $4; else if (index(" " thr[$1] " ", " " $4 " ") == 0) thr[$1] = thr[$1] " " $4
    if ($1 !~ /^(torch_|vs_torch_|xcore_)/ && $1 !~ /_median$/ && !(($1) in seen)) { seen[$1] = 1; order[++n] = $1 }
}
function torch_val(pre, name, t,    k, best, tt, m, i) {
    k = key(pre name, t); if (k in v) return v[k]
    # no row with the same thread count: take the one with the most threads
    if (!((pre name) in thr)) return ""
    m = split(thr[pre name], tt, " "); best = tt[1]
    for (i = 2; i <= m; i++) if (tt[i] + 0 > best + 0) best = tt[i]
    return v[key(pre name, best)] "*"
}
function fmt(x,    st) {
    if (x == "") return "-"
    st = sub(/\*$/, "", x) ? "*" : ""
    return (x + 0 >= 1000 ? sprintf("%.0f", x) : sprintf("%.3g", x)) st
}
function hi_thr(name,    m, tt, i, b) {   # the highest thread count name was measured at, or ""
    if (!(name in thr)) return ""
    m = split(thr[name], tt, " "); b = tt[1]
    for (i = 2; i <= m; i++) if (tt[i] + 0 > b + 0) b = tt[i]
    return b
}
function ratio(a, b) { sub(/\*$/, "", b); if (a == "" || b == "" || b + 0 == 0) return "-"; return sprintf("%.2fx", a / b) }
END {
    peak = 379; peak_t = 2; peak_src = "nominal"
    pt0 = 0
    for (k in v) { split(k, kk, SUBSEP); if (kk[1] == "peak_fp32_gflops" && kk[2] + 0 > pt0) { pt0 = kk[2] + 0; peak = v[k]; peak_t = kk[2]; peak_src = "measured" } }
    flop["ae80_train_samples_per_s"] = 0.329
    flop["ae80_encode_decode_b128_samples_per_s"] = 0.1098
    printf "%-40s %3s %10s %10s %10s %10s %9s %9s %7s\n", "benchmark (best of repeats)", "thr", "ours", "median", "torch", "torch_inst", "/torch", "/inst", "%peak"
    for (i = 1; i <= n; i++) {
        name = order[i]; m = split(thr[name], tt, " ")
        for (j = 1; j <= m; j++) {
            t = tt[j]; ours = v[key(name, t)]; med = v[key(name "_median", t)]
            tb = torch_val("torch_", name, t); ti = torch_val("torch_installed_", name, t)
            pk = "-"; pt = peak * (t < peak_t ? t : peak_t) / peak_t
            if (name in flop) pk = sprintf("%.0f%%", 100 * ours * flop[name] / pt)
            else if (u[name] == "GFLOP/s" && name != "peak_fp32_gflops") pk = sprintf("%.0f%%", 100 * ours / pt)
            printf "%-40s %3s %10s %10s %10s %10s %9s %9s %7s\n", name, t, fmt(ours), fmt(med), fmt(tb), fmt(ti), ratio(ours, tb), ratio(ours, ti), pk
        }
    }
    printf "\npeak fp32 = %.0f GFLOP/s (%s, %s threads; %%peak at fewer threads scales it down); torch = PyTorch best settings, torch_inst = as installed; * = torch row at another thread count\n", peak, peak_src, peak_t
    # PyTorch rows that have no C counterpart yet
    first = 1
    for (k in v) {
        split(k, kk, SUBSEP); nm = kk[1]
        if (nm !~ /^torch_/ || nm ~ /_median$/ || nm ~ /^torch_(installed|misdetected)_/) continue
        base = substr(nm, 7); if (base in seen) continue
        if (first) { printf "PyTorch only (no C benchmark yet):"; first = 0 }
        printf " %s=%s(t%s)", base, fmt(v[k]), kk[2]
    }
    if (!first) printf "\n"
    # The issue-6 targets, each against PyTorch at its best: the fastest PyTorch measurement
    # of the row in this run, whichever set-up (best settings or as installed) and thread
    # count; ours is our fastest thread count too.
    target["ae80_train_samples_per_s"] = 1.3; target["loop80_b1_fps"] = 2; target["dyn_train_samples_per_s"] = 3
    target["dyn_rollout5_train_samples_per_s"] = 3
    target["ae240rgb_train_samples_per_s"] = 2; target["loop240rgb_b1_fps"] = 2
    hdr = 0
    for (i = 1; i <= n; i++) {
        name = order[i]; ob = ""; obt = ""; tbv = ""; tbs = ""
        m = split(thr[name], tt, " ")
        for (j = 1; j <= m; j++) { x = v[key(name, tt[j])]; if (ob == "" || x + 0 > ob + 0) { ob = x; obt = tt[j] } }
        for (p = 1; p <= 2; p++) {
            pre = p == 1 ? "torch_" : "torch_installed_"
            if (!((pre name) in thr)) continue
            m = split(thr[pre name], tt, " ")
            for (j = 1; j <= m; j++) {
                x = v[key(pre name, tt[j])]
                if (tbv == "" || x + 0 > tbv + 0) { tbv = x; tbs = (p == 1 ? "best settings" : "as installed") ", " tt[j] " thr" }
            }
        }
        if (tbv == "") continue
        if (!hdr) { printf "\nagainst PyTorch at its best (fastest PyTorch run of the row, any set-up and thread count; the\ntarget is judged on the paired ratio: per round, ours over PyTorch measured seconds apart):\n"; hdr = 1 }
        r = ob / tbv
        pm = hi_thr("vs_torch_" name); pr = ""; ok = r
        if (pm != "") {
            ok = v[key("vs_torch_" name, pm)]
            pr = sprintf("  paired: median %.2fx, min %.2fx of %d rounds", ok, v[key("vs_torch_" name "_min", pm)], v[key("vs_torch_" name "_rounds", pm)])
        }
        tg = name in target ? sprintf("target >= %gx: %s", target[name], ok >= target[name] ? "met" : "NOT met") : ""
        printf "  %-36s ours %8s (%s thr)  PyTorch %8s (%s)  best/best %5.2fx%s  %s\n", name, fmt(ob), obt, fmt(tbv), tbs, r, pr, tg
    }
    # Data and memory against training (bench_data, bench_train): how many times faster than
    # AE80 training consumes frames the data is loaded and generated; peak RSS vs the estimate.
    tt_ = hi_thr("ae80_train_samples_per_s")
    if (tt_ != "") {
        tr_ = v[key("ae80_train_samples_per_s", tt_)]
        lt_ = key("load_preprocess_frames_per_s", tt_) in v ? tt_ : hi_thr("load_preprocess_frames_per_s")
        gt_ = hi_thr("gen_tetris_frames_per_s")
        if (lt_ != "") printf "data loading: load_preprocess_frames_per_s / ae80_train_samples_per_s = %s / %s (%s threads) = %.1fx\n", fmt(v[key("load_preprocess_frames_per_s", lt_)]), fmt(tr_), lt_, v[key("load_preprocess_frames_per_s", lt_)] / tr_
        if (gt_ != "") printf "generation:   gen_tetris_frames_per_s / ae80_train_samples_per_s = %s (%s thread) / %s = %.1fx\n", fmt(v[key("gen_tetris_frames_per_s", gt_)]), gt_, fmt(tr_), v[key("gen_tetris_frames_per_s", gt_)] / tr_
    }
    rt_ = hi_thr("peak_rss_train_mb")
    if (rt_ != "" && key("train_rss_estimate_mb", rt_) in v)
        printf "train memory: peak RSS %s MB / estimate printed at start %s MB = %.3f (target <= 1.10)\n", fmt(v[key("peak_rss_train_mb", rt_)]), fmt(v[key("train_rss_estimate_mb", rt_)]), v[key("peak_rss_train_mb", rt_)] / v[key("train_rss_estimate_mb", rt_)]
    mt_ = hi_thr("vs_torch_misdetected_ae80_train_samples_per_s")
    if (mt_ != "")
        printf "AE80 training vs PyTorch on OpenBLAS'"'"'s misdetected SSE3 kernels (issue 6'"'"'s \"as installed\", OPENBLAS_CORETYPE=Prescott, 2 threads): best %s / %s, paired median %.2fx, min %.2fx (target >= 8x: %s)\n", fmt(v[key("ae80_train_samples_per_s", hi_thr("ae80_train_samples_per_s"))]), fmt(v[key("torch_misdetected_ae80_train_samples_per_s", hi_thr("torch_misdetected_ae80_train_samples_per_s"))]), v[key("vs_torch_misdetected_ae80_train_samples_per_s", mt_)], v[key("vs_torch_misdetected_ae80_train_samples_per_s_min", mt_)], (v[key("vs_torch_misdetected_ae80_train_samples_per_s", mt_)] >= 8 ? "met" : "NOT met")
}' "$out"
# The cross-core round trip right before and after each of our model groups, round by round.
awk -F, '$2 ~ /^xcore_roundtrip_ns_/ {
    g = substr($2, 20); sep = ((g SUBSEP $1) in seen) ? "/" : ((g in s) ? ", " : "")
    if (!(g in s)) order[++n] = g
    s[g] = s[g] sep $3; seen[g SUBSEP $1] = 1 }
$2 ~ /^xcore_wait_s_/ { w = w (w == "" ? "" : ", ") substr($2, 14) " " $3 }
END {
    if (!n) exit
    printf "cross-core round trip (bench_xcore, ns, before/after each run, per round):"
    for (i = 1; i <= n; i++) printf "%s %s %s", (i > 1 ? ";" : ""), order[i], s[order[i]]
    printf "\n  (~60-90 ns: the two vCPUs close; ~350: placed far apart, where the rows that synchronise\n  often, the batch-1 loops and the dynamics step at 2 threads, lose 25-50%%)\n"
    if (w != "") printf "  seconds waited for the close placement before each run: %s\n", w
}' "$all"
exit $status
