#!/usr/bin/env bash
# bench/slurm_local.sh start|stop [DIR] - a one-machine Slurm for checking ./sweep --slurm:
# slurmctld and slurmd of Debian's slurm-wlm on localhost, configured and kept in DIR
# (default /tmp/nemu-slurm): no munge (auth/none), one node with this machine's CPUs, one
# partition, requeue allowed. With Debian's slurmdbd and mariadb-server installed (make deps
# SLURM=1), accounting for sacct: a MariaDB of its own (DIR/db, 127.0.0.1:16819, user slurm)
# and slurmdbd (port 16820), started first; without them a job completion log,
# DIR/jobcomp.txt, stands in for sacct. `start` prints the line to source (SLURM_CONF) and
# waits until the node is idle; `stop` ends the daemons (by the pids they wrote) and removes
# nothing. Root only (slurmd starts the jobs' processes). Not a production setup.
set -euo pipefail
cmd=${1:-start}
dir=${2:-/tmp/nemu-slurm}
host=$(hostname -s)
conf=$dir/slurm.conf
# MariaDB in $dir/db (created once) and slurmdbd on it; waits until sacctmgr answers and the
# cluster is registered
start_accounting() {
    if [ ! -d "$dir/db/mysql" ]; then
        mariadb-install-db --user=root --datadir="$dir/db" --skip-test-db \
            --auth-root-authentication-method=socket >"$dir/log/mariadb-install-db.log" 2>&1
    fi
    mariadbd --user=root --datadir="$dir/db" --socket="$dir/mariadb.sock" --port=16819 \
        --bind-address=127.0.0.1 --pid-file="$dir/mariadb.pid" --log-error="$dir/log/mariadb.log" \
        --innodb-buffer-pool-size=64M --innodb-lock-wait-timeout=900 >/dev/null 2>&1 &
    for i in $(seq 60); do [ -S "$dir/mariadb.sock" ] && break; sleep 1; done
    mariadb -S "$dir/mariadb.sock" -u root -e "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'nemu';
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
    cat >"$dir/slurmdbd.conf" <<CONF
AuthType=auth/none
DbdHost=localhost
DbdPort=16820
SlurmUser=root
PidFile=$dir/slurmdbd.pid
LogFile=$dir/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=16819
StorageUser=slurm
StoragePass=nemu
StorageLoc=slurm_acct_db
CONF
    chmod 600 "$dir/slurmdbd.conf"
    SLURM_CONF="$conf" slurmdbd   # reads slurmdbd.conf beside slurm.conf
    for i in $(seq 60); do
        SLURM_CONF="$conf" sacctmgr -n list cluster >/dev/null 2>&1 && break
        sleep 1
    done
    SLURM_CONF="$conf" sacctmgr -i add cluster nemu >/dev/null 2>&1 || true
}

case "$cmd" in
start)
    command -v slurmctld >/dev/null || { echo "slurm_local.sh: slurmctld missing: apt-get install slurm-wlm (make deps SLURM=1)" >&2; exit 1; }
    [ "$(id -u)" = 0 ] || { echo "slurm_local.sh: run as root (slurmd starts jobs as their users)" >&2; exit 1; }
    mkdir -p "$dir/state" "$dir/spool" "$dir/log"
    acct="AccountingStorageType=accounting_storage/none"
    if command -v slurmdbd >/dev/null && command -v mariadbd >/dev/null; then
        acct="AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=16820"
    fi
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
$acct
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.txt
MinJobAge=3600
KillWait=30
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
    export SLURM_CONF=$conf
    case "$acct" in *slurmdbd*) start_accounting;; esac
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
    for d in slurmd slurmctld slurmdbd mariadb; do
        [ -f "$dir/$d.pid" ] && kill "$(cat "$dir/$d.pid")" 2>/dev/null || true
    done
    ;;
*)
    echo "usage: bench/slurm_local.sh start|stop [DIR]" >&2; exit 2;;
esac
