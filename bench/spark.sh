#!/usr/bin/env bash
# Spark against one JVM (docs/BENCHMARKS.md, "Data-parallel training on Spark"). Run each part alone on a quiet
# machine; every run uses one native thread per JVM or worker (OMP_NUM_THREADS=1).
#   bench/spark.sh step OUT MODEL STEPS BATCH [DATA [IMAGE_SIZE]]   step time: single JVM, --spark local[1], local[2]
#   bench/spark.sh main OUT EPOCHS                                   the README's train command, single JVM and local[2]
#   bench/spark.sh predict OUT WEIGHTS DIR                           nfnets predict against predict --spark local[2]
#   bench/spark.sh soak OUT STEPS                                    nfnet-mnist, batch 16, local[2]; RSS every 10 s
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nf="$root/nfnets"
export OMP_NUM_THREADS=1 SPARK_LOCAL_IP=127.0.0.1
what="$1"; out="$2"; shift 2
mkdir -p "$out"

# median of the differences of metrics.csv's elapsed_s from step FIRST on (the first steps warm up)
median_step() {
  awk -F, -v first="$2" 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "step") s = i; if ($i == "elapsed_s") e = i } next }
    { if ($s >= first && prev != "") print ($e - prev) * 1000; prev = $e }' "$1" | sort -n \
    | awk '{ d[NR] = $1 } END { printf "%.0f", (NR % 2) ? d[(NR + 1) / 2] : (d[NR / 2] + d[NR / 2 + 1]) / 2 }'
}

case "$what" in
  step)
    model="$1"; steps="$2"; batch="$3"; data="${4:-fashion-mnist}"; size="${5:-}"
    common=(train --model "$model" --data "$data" --steps "$steps" --batch-size "$batch" --epochs 100 --no-progress
            --log-every 1 --checkpoint-every 0)
    [ -n "$size" ] && common+=(--image-size "$size")
    for mode in single local1 local2; do
      case "$mode" in single) extra=() ;; local1) extra=(--spark 'local[1]') ;; local2) extra=(--spark 'local[2]') ;; esac
      rm -rf "$out/$mode"
      /usr/bin/time -f "%e s wall, %M KB peak RSS" "$nf" "${common[@]}" "${extra[@]}" --run-dir "$out/$mode" > "$out/$mode.log" 2>&1
      echo "$mode: median step $(median_step "$out/$mode/metrics.csv" 4) ms (steps 4-$steps); $(tail -1 "$out/$mode.log");" \
        "$(grep -o '[0-9]* KB broadcast and [0-9]* KB of gradients returned per step' "$out/$mode.log" || true)"
    done ;;
  main)
    epochs="$1"
    for mode in single local2; do
      extra=(); [ "$mode" = local2 ] && extra=(--spark 'local[2]')
      rm -rf "$out/$mode"
      start=$(date +%s)
      "$nf" train --epochs "$epochs" --no-progress --run-dir "$out/$mode" "${extra[@]}" > "$out/$mode.log" 2>&1
      echo "$mode: $(( $(date +%s) - start )) s wall; $(grep 'test accuracy' "$out/$mode.log")"
    done ;;
  predict)
    weights="$1"; dir="$2"; n=$(find "$dir" -name '*.png' | wc -l)
    for mode in single local2; do
      start=$(date +%s.%N)
      if [ "$mode" = single ]; then
        # nfnets predict takes image files
        find "$dir" -name '*.png' -print0 | sort -z \
          | xargs -0 "$nf" predict --weights "$weights" > "$out/predict-$mode.txt" 2> "$out/predict-$mode.log"
      else
        "$nf" predict --spark 'local[2]' --weights "$weights" "$dir" --output "$out/predict-$mode.csv" > "$out/predict-$mode.log" 2>&1
      fi
      wall=$(echo "$(date +%s.%N) - $start" | bc)
      printf '%s: %d images in %.1f s (whole command, start-up included): %.1f images/s\n' "$mode" "$n" "$wall" "$(echo "$n / $wall" | bc -l)"
    done ;;
  soak)
    steps="$1"
    rm -rf "$out/soak"
    "$nf" train --spark 'local[2]' --steps "$steps" --batch-size 16 --epochs 1 --no-progress --log-every 50 \
      --checkpoint-every 0 --run-dir "$out/soak" > "$out/soak.log" 2>&1 &
    pid=$!
    start=$(date +%s)
    echo "seconds,step,rss_mib" > "$out/soak-rss.csv"
    while kill -0 "$pid" 2>/dev/null; do
      # the launcher execs java: $pid is the JVM (driver and, in local mode, the executors)
      rss=$(awk '/^VmRSS:/ {print int($2 / 1024)}' "/proc/$pid/status" 2>/dev/null || true)
      step=$(tail -1 "$out/soak/metrics.csv" 2>/dev/null | cut -d, -f1 || true)
      [ -n "$rss" ] && echo "$(( $(date +%s) - start )),${step:-0},$rss" >> "$out/soak-rss.csv"
      sleep 10
    done
    wait "$pid"
    cat "$out/soak-rss.csv" ;;
  *) echo "usage: see the head of $0" >&2; exit 2 ;;
esac
