#!/usr/bin/env bash
# bench/slurm_local.sh start|stop [DIR] - a one-machine Slurm for checking ./sweep --slurm:
# slurmctld and slurmd of Debian's slurm-wlm on localhost, configured and kept in DIR
# (default /tmp/nemu-slurm): no munge (auth/none), no accounting database (a job completion
# log, DIR/jobcomp.txt, stands in for sacct), one node with this machine's CPUs, one
# partition, requeue allowed. `start` prints the line to source (SLURM_CONF) and waits until
# the node is idle; `stop` ends both daemons (by the pids they wrote) and removes nothing.
# Root only (slurmd starts the jobs' processes). Not a production setup.
set -euo pipefail
cmd=${1:-start}
dir=${2:-/tmp/nemu-slurm}
host=$(hostname -s)
conf=$dir/slurm.conf
case "$cmd" in
start)
    command -v slurmctld >/dev/null || { echo "slurm_local.sh: slurmctld missing: apt-get install slurm-wlm (make deps SLURM=1)" >&2; exit 1; }
    [ "$(id -u)" = 0 ] || { echo "slurm_local.sh: run as root (slurmd starts jobs as their users)" >&2; exit 1; }
    mkdir -p "$dir/state" "$dir/spool" "$dir/log"
    cpus=$(nproc)
    mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)
    cat >"$conf" <<CONF
ClusterName=nemu
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/none
CredType=cred/none
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobRequeue=1
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MinJobAge=3600
KillWait=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
    export SLURM_CONF=$conf
    slurmctld -f "$conf" -i
    slurmd -f "$conf"
    for i in $(seq 60); do
        state=$(sinfo -h -o %t 2>/dev/null || true)
        case "$state" in idle*|mix*|alloc*) break;; esac
        sleep 1
    done
    sinfo
    echo "export SLURM_CONF=$conf"
    ;;
stop)
    for d in slurmd slurmctld; do
        [ -f "$dir/$d.pid" ] && kill "$(cat "$dir/$d.pid")" 2>/dev/null || true
    done
    ;;
*)
    echo "usage: bench/slurm_local.sh start|stop [DIR]" >&2; exit 2;;
esac
