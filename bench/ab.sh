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
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
CELLS="${CELLS:-$STANDARD_CELLS}"
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
check_cells ab.sh "$CELLS"
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

run() { # run SIDE CELL ROUND: one timed process of build SIDE (other load recorded as in compare.sh)
  local side=$1 model mode size batch
  IFS=: read -r model mode size batch <<<"$2"
  local var="${side}_CLASSPATH" tag="${side}-${model}-${mode}-${size}-b${batch}-r$3"
  echo "== round $3/$ROUNDS  $side  $model $mode ${size}px batch $batch" >&2
  ours_bench "$tag" "${!var}" "$model" "$mode" "$size" "$batch" || failed ab.sh "$tag" "build $side"
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
