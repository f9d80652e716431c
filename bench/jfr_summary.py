#!/usr/bin/env python3
"""Where does the time of an nfnets-java run go? Aggregates JFR samples by the first dev.nfnets frame.

Record a profile of a benchmark, then summarise it:

    java -XX:StartFlightRecording=filename=/tmp/bench.jfr,settings=profile -cp ... \
        dev.nfnets.train.bench.BenchMain --model f0 --size 192 --mode train --steps 10
    python3 bench/jfr_summary.py /tmp/bench.jfr [--thread main] [--top 25]

jdk.NativeMethodSample events are Java threads inside native code (the ND4J ops: the calling thread waits there
while OpenMP workers compute), jdk.ExecutionSample events are Java threads running Java code. Each sample is
attributed to the innermost (closest to the leaf) frame in a dev.nfnets class, e.g. Conv2d.exec or
Activation$1.apply; "leaf" is the innermost frame overall (for native samples, the JNI method: which ND4J entry
point). Needs the JDK's `jfr` tool on the PATH (or JFR=/path/to/jfr); no other dependency.
"""
import argparse
import collections
import json
import os
import subprocess
import sys


def frame_name(fr):
    m = fr.get("method", {})
    t = m.get("type", {})
    cls = (t.get("name") or "?").replace("/", ".")
    return "%s.%s" % (cls, m.get("name", "?"))


def short(name):
    parts = name.split(".")
    # drop the package: keep Class.method (with a nested class, Outer$Inner.method)
    return ".".join(parts[-2:]) if len(parts) >= 2 else name


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("jfr_file")
    ap.add_argument("--thread", default="main", help="only samples of this Java thread ('' = all; default main)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--since", default="",
                    help="only samples at or after this UTC time of day, HH:MM:SS (e.g. the end of the warm-up in the log)")
    a = ap.parse_args(argv)
    jfr = os.environ.get("JFR", "jfr")
    raw = subprocess.run([jfr, "print", "--json", "--stack-depth", "64", "--events", "jdk.ExecutionSample,jdk.NativeMethodSample", a.jfr_file],
                         check=True, capture_output=True, text=True).stdout
    events = json.loads(raw)["recording"]["events"]
    by_first = collections.Counter()
    by_pair = collections.Counter()
    by_kind = collections.Counter()
    skipped = 0
    for e in events:
        v = e["values"]
        thread = (v.get("sampledThread") or {}).get("javaName") or ""
        if a.thread and thread != a.thread:
            skipped += 1
            continue
        if a.since and v.get("startTime", "")[11:19] < a.since:
            skipped += 1
            continue
        kind = "native" if e["type"].endswith("NativeMethodSample") else "java"
        frames = (v.get("stackTrace") or {}).get("frames") or []
        names = [frame_name(f) for f in frames]
        first = next((n for n in names if n.startswith("dev.nfnets.")), "(no dev.nfnets frame)")
        leaf = names[0] if names else "?"
        by_kind[kind] += 1
        by_first[(kind, short(first))] += 1
        by_pair[(kind, short(first), short(leaf))] += 1
    total = sum(by_kind.values())
    if total == 0:
        print("no samples%s" % (" of thread '%s'" % a.thread if a.thread else ""))
        return 1
    print("%d samples (%s)%s; %d samples of other threads or before --since skipped" % (
        total, ", ".join("%s %d" % kv for kv in sorted(by_kind.items())),
        " of thread '%s'" % a.thread if a.thread else "", skipped))
    print("\nby first dev.nfnets frame:")
    print("%7s %6s  %-6s  %s" % ("samples", "share", "kind", "frame"))
    for (kind, first), n in by_first.most_common(a.top):
        print("%7d %5.1f%%  %-6s  %s" % (n, 100.0 * n / total, kind, first))
    print("\nby first dev.nfnets frame and leaf frame:")
    for (kind, first, leaf), n in by_pair.most_common(a.top):
        print("%7d %5.1f%%  %-6s  %s -> %s" % (n, 100.0 * n / total, kind, first, leaf))
    return 0


if __name__ == "__main__":
    sys.exit(main())
