#!/usr/bin/env bash
# bench/slurm_sweep_check.sh [WORKDIR] - ./sweep --slurm on a real (one-machine) Slurm:
# starts slurmctld + slurmd (bench/slurm_local.sh), writes a 3-point sweep of a tiny config,
# submits its job array, stops one task mid-run with `scancel --signal=TERM` (./train saves,
# the task requeues itself and resumes), waits for all, checks that the stopped point ends
# bit-identical to the same config trained without interruption, and collects the summary.
# Prints the squeue lines seen, the job completion records and, where slurm_local.sh started
# slurmdbd (Debian's slurmdbd and mariadb-server installed), the sacct lines of the job with
# its requeued run (sacct -D). Exit status 0 when every check holds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/nemu-slurm-check}
sdir=/tmp/nemu-slurm
for p in train eval gen sweep; do [ -x "$root/$p" ] || { echo "build first: make ($p missing)" >&2; exit 1; }; done
bash "$root/bench/slurm_local.sh" start "$sdir" >/dev/null
export SLURM_CONF=$sdir/slurm.conf
trap 'bash "$root/bench/slurm_local.sh" stop "$sdir"' EXIT
rm -rf "$work" && mkdir -p "$work" && cd "$work"
cat >s.ini <<'INI'
[run]
seed = 5
threads = 1
[data]
path = data/s.h5
gen_episodes = 12
gen_steps = 60
test_episodes = 2
height = 32
width = 32
[model]
latent_dim = 8
base_channels = 4
[train]
stage = both
epochs = 60
batch_size = 16
[dynamics]
epochs = 20
[eval]
steps = 1,5,10
starts = 3
INI
"$root/sweep" s.ini --grid train.lr=1e-3,2e-3,3e-3 --name s3 --slurm
job=$(sbatch --parsable sweeps/s3/job.sbatch)
echo "submitted job array $job"
snap() { echo "--- $(date -u +%T) squeue"; squeue -o '%.12i %.9P %.14j %.8u %.2t %.8M %.5D %R' | sed 's/^/    /'; }
snap
until [ -f runs/s3_lr2e-3/log.csv ]; do sleep 0.5; done   # task 1 has finished an epoch
snap
echo "scancel --signal=TERM ${job}_1"
scancel --signal=TERM "${job}_1"
for i in $(seq 600); do
    sleep 2
    [ $((i % 5)) = 1 ] && snap
    [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
done
snap
echo "--- job completion records (jobcomp/filetxt)"
grep "JobId=${job}" "$sdir/jobcomp.txt" | sed -E 's/ (UserId|GroupId|Partition|TimeLimit|NodeCnt|ProcCnt|WorkDir|ReservationName|Tres|Account|QOS|WcKey|Cluster|SubmitTime|EligibleTime)=[^ ]*//g; s/^/    /'
if sacct -n -j "$job" >/dev/null 2>&1; then
    sleep 2   # slurmctld sends the last records to slurmdbd
    echo "--- sacct -D -X -j $job (slurmdbd)"
    sacct -D -X -j "$job" --format=JobID,JobName%16,State,ExitCode,Elapsed,Start,End | sed 's/^/    /'
fi
echo "--- the stopped task's output"
sed 's/^/    /' sweeps/s3/slurm-${job}_1.out | grep -E "task 1|stopped by|resuming|^    done|epoch 60/60|error" || true
ok=1
grep -q "stopped by SIGTERM" sweeps/s3/slurm-${job}_1.out || { echo "FAIL: task 1 was not stopped by SIGTERM"; ok=0; }
grep -q "resuming" sweeps/s3/slurm-${job}_1.out || { echo "FAIL: task 1 did not resume"; ok=0; }
"$root/train" sweeps/s3/lr2e-3.ini --set run.name=reference >reference.log 2>&1
/usr/bin/python3 - "$work" <<'PY' || ok=0
import sys, h5py, numpy as np
w = sys.argv[1]
same = True
for f in ("ae_last.h5", "ae_best.h5", "dyn_last.h5", "dyn_best.h5"):
    a, b = h5py.File(f"{w}/runs/s3_lr2e-3/{f}", "r"), h5py.File(f"{w}/runs/reference/{f}", "r")
    eq = a["state_dict"].keys() == b["state_dict"].keys() and all(
        np.array_equal(a["state_dict"][k][()], b["state_dict"][k][()]) for k in a["state_dict"])
    print(f"{f}: stopped+requeued vs uninterrupted: {'bit-identical' if eq else 'DIFFERENT'}")
    same &= eq
cut = lambda p: [r.split(",")[:4] for r in open(p).read().split("\n")]
eq = cut(f"{w}/runs/s3_lr2e-3/log.csv") == cut(f"{w}/runs/reference/log.csv")
print("log.csv losses:", "identical" if eq else "DIFFERENT")
sys.exit(0 if same and eq else 1)
PY
"$root/sweep" --collect s3 | tail -8
[ "$ok" = 1 ] && echo "slurm sweep check: OK" || { echo "slurm sweep check: FAILED"; exit 1; }
