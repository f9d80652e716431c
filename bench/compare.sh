#!/usr/bin/env bash
# Speed and memory of nfnets-java vs a minimal PyTorch NFNet (bench/torch_nfnet.py) on this machine.
#
#   ./nfnets --help          # builds the project once
#   bench/compare.sh         # F0, batch 8, 128 and 192 px, forward and train, 10 timed steps each
#
# Every measurement is a separate process, run one after another, so the peak resident memory of one does not
# leak into the next. Environment (defaults in brackets):
#   STEPS [10]  WARMUP [3]  BATCH [8]  MODEL [f0]  SIZES ["128 192"]  MODES ["forward train"]
#   ROUNDS [1]          repeat the whole set of cells; the table then gives each cell's per-round ratios, the
#                       median ratio and the largest peak RSS of each side (this machine's speed drifts by
#                       10-30% over minutes, so one round can land a cell in a slow spell)
#   TORCH_THREADS [2]   threads for PyTorch (torch.set_num_threads)
#   PYTHON              interpreter with torch [/usr/bin/python3 if it imports torch, else python3]
#   TORCH_LD_LIBRARY_PATH  LD_LIBRARY_PATH for the PyTorch runs only, e.g. a folder with OpenBLAS's libblas.so.3
#                       (Debian's torch uses the system libblas.so.3, the slow reference BLAS unless an optimised
#                       one is installed; convolutions go through oneDNN either way, dense layers through BLAS)
#   NFNETS_JAVA_OPTS    JVM options, as for ./nfnets [-Xmx6g -XX:+UseSerialGC -Xmn32m]
#   MALLOC_MMAP_THRESHOLD_  glibc's mmap threshold for our runs, as ./nfnets sets it [4194304]; empty = glibc's
#                       default (a dynamic threshold)
#   TORCH_MALLOC_MMAP_THRESHOLD  the same for the PyTorch runs [unset: glibc's default]
#   OMP_WAIT_POLICY     OpenMP's wait policy for our runs, as ./nfnets sets it [passive]; empty = the runtime's
#                       default (idle workers spin)
#   TORCH_OMP_WAIT_POLICY  the same for the PyTorch runs [unset: the runtime's default]
#   BENCH_CLASSPATH     Java classpath to use instead of the examples module's (e.g. a frozen copy, so that a
#                       concurrent `mvn install` cannot swap jars under a running benchmark)
#   SKIP_TORCH=1        only run our side
#   OUT                 folder for the JSON results and logs [bench/results/<UTC time>]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STEPS="${STEPS:-10}"
WARMUP="${WARMUP:-3}"
BATCH="${BATCH:-8}"
MODEL="${MODEL:-f0}"
SIZES="${SIZES:-128 192}"
MODES="${MODES:-forward train}"
TORCH_THREADS="${TORCH_THREADS:-2}"
ROUNDS="${ROUNDS:-1}"
OUT="${OUT:-$root/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}"

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
  echo "compare.sh: '$PYTHON' cannot import torch (Debian: apt-get install python3-torch); PyTorch columns will be n/a" >&2
  have_torch=0
fi

mkdir -p "$OUT"
echo "results and logs: $OUT" >&2

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
# shellcheck disable=SC2206
java_opts=(${NFNETS_JAVA_OPTS:--Xmx6g -XX:+UseSerialGC -Xmn32m})
ours_malloc="${MALLOC_MMAP_THRESHOLD_-4194304}"
unset MALLOC_MMAP_THRESHOLD_
ours_wait="${OMP_WAIT_POLICY-passive}"
unset OMP_WAIT_POLICY
ours_env=()
[ -n "$ours_malloc" ] && ours_env+=(MALLOC_MMAP_THRESHOLD_="$ours_malloc")
[ -n "$ours_wait" ] && ours_env+=(OMP_WAIT_POLICY="$ours_wait")
torch_env=()
[ -n "${TORCH_MALLOC_MMAP_THRESHOLD:-}" ] && torch_env+=(MALLOC_MMAP_THRESHOLD_="$TORCH_MALLOC_MMAP_THRESHOLD")
[ -n "${TORCH_OMP_WAIT_POLICY:-}" ] && torch_env+=(OMP_WAIT_POLICY="$TORCH_OMP_WAIT_POLICY")

