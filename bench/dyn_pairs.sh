#!/bin/sh
# bench/dyn_pairs.sh [OUT.csv] - paired rounds of make bench's flat dynamics group alone (issue #15's
# K = 5 rollout-training row beside the single-step one): per round, bench_models' dyn group at 2
# threads and at 1, and bench/torch_ref.py's both set-ups of the same group, PyTorch first in even
# rounds; then, per row, ours (the faster thread count) over PyTorch at its best in that round,
# median and lowest. NEMU_BENCH_ROUNDS rounds (default 5). Needs `make bench` built once
# (build/release/bench/bench_models) and /usr/bin/python3 with torch.
cd "$(dirname "$0")/.." || exit 1
out=${1:-bench/results_dyn_pairs.csv}
rounds=${NEMU_BENCH_ROUNDS:-5}
bin=build/release/bench/bench_models
[ -x "$bin" ] || { echo "dyn_pairs: $bin not built (make bench builds it)" >&2; exit 1; }
: > "$out"
for r in $(seq 1 "$rounds"); do
    uptime | sed "s/^/# round $r /" >> "$out"
    [ $((r % 2)) -eq 0 ] && /usr/bin/python3 bench/torch_ref.py both dyn | sed "s/^/$r,torch,/" >> "$out"
    env -u OPENBLAS_CORETYPE NEMU_BENCH_ONLY=dyn "$bin" | sed "s/^/$r,ours2,/" >> "$out"
    env -u OPENBLAS_CORETYPE OMP_NUM_THREADS=1 NEMU_BENCH_ONLY=dyn "$bin" | sed "s/^/$r,ours1,/" >> "$out"
    [ $((r % 2)) -eq 1 ] && /usr/bin/python3 bench/torch_ref.py both dyn | sed "s/^/$r,torch,/" >> "$out"
done
/usr/bin/python3 - "$out" <<'PY'
import collections, sys
rows, loads = collections.defaultdict(dict), {}
for l in open(sys.argv[1]):
    if l.startswith('#'):
        loads[int(l.split()[2])] = l.split('load average:')[1].strip()
        continue
    r, who, name, val = l.strip().split(',')[:4]
    rows[int(r)][(who, name)] = float(val)
for key in ('dyn_train_samples_per_s', 'dyn_rollout5_train_samples_per_s'):
    rat = []
    for r in sorted(rows):
        d = rows[r]
        ours = max(d[('ours2', key)], d[('ours1', key)])
        torch = max(d[('torch', 'torch_' + key)], d[('torch', 'torch_installed_' + key)])
        rat.append(ours / torch)
        print('%s round %d: ours %.0f (2 threads) %.0f (1), PyTorch at its best %.0f: %.2fx  (load %s)'
              % (key, r, d[('ours2', key)], d[('ours1', key)], torch, ours / torch, loads[r]))
    rat.sort()
    print('%s: %.2fx median, %.2fx lowest of %d rounds' % (key, rat[len(rat) // 2], rat[0], len(rat)))
PY
