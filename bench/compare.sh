#!/usr/bin/env bash
# Speed and memory of nfnets-java vs stock timm (`dm_nfnet_f0`, the NFNet PyTorch users run) on this machine.
#
#   ./nfnets --help                                   # builds the project once
#   TIMM_SRC=<timm checkout> ROUNDS=3 bench/compare.sh
#
# timm's source is the public huggingface/pytorch-image-models repository, unpacked into a folder outside this
# repository (never vendored) and passed as TIMM_SRC; PyTorch is Debian's python3-torch. The PyTorch side is run with
# ../shared/bench/timm_bench.py (TIMM_BENCH), which prints one `RESULT {json}` line per run.
#
# The standard cells (CELLS, "model:mode:size:batch" each):
#   f0:forward:128:8  f0:forward:192:8  f0:train:128:8  f0:train:192:8  f0:forward:256:1  f1:train:128:8
# Each round runs every cell as a pair, ours then timm's, one process each (so one's peak resident memory does not
# leak into the next); with several rounds the two sides alternate over minutes of this machine's drifting speed.
# A cell's ratio is the ratio of the medians over rounds: median(ours images/s) / median(timm images/s).
#
# Environment (defaults in brackets):
#   TIMM_SRC            folder with timm's source (the one holding the `timm` package) [required unless SKIP_TORCH=1]
#   TIMM_BENCH          the timm runner [$root/../shared/bench/timm_bench.py]
#   CELLS               the cells to run [the six above]
#   ROUNDS [3]  STEPS [10]  WARMUP [3]
#   TORCH_THREADS [2]   threads for PyTorch (torch.set_num_threads)
#   OWN_TORCH=1         also run bench/torch_nfnet.py, this project's own minimal PyTorch NFNet, as an extra column
#   PYTHON              interpreter with torch [/usr/bin/python3 if it imports torch, else python3]
#   TORCH_LD_LIBRARY_PATH  LD_LIBRARY_PATH for the PyTorch runs only
#   NFNETS_JAVA_OPTS    JVM options, as for ./nfnets [-Xmx6g -XX:+UseSerialGC -Xmn32m]
#   MALLOC_MMAP_THRESHOLD_  glibc's mmap threshold for our runs, as ./nfnets sets it [4194304]; empty = glibc's default
#   TORCH_MALLOC_MMAP_THRESHOLD  the same for the PyTorch runs [unset: glibc's default]
#   OMP_WAIT_POLICY     OpenMP's wait policy for our runs, as ./nfnets sets it [passive]; empty = the runtime's default
#   TORCH_OMP_WAIT_POLICY  the same for the PyTorch runs [unset: the runtime's default]
#   BENCH_CLASSPATH     Java class path to use instead of the examples module's (e.g. a frozen copy, so that a
#                       concurrent `mvn install` cannot swap jars under a running benchmark)
#   SKIP_TORCH=1        only run our side
#   OUT                 folder for the JSON results and logs [bench/results/<UTC time>]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
CELLS="${CELLS:-$STANDARD_CELLS}"
ROUNDS="${ROUNDS:-3}"
STEPS="${STEPS:-10}"
WARMUP="${WARMUP:-3}"
TORCH_THREADS="${TORCH_THREADS:-2}"
TIMM_BENCH="${TIMM_BENCH:-$root/../shared/bench/timm_bench.py}"
OUT="${OUT:-$root/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}"

check_cells compare.sh "$CELLS"

cpfile="$root/nfnets-examples/target/classpath.txt"
if [ -n "${BENCH_CLASSPATH:-}" ]; then
  cp="$BENCH_CLASSPATH"
elif [ ! -f "$cpfile" ] || [ ! -d "$root/nfnets-examples/target/classes" ]; then
  echo "compare.sh: the project is not built; run ./nfnets --help from the repo root first" >&2
  exit 2
else
  cp="$root/nfnets-examples/target/classes:$(cat "$cpfile")"
fi

if [ -z "${PYTHON:-}" ]; then
  if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then
    PYTHON=/usr/bin/python3
  else
    PYTHON=python3
  fi
fi
have_torch=1
if [ "${SKIP_TORCH:-0}" = 1 ]; then
  have_torch=0
elif ! "$PYTHON" -c 'import torch' >/dev/null 2>&1; then
  echo "compare.sh: '$PYTHON' cannot import torch (Debian: apt-get install python3-torch libopenblas0-pthread)" >&2
  exit 2
elif [ -z "${TIMM_SRC:-}" ] || [ ! -d "$TIMM_SRC/timm" ]; then
  echo "compare.sh: set TIMM_SRC to a folder holding timm's source (its 'timm' package); see bench/README.md" >&2
  exit 2
elif [ ! -f "$TIMM_BENCH" ]; then
  echo "compare.sh: the timm runner '$TIMM_BENCH' is missing; set TIMM_BENCH to timm_bench.py" >&2
  exit 2
fi

mkdir -p "$OUT"
echo "results and logs: $OUT" >&2
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$root" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "cells: $CELLS"
  echo "rounds: $ROUNDS, warm-up $WARMUP, steps $STEPS, torch threads $TORCH_THREADS"
  [ "$have_torch" = 1 ] && echo "timm: $(git -C "$TIMM_SRC" rev-parse --short HEAD 2>/dev/null || echo "source at $TIMM_SRC")"
} > "$OUT/meta.txt"

