#!/usr/bin/env bash
# bench/mpi_allreduce.sh [WORKDIR] - the gradient sum's cost in data-parallel ./train (make
# MPI=1): AE80 at global batch 128 and the 240x256 RGB autoencoder (4 stages, latent 256) at
# batch 16, each trained for one short epoch as one process (1 thread) and as mpirun -np 2
# (1 thread per rank), with NEMU_MPI_TIMING=1 so that the time ranks wait for each other
# (a barrier) is apart from the MPI_Allreduce itself. Prints the runs' epoch lines and the
# "gradient allreduce" lines (bytes, ms per step, share of the step); then
# bench/allreduce_model.py's scaling model with the one-process step times measured here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-/tmp/nemu-mpi-bench}
bin=${NEMU_BIN:-$root/build/release-mpi/bin}
"$bin/train" --help | grep -q "Built with MPI" || { echo "build with make MPI=1 first ($bin/train)" >&2; exit 1; }
mkdir -p "$work" && cd "$work"
[ -f d.h5 ] || "$bin/gen" tetris --episodes 12 --steps 200 --seed 11 --out d.h5 >/dev/null
[ -f d_rgb.h5 ] || "$bin/gen" tetris --episodes 12 --steps 40 --seed 11 --out d_rgb.h5 >/dev/null
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export NEMU_MPI_TIMING=1
common=(--set data.generate=none --set data.test_episodes=2 --set run.threads=1
        --set train.stage=autoencoder --set train.epochs=1 --force)
ae80=(--set data.path=d.h5 --set train.batch_size=128)
rgb=(--set data.path=d_rgb.h5 --set data.height=240 --set data.width=256 --set data.channels=3 --set model.stages=4
     --set model.latent_dim=256 --set train.batch_size=16)
for model in ae80 rgb; do
    declare -n extra=$model
    for np_ in 1 2; do
        name=${model}_np$np_
        if [ "$np_" = 1 ]; then cmd=("$bin/train"); else cmd=(mpirun -np "$np_" --oversubscribe "$bin/train"); fi
        "${cmd[@]}" "$root/configs/tetris_ae.ini" "${common[@]}" "${extra[@]}" --set run.name=$name >$name.log 2>&1
        echo "== $model, $np_ process(es): $(grep -E '^autoencoder epoch|^gradient allreduce' $name.log | tr '\n' ' ')"
    done
done
