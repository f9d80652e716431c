#!/usr/bin/env bash
# End-to-end check on a real standalone cluster (tools/spark-cluster.sh): a short Fashion-MNIST training on the
# cluster, with worker 1 killed mid-training, must end with the same weights, byte for byte, as the same training
# in local[2] (both cut each step into 2 shards); then a batch inference on the cluster must give the CSV that
# local[2] gives; last, the spark-submit jar is built and submitted to the cluster (tools/spark-submit-check.sh), its
# training and inference checked against ./nfnets. Takes a few minutes on 2 cores (NFNETS_SPARK_SUBMIT_CHECK=0 skips
# the jar). Usage: tools/spark-cluster-check.sh [STEPS=12] [KILL_AT_STEP=5]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
steps="${1:-12}"
kill_at="${2:-5}"
out="${NFNETS_SPARK_CHECK_DIR:-$root/target/spark-check}"
rm -rf "$out" && mkdir -p "$out/images"
"$root/nfnets" --help > /dev/null   # builds the launcher's class path on first use
trap '"$root/tools/spark-cluster.sh" stop' EXIT
export SPARK_LOCAL_IP=127.0.0.1   # the driver too: executors connect back to it on the loopback address
master="$("$root/tools/spark-cluster.sh" start 2 1)"
echo "cluster: $master"
args=(train --steps "$steps" --batch-size 32 --epochs 1 --no-progress --log-every 1 --checkpoint-every 0 --threads 1)
"$root/nfnets" "${args[@]}" --spark "$master" --run-dir "$out/cluster" > "$out/cluster.log" 2>&1 &
train_pid=$!
while ! grep -q "step $kill_at/" "$out/cluster.log" 2>/dev/null; do
  kill -0 "$train_pid" 2>/dev/null || break
  sleep 1
done
"$root/tools/spark-cluster.sh" kill-worker 1 && echo "killed worker 1 after step $kill_at"
wait "$train_pid" || { tail -30 "$out/cluster.log"; echo "FAIL: the cluster training failed" >&2; exit 1; }
"$root/nfnets" "${args[@]}" --spark 'local[2]' --run-dir "$out/local" > "$out/local.log" 2>&1
cmp "$out/cluster/weights.safetensors" "$out/local/weights.safetensors"
echo "OK: training with a worker killed equals local[2] byte for byte ($steps steps)"
# a folder of real image files: the run's curves and the documentation's figures
cp "$out"/local/*.png "$root"/docs/images/*.png "$out/images/"
"$root/nfnets" predict --spark "$master" --weights "$out/local" "$out/images" --output "$out/cluster.csv" > /dev/null
"$root/nfnets" predict --spark 'local[2]' --weights "$out/local" "$out/images" --output "$out/local.csv" > /dev/null
cmp "$out/cluster.csv" "$out/local.csv"
echo "OK: batch inference on the cluster equals local[2] ($(($(wc -l < "$out/local.csv") - 1)) images)"
if [ "${NFNETS_SPARK_SUBMIT_CHECK:-1}" != 0 ]; then
  # one worker is left: both runs of the check cut each step into 1 shard
  NFNETS_SPARK_SUBMIT_DIR="$out/submit" "$root/tools/spark-submit-check.sh" "$master" 4
fi
