#!/usr/bin/env bash
# A standalone Spark cluster on 127.0.0.1 from the project's own class path (no Spark download): one master and
# two workers, as `start-master.sh` / `start-worker.sh` would start them.
#   tools/spark-cluster.sh start [WORKERS=2] [CORES_PER_WORKER=1]   prints the master URL, spark://127.0.0.1:7077
#   tools/spark-cluster.sh stop                                     stops the master and the workers
#   tools/spark-cluster.sh kill-worker N                            kills worker N (1-based) at once, as a crash would
# Then: ./nfnets train --spark spark://127.0.0.1:7077 ...   (docs/spark.md)
# Spark's launcher builds each executor's class path from $SPARK_HOME/jars: the script makes a SPARK_HOME whose
# jars/ links the jars of nfnets-examples' runtime class path (build it first: ./nfnets --help). Logs and pids in
# $NFNETS_SPARK_DIR (default target/spark-cluster).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${NFNETS_SPARK_DIR:-$root/target/spark-cluster}"
port="${NFNETS_SPARK_PORT:-7077}"
cpfile="$root/nfnets-examples/target/classpath.txt"
opens="$(cat "$root/tools/spark-java-options")"   # Spark's JavaModuleOptions for Java 17

start() {
  local workers="${1:-2}" cores="${2:-1}"
  [ -f "$cpfile" ] || { echo "no $cpfile: build first (./nfnets --help)" >&2; exit 1; }
  mkdir -p "$dir/home/jars" "$dir/logs"
  rm -f "$dir/home/jars/"*.jar
  tr ':' '\n' < "$cpfile" | grep '\.jar$' | while read -r jar; do ln -sf "$jar" "$dir/home/jars/"; done
  export SPARK_HOME="$dir/home" SPARK_SCALA_VERSION=2.12 SPARK_LOCAL_IP=127.0.0.1
  # INFO logs: the script waits for the master's and workers' start-up lines
  cat > "$dir/logback.xml" <<'XML'
<configuration>
  <appender name="OUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%d{HH:mm:ss} %-5level %logger{0} - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.sparkproject" level="WARN"/>
  <logger name="org.apache.hadoop" level="WARN"/>
  <root level="INFO"><appender-ref ref="OUT"/></root>
</configuration>
XML
  local cp="$dir/home/jars/*" logs="-Dlogback.configurationFile=$dir/logback.xml"
  # shellcheck disable=SC2086
  nohup java -Xmx512m $opens $logs -cp "$cp" org.apache.spark.deploy.master.Master --host 127.0.0.1 --port "$port" \
    --webui-port 0 > "$dir/logs/master.log" 2>&1 &
  echo $! > "$dir/master.pid"
  for _ in $(seq 1 60); do
    grep -q "I have been elected leader" "$dir/logs/master.log" 2>/dev/null && break
    sleep 1
  done
  grep -q "I have been elected leader" "$dir/logs/master.log" || { echo "master did not start; see $dir/logs/master.log" >&2; exit 1; }
  for i in $(seq 1 "$workers"); do
    mkdir -p "$dir/work$i"
    # shellcheck disable=SC2086
    nohup java -Xmx512m $opens $logs -cp "$cp" org.apache.spark.deploy.worker.Worker --host 127.0.0.1 --cores "$cores" \
      --memory 3g --work-dir "$dir/work$i" --webui-port 0 "spark://127.0.0.1:$port" > "$dir/logs/worker$i.log" 2>&1 &
    echo $! > "$dir/worker$i.pid"
  done
  for i in $(seq 1 "$workers"); do
    for _ in $(seq 1 60); do
      grep -q "Successfully registered with master" "$dir/logs/worker$i.log" 2>/dev/null && break
      sleep 1
    done
    grep -q "Successfully registered with master" "$dir/logs/worker$i.log" || { echo "worker $i did not register; see $dir/logs/worker$i.log" >&2; exit 1; }
  done
  echo "spark://127.0.0.1:$port"
}

stop_pid() {
  local f="$1"
  if [ -f "$f" ]; then
    kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  fi
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop)
    for f in "$dir"/worker*.pid; do [ -e "$f" ] && stop_pid "$f"; done
    stop_pid "$dir/master.pid" ;;
  kill-worker)
    f="$dir/worker${2:?worker number}.pid"
    [ -f "$f" ] || { echo "no worker $2" >&2; exit 1; }
    # the worker and the executor it launched, as if the machine went away
    pid="$(cat "$f")"
    pkill -9 -P "$pid" 2>/dev/null || true
    kill -9 "$pid"
    rm -f "$f" ;;
  *) echo "usage: $0 start [WORKERS] [CORES] | stop | kill-worker N" >&2; exit 2 ;;
esac
