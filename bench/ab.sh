#!/usr/bin/env bash
# Same-run A/B of two builds of nfnets-java (e.g. a commit before and after a change) over the standard cells of
# bench/compare.sh, on this machine:
#
#   A_CLASSPATH=<class path of build A> B_CLASSPATH=<class path of build B> ROUNDS=3 bench/ab.sh
#
# Each class path is a frozen copy of a build (its nfnets-examples/target/classes and the jars of its classpath.txt
# copied to a folder of their own, so that a later `mvn install` cannot swap them under a running benchmark; see
# bench/README.md). Each round runs every cell once with A and once with B, one process each, A first in odd rounds
# and B first in even ones, so both sides sample the machine's drifting speed alike. A cell's ratio is
# median(B images/s) / median(A images/s) over the rounds.
#
# Environment (defaults in brackets): A_CLASSPATH, B_CLASSPATH [required]; A_NAME [A], B_NAME [B];
#   CELLS [compare.sh's six]; ROUNDS [3]; STEPS [10]; WARMUP [3]; NFNETS_JAVA_OPTS, MALLOC_MMAP_THRESHOLD_ and
#   OMP_WAIT_POLICY as for ./nfnets; OUT [bench/results/ab-<UTC time>]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CELLS="${CELLS:-f0:forward:128:8 f0:forward:192:8 f0:train:128:8 f0:train:192:8 f0:forward:256:1 f1:train:128:8}"
ROUNDS="${ROUNDS:-3}"
STEPS="${STEPS:-10}"
WARMUP="${WARMUP:-3}"
A_NAME="${A_NAME:-A}"
B_NAME="${B_NAME:-B}"
OUT="${OUT:-$root/bench/results/ab-$(date -u +%Y%m%dT%H%M%SZ)}"
for side in A B; do
  var="${side}_CLASSPATH"
  if [ -z "${!var:-}" ]; then
    echo "ab.sh: set $var to the class path of build $side (see bench/README.md)" >&2
    exit 2
  fi
done
for cell in $CELLS; do
  IFS=: read -r m mode size batch <<<"$cell"
  if [ -z "$batch" ] || ! [[ "$mode" =~ ^(forward|train)$ ]] || ! [[ "$size$batch" =~ ^[0-9]+$ ]]; then
    echo "ab.sh: CELLS entry '$cell' is not model:forward|train:size:batch (e.g. f0:train:128:8)" >&2
    exit 2
  fi
done
mkdir -p "$OUT"
echo "results and logs: $OUT" >&2
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "A: $A_NAME"
  echo "B: $B_NAME"
  echo "cells: $CELLS"
  echo "rounds: $ROUNDS, warm-up $WARMUP, steps $STEPS"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
} > "$OUT/meta.txt"

# cores used by other processes during a run, as in compare.sh: (busy CPU time of the machine - own) / wall time
busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu /{print ($2+$3+$4+$7+$8+$9)/hz; exit}' /proc/stat 2>/dev/null || echo 0
}
# shellcheck disable=SC2206
java_opts=(${NFNETS_JAVA_OPTS:--Xmx6g -XX:+UseSerialGC -Xmn32m})
env_opts=(MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_-4194304}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY-passive}")
run() { # run SIDE CELL ROUND
  local side=$1 model mode size batch
  IFS=: read -r model mode size batch <<<"$2"
  local var="${side}_CLASSPATH" tag="${side}-${model}-${mode}-${size}-b${batch}-r$3" b0 t0 rc=0
  echo "== round $3/$ROUNDS  $side  $model $mode ${size}px batch $batch" >&2
  b0=$(busy_seconds); t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$OUT/$tag.time" env "${env_opts[@]}" java "${java_opts[@]}" -Djava.awt.headless=true \
      -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "${!var}" dev.nfnets.train.bench.BenchMain \
      --model "$model" --batch "$batch" --size "$size" --mode "$mode" --warmup "$WARMUP" --steps "$STEPS" --json \
      > "$OUT/$tag.json" 2> "$OUT/$tag.log" || rc=$?
  awk -v b0="$b0" -v b1="$(busy_seconds)" -v t0="$t0" -v t1="$(date +%s.%N)" '
    { o = (b1 - b0 - $1 - $2) / (t1 - t0); if (o < 0) o = 0; printf "%.3f\n", o }' "$OUT/$tag.time" > "$OUT/$tag.load" \
    2>/dev/null || true
  if [ "$rc" != 0 ]; then
    echo "ab.sh: $tag failed; see $OUT/$tag.log" >&2
    tail -3 "$OUT/$tag.log" >&2 || true
    rm -f "$OUT/$tag.json"
  fi
}
for round in $(seq 1 "$ROUNDS"); do
  for cell in $CELLS; do
    if [ $((round % 2)) = 1 ]; then run A "$cell" "$round"; run B "$cell" "$round"
    else run B "$cell" "$round"; run A "$cell" "$round"; fi
  done
done

python3 - "$OUT" "$ROUNDS" "$CELLS" <<'PY' | tee "$OUT/table.txt"
import json, os, statistics, sys
out, rounds, cells = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()

def load(tag):
    """(images/s, median ms per step, peak RSS MiB) of one run, from its JSON line."""
    try:
        with open(os.path.join(out, tag + ".json")) as f:
            lines = [l.strip() for l in f if l.strip().startswith("{")]
    except OSError:
        return None
    if not lines:
        return None
    r = json.loads(lines[-1])
    rss = r.get("peak_rss_bytes", -1)
    return r["images_per_sec"], r["median_ms"], rss / 2 ** 20 if rss >= 0 else float("nan")

def other(tag):
    try:
        with open(os.path.join(out, tag + ".load")) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None

with open(os.path.join(out, "meta.txt")) as f:
    print(f.read().rstrip())
print()
head = ("cell", "A img/s", "B img/s", "B/A", "rounds B/A (A/B ms)", "peak RSS A / B MiB", "other load")
rows = []
for cell in cells:
    model, mode, size, batch = cell.split(":")
    base = "%s-%s-%s-b%s" % (model, mode, size, batch)
    a, b, per, loads = [], [], [], []
    for r in range(1, rounds + 1):
        ra, rb = load("A-%s-r%d" % (base, r)), load("B-%s-r%d" % (base, r))
        if ra: a.append(ra)
        if rb: b.append(rb)
        per.append("%.3f (%.0f/%.0f)" % (rb[0] / ra[0], ra[1], rb[1]) if ra and rb else "n/a")
        loads += [x for s in "AB" for x in [other("%s-%s-r%d" % (s, base, r))] if x is not None]
    ma = statistics.median(x[0] for x in a) if a else None
    mb = statistics.median(x[0] for x in b) if b else None
    rows.append(("%s %s %spx b%s" % (model.upper(), mode, size, batch), "%.3f" % ma if ma else "n/a",
                 "%.3f" % mb if mb else "n/a", "%.3f" % (mb / ma) if ma and mb else "n/a", " ".join(per),
                 "%.0f / %.0f" % (max(x[2] for x in a), max(x[2] for x in b)) if a and b else "n/a",
                 "%.2f" % max(loads) if loads else "n/a"))
w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
print("B/A = median(B images/s) / median(A images/s) over %d round(s); peak RSS = the largest of the rounds;"
      " other load = cores used by other processes during the runs (above ~0.05 a row is disturbed)" % rounds)
print("  ".join(h.ljust(n) for h, n in zip(head, w)))
for r in rows:
    print("  ".join(str(x).ljust(n) for x, n in zip(r, w)))
PY
