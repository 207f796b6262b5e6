#!/bin/bash
# Profiles one stream thread of a running benchmark with perf, native frames included (docs/benchmarks.md, session 4).
# Start the benchmark with -Dbench.jvm=-XX:+PreserveFramePointer, then:
#   benchmarks/tools/perf-stream-thread.sh bench-metering-r2 /tmp/metering.perf
#   perf report -i /tmp/metering.perf --children --sort sym --stdio -g none
# Waits for the thread "keymeter-<app>-StreamThread-1", records it for 12 s, then writes the JIT symbol map.
set -euo pipefail
APP=$1
OUT=$2
PID=""
TID=""
for _ in $(seq 1 600); do
  PID=$(pgrep -f "java .*surefirebooter" | head -1 || true)
  if [ -n "$PID" ]; then
    NID=$(jcmd "$PID" Thread.print 2>/dev/null | grep "\"keymeter-$APP-StreamThread-1\"" \
      | sed -E 's/.*nid=(0x[0-9a-f]+|[0-9]+).*/\1/' || true)
    if [ -n "$NID" ]; then TID=$((NID)); break; fi
  fi
  sleep 1
done
[ -n "$TID" ] || { echo "no stream thread keymeter-$APP-StreamThread-1 found" >&2; exit 1; }
sleep 3 # past the thread's start-up, into steady processing
perf record -g -t "$TID" -o "$OUT" -- sleep 12
jcmd "$PID" Compiler.perfmap >/dev/null # /tmp/perf-<pid>.map, read by perf report for JIT frames
echo "profiled thread $TID of JVM $PID into $OUT"