for round in $(seq 1 "$ROUNDS"); do
for size in $SIZES; do
  for mode in $MODES; do
    tag="${MODEL}-${mode}-${size}"
    [ "$ROUNDS" -gt 1 ] && tag="$tag-r$round"
    echo "== ours  $tag (batch $BATCH, $WARMUP warm-up + $STEPS steps)" >&2
    if ! measured "ours-$tag" env "${ours_env[@]}" java "${java_opts[@]}" -Djava.awt.headless=true \
        -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$cp" dev.nfnets.train.bench.BenchMain \
        --model "$MODEL" --batch "$BATCH" --size "$size" --mode "$mode" --warmup "$WARMUP" --steps "$STEPS" --json; then
      echo "compare.sh: our benchmark failed for $tag; see $OUT/ours-$tag.log" >&2
      tail -5 "$OUT/ours-$tag.log" >&2 || true
      rm -f "$OUT/ours-$tag.json"
    fi
    if [ "$have_torch" = 1 ]; then
      echo "== torch $tag" >&2
      if ! measured "torch-$tag" env "${torch_env[@]}" ${TORCH_LD_LIBRARY_PATH:+LD_LIBRARY_PATH="$TORCH_LD_LIBRARY_PATH"} "$PYTHON" \
          "$root/bench/torch_nfnet.py" --model "$MODEL" --batch "$BATCH" --size "$size" --mode "$mode" \
          --warmup "$WARMUP" --steps "$STEPS" --threads "$TORCH_THREADS" --json; then
        echo "compare.sh: the PyTorch benchmark failed for $tag; see $OUT/torch-$tag.log" >&2
        tail -5 "$OUT/torch-$tag.log" >&2 || true
        rm -f "$OUT/torch-$tag.json"
      fi
    fi
  done
done
done

# The table (any python3 will do: json only).
python3 - "$OUT" "$MODEL" "$BATCH" "$SIZES" "$MODES" "$ROUNDS" <<'EOF' | tee "$OUT/table.txt"
import json, os, statistics, sys
out, model, batch, sizes, modes = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(), sys.argv[5].split()
rounds = int(sys.argv[6])