torch_env=(TIMM_SRC="${TIMM_SRC:-}" PYTHONUNBUFFERED=1)
[ -n "${TORCH_MALLOC_MMAP_THRESHOLD:-}" ] && torch_env+=(MALLOC_MMAP_THRESHOLD_="$TORCH_MALLOC_MMAP_THRESHOLD")
[ -n "${TORCH_OMP_WAIT_POLICY:-}" ] && torch_env+=(OMP_WAIT_POLICY="$TORCH_OMP_WAIT_POLICY")
[ -n "${TORCH_LD_LIBRARY_PATH:-}" ] && torch_env+=(LD_LIBRARY_PATH="$TORCH_LD_LIBRARY_PATH")

for round in $(seq 1 "$ROUNDS"); do
  for cell in $CELLS; do
    IFS=: read -r model mode size batch <<<"$cell"
    tag="${model}-${mode}-${size}-b${batch}-r${round}"
    echo "== round $round/$ROUNDS  ours  $model $mode ${size}px batch $batch" >&2
    ours_bench "ours-$tag" "$cp" "$model" "$mode" "$size" "$batch" || failed compare.sh "ours-$tag" "our benchmark ($tag)"
    [ "$have_torch" = 1 ] || continue
    tmode=$([ "$mode" = forward ] && echo fwd || echo train)
    echo "== round $round/$ROUNDS  timm  dm_nfnet_$model $tmode ${size}px batch $batch" >&2
    measured "timm-$tag" env "${torch_env[@]}" "$PYTHON" "$TIMM_BENCH" --model "dm_nfnet_$model" --mode "$tmode" \
        --size "$size" --batch "$batch" --warmup "$WARMUP" --steps "$STEPS" --threads "$TORCH_THREADS" \
      || failed compare.sh "timm-$tag" "the timm benchmark ($tag)"
    if [ "${OWN_TORCH:-0}" = 1 ]; then
      echo "== round $round/$ROUNDS  own torch_nfnet.py  $model $mode ${size}px batch $batch" >&2
      measured "own-$tag" env "${torch_env[@]}" "$PYTHON" "$root/bench/torch_nfnet.py" --model "$model" --batch "$batch" \
          --size "$size" --mode "$mode" --warmup "$WARMUP" --steps "$STEPS" --threads "$TORCH_THREADS" --json \
        || failed compare.sh "own-$tag" "bench/torch_nfnet.py ($tag)"
    fi
  done
done

# The table (any python3 will do: json only).
python3 - "$OUT" "$ROUNDS" "$CELLS" <<'EOF' | tee "$OUT/table.txt"
import json, os, statistics, sys
out, rounds, cells = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()

def load(kind, tag):
    """One run's result as (images/s, ms per step, peak RSS MiB), from our JSON line or timm's RESULT line."""
    try:
        with open(os.path.join(out, "%s-%s.json" % (kind, tag))) as f:
            text = f.read().splitlines()
    except OSError:
        return None
    for line in reversed(text):
        line = line.strip()
        if line.startswith("RESULT "):
            r = json.loads(line[len("RESULT "):])
            return r["images_per_s"], r["median_s"] * 1000.0, r["peak_rss_mib"]
        if line.startswith("{"):
            r = json.loads(line)
            rss = r.get("peak_rss_bytes", -1)
            return r["images_per_sec"], r["median_ms"], rss / 2 ** 20 if rss >= 0 else float("nan")
    return None

def load_of(kind, tag):
    try:
        with open(os.path.join(out, "%s-%s.load" % (kind, tag))) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None

with open(os.path.join(out, "meta.txt")) as f:
    print(f.read().rstrip())
print()
head = ("cell", "ours img/s", "timm img/s", "ratio", "rounds (ours/timm ms)", "peak RSS ours / timm MiB", "own torch img/s",
        "other load")
rows = []
for cell in cells:
    model, mode, size, batch = cell.split(":")
    base = "%s-%s-%s-b%s" % (model, mode, size, batch)
    ours, timm, own, per_round, loads = [], [], [], [], []
    for r in range(1, rounds + 1):
        tag = "%s-r%d" % (base, r)
        o, t, w = load("ours", tag), load("timm", tag), load("own", tag)
        if o: ours.append(o)
        if t: timm.append(t)
        if w: own.append(w)
        per_round.append("%.2f (%.0f/%.0f)" % (o[0] / t[0], o[1], t[1]) if o and t else "n/a")
        loads += [x for k in ("ours", "timm") for x in [load_of(k, tag)] if x is not None]
    mo = statistics.median(x[0] for x in ours) if ours else None
    mt = statistics.median(x[0] for x in timm) if timm else None
    rows.append(("%s %s %spx b%s" % (model.upper(), mode, size, batch),
                 "%.2f" % mo if mo else "n/a", "%.2f" % mt if mt else "n/a",
                 "%.2f" % (mo / mt) if mo and mt else "n/a", " ".join(per_round),
                 "%.0f / %.0f" % (max(x[2] for x in ours), max(x[2] for x in timm)) if ours and timm else "n/a",
                 "%.2f" % statistics.median(x[0] for x in own) if own else "-",
                 "%.2f" % max(loads) if loads else "n/a"))
w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
print("ratio = median(ours images/s) / median(timm images/s) over %d round(s); peak RSS = the largest of the rounds;"
      " other load = cores used by other processes during the runs (above ~0.05 a row is disturbed)" % rounds)
print("  ".join(h.ljust(n) for h, n in zip(head, w)))
for r in rows:
    print("  ".join(str(x).ljust(n) for x, n in zip(r, w)))
EOF
