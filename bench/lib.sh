# Shared by bench/compare.sh and bench/ab.sh (sourced, not run): the standard cells, their check, one timed
# process per run with the load of other processes recorded, and how our benchmark's JVM is started.
# The sourcing script sets OUT (the results folder) before calling measured/failed.

STANDARD_CELLS="f0:forward:128:8 f0:forward:192:8 f0:train:128:8 f0:train:192:8 f0:forward:256:1 f1:train:128:8"

check_cells() { # check_cells SCRIPT CELLS: exits 2 naming the first entry that is not model:forward|train:size:batch
  local script=$1 cell m mode size batch
  for cell in $2; do
    IFS=: read -r m mode size batch <<<"$cell"
    if [ -z "$batch" ] || ! [[ "$mode" =~ ^(forward|train)$ ]] || ! [[ "$size$batch" =~ ^[0-9]+$ ]]; then
      echo "$script: CELLS entry '$cell' is not model:forward|train:size:batch (e.g. f0:train:128:8)" >&2
      exit 2
    fi
  done
}

# Other processes compete for the same cores (both ND4J and PyTorch slow down several-fold when a core is taken),
# so each run records how many cores everything else used meanwhile: (busy CPU time of the machine - own CPU time)
# / wall time, from /proc/stat and /usr/bin/time. Anything above ~0.05 means the row is not trustworthy.
busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu /{print ($2+$3+$4+$7+$8+$9)/hz; exit}' /proc/stat 2>/dev/null || echo 0
}
measured() { # measured NAME cmd... ; stdout -> $OUT/NAME.json, stderr -> $OUT/NAME.log, other load -> $OUT/NAME.load
  local name=$1; shift
  local b0 t0 rc=0
  b0=$(busy_seconds); t0=$(date +%s.%N)
  if [ -x /usr/bin/time ] && [ -r /proc/stat ]; then
    /usr/bin/time -f "%U %S" -o "$OUT/$name.time" "$@" > "$OUT/$name.json" 2> "$OUT/$name.log" || rc=$?
    awk -v b0="$b0" -v b1="$(busy_seconds)" -v t0="$t0" -v t1="$(date +%s.%N)" '
      { own = $1 + $2; o = (b1 - b0 - own) / (t1 - t0); if (o < 0) o = 0; printf "%.3f\n", o }' "$OUT/$name.time" > "$OUT/$name.load" \
      2>/dev/null || true
  else
    "$@" > "$OUT/$name.json" 2> "$OUT/$name.log" || rc=$?
  fi
  return $rc
}
failed() { # failed SCRIPT NAME WHAT
  echo "$1: $3 failed; see $OUT/$2.log" >&2
  tail -5 "$OUT/$2.log" >&2 || true
  rm -f "$OUT/$2.json"
}

# Our side runs as ./nfnets runs it: its JVM options (NFNETS_JAVA_OPTS replaces them), glibc's mmap threshold and
# OpenMP's passive waiting (MALLOC_MMAP_THRESHOLD_ / OMP_WAIT_POLICY set to empty keep the runtime's defaults).
# These are unset afterwards, so that the PyTorch runs start from the runtime's defaults.
# shellcheck disable=SC2206
ours_java=(java ${NFNETS_JAVA_OPTS:--Xmx6g -XX:+UseSerialGC -Xmn32m} -Djava.awt.headless=true
  -Dorg.bytedeco.javacpp.maxPhysicalBytes=0)
ours_env=()
ours_malloc="${MALLOC_MMAP_THRESHOLD_-4194304}"
ours_wait="${OMP_WAIT_POLICY-passive}"
unset MALLOC_MMAP_THRESHOLD_ OMP_WAIT_POLICY
[ -n "$ours_malloc" ] && ours_env+=(MALLOC_MMAP_THRESHOLD_="$ours_malloc")
[ -n "$ours_wait" ] && ours_env+=(OMP_WAIT_POLICY="$ours_wait")

ours_bench() { # ours_bench NAME CLASSPATH MODEL MODE SIZE BATCH: our benchmark of one cell, through measured
  measured "$1" env "${ours_env[@]}" "${ours_java[@]}" -cp "$2" dev.nfnets.train.bench.BenchMain \
    --model "$3" --batch "$6" --size "$5" --mode "$4" --warmup "$WARMUP" --steps "$STEPS" --json
}