def load(kind, tag):
    p = os.path.join(out, "%s-%s.json" % (kind, tag))
    try:
        with open(p) as f:
            lines = [l for l in f.read().splitlines() if l.startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except OSError:
        return None

def load_of(kind, tag):
    try:
        with open(os.path.join(out, "%s-%s.load" % (kind, tag))) as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return None

def pick(tag):
    """(ours, torch) of a cell: with several rounds, the round with the median ratio (a pair measured together)."""
    if rounds == 1:
        return load("ours", tag), load("torch", tag)
    pairs = [(load("ours", "%s-r%d" % (tag, r)), load("torch", "%s-r%d" % (tag, r))) for r in range(1, rounds + 1)]
    pairs = [p for p in pairs if p[0] is not None and p[1] is not None]
    if not pairs:
        return None, None
    pairs.sort(key=lambda p: p[0]["images_per_sec"] / p[1]["images_per_sec"])
    return pairs[(len(pairs) - 1) // 2]

def mib(r):
    return "n/a" if r is None or r.get("peak_rss_bytes", -1) < 0 else "%.0f MiB" % (r["peak_rss_bytes"] / 2 ** 20)

def f(r, key, fmt):
    return "n/a" if r is None else fmt % r[key]

head = ("mode", "size", "ours img/s", "torch img/s", "ratio", "ours peak RSS", "torch peak RSS",
        "ours ms/step", "torch ms/step", "ours GFLOP/s", "torch GFLOP/s", "other load")
rows = []
for mode in modes:
    for size in sizes:
        tag = "%s-%s-%s" % (model, mode, size)
        o, t = pick(tag)
        ratio = "n/a" if o is None or t is None else "%.2f" % (o["images_per_sec"] / t["images_per_sec"])
        sfx = [""] if rounds == 1 else ["-r%d" % r for r in range(1, rounds + 1)]
        loads = [x for k in ("ours", "torch") for sf in sfx for x in [load_of(k, tag + sf)] if x is not None]
        rows.append((mode, size, f(o, "images_per_sec", "%.2f"), f(t, "images_per_sec", "%.2f"), ratio, mib(o), mib(t),
                     f(o, "median_ms", "%.0f"), f(t, "median_ms", "%.0f"), f(o, "gflops_per_sec", "%.1f"),
                     f(t, "gflops_per_sec", "%.1f"), "%.2f" % max(loads) if loads else "n/a"))
w = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
print("%s, batch %s; ratio = ours/torch images per second (higher is better for us); other load = cores used by"
      " other processes during the runs (max of the two; above ~0.05 the row is disturbed)%s" % (model.upper(), batch,
      "" if rounds == 1 else "; each row is the round with the median ratio"))
print("  ".join(h.rjust(n) for h, n in zip(head, w)))
for r in rows:
    print("  ".join(str(x).rjust(n) for x, n in zip(r, w)))
if rounds > 1:
    print()
    print("per round (%d rounds, each cell ours then PyTorch): ratio (ours ms / torch ms), peak RSS ours / torch" % rounds)
    for mode in modes:
        for size in sizes:
            base = "%s-%s-%s" % (model, mode, size)
            cells, ratios, ro, rt = [], [], [], []
            for r in range(1, rounds + 1):
                o, t = load("ours", "%s-r%d" % (base, r)), load("torch", "%s-r%d" % (base, r))
                if o is None or t is None:
                    cells.append("n/a")
                    continue
                ratios.append(o["images_per_sec"] / t["images_per_sec"])
                ro.append(o["peak_rss_bytes"] / 2 ** 20)
                rt.append(t["peak_rss_bytes"] / 2 ** 20)
                cells.append("%.2f (%.0f/%.0f) %.0f/%.0f MiB" % (ratios[-1], o["median_ms"], t["median_ms"], ro[-1], rt[-1]))
            summary = ("median ratio %.2f, min %.2f; peak RSS max ours %.0f / torch %.0f MiB"
                       % (statistics.median(ratios), min(ratios), max(ro), max(rt))) if ratios else "n/a"
            print("%7s %4s  %s  | %s" % (mode, size, "  ".join(cells), summary))
phase_rows = []
for mode in modes:
    for size in sizes:
        tag = "%s-%s-%s" % (model, mode, size)
        o, t = pick(tag)
        for name in ("forward", "loss_backward", "agc_sgd_zero_grad"):
            po = (o or {}).get("phases_ms", {}).get(name)
            pt = (t or {}).get("phases_ms", {}).get(name)
            if po is None and pt is None:
                continue
            phase_rows.append((mode, size, name, "n/a" if po is None else "%.0f" % po, "n/a" if pt is None else "%.0f" % pt,
                               "n/a" if po is None or pt is None else "%.2f" % (pt / po)))
if phase_rows:
    ph = ("mode", "size", "phase (median ms)", "ours", "torch", "torch/ours")
    w = [max(len(str(x)) for x in col) for col in zip(ph, *phase_rows)]
    print()
    print("  ".join(h.rjust(n) for h, n in zip(ph, w)))
    for r in phase_rows:
        print("  ".join(str(x).rjust(n) for x, n in zip(r, w)))
o = next((pick("%s-%s-%s" % (model, m, s))[0] for m in modes for s in sizes), None)
t = next((pick("%s-%s-%s" % (model, m, s))[1] for m in modes for s in sizes), None)
if o:
    e = o["env"]
    print("ours: %d processors, ND4J threads %d, oneDNN %s, Java %s" % (e["available_processors"], e["nd4j_max_threads"],
                                                                      e["onednn"], e["java_version"]))
if t:
    e = t["env"]
    print("torch: %s, %d threads, mkldnn %s, BLAS %s" % (e["torch_version"], e["num_threads"], e["mkldnn"],
                                                       ", ".join(e.get("blas", [])) or "?"))
EOF
