#!/usr/bin/env bash
# The self-contained jar for spark-submit, built and run as spark-submit runs it.
#
# Builds nfnets-spark with profile spark-submit: target/nfnets-spark-VERSION-spark-submit.jar holds nfnets, ND4J and
# its natives for this platform, with the nfnets CLI as main class; Spark, Scala, Jackson and the logging backend are
# left out (the cluster has them). There is no spark-submit binary here, so the script runs what spark-submit runs:
#   java <Spark's module opens> -cp <Spark's jars> org.apache.spark.deploy.SparkSubmit --master M --class C JAR ARGS
# where Spark's jars are nfnets-spark's `provided` dependencies (Spark 3.5 from Maven Central) plus an SLF4J binding,
# what a Spark distribution's jars/ folder holds. It trains a few steps of nfnet-mnist through the jar and checks the
# weights against the same training through ./nfnets (byte for byte), then classifies a folder through the jar.
# With a master URL argument (spark://127.0.0.1:7077, tools/spark-cluster.sh) the jar's run goes to that cluster.
# Usage: tools/spark-submit-check.sh [MASTER=local[2]] [STEPS=4]     (the jar build takes about a minute)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
master="${1:-local[2]}"
steps="${2:-4}"
out="${NFNETS_SPARK_SUBMIT_DIR:-$root/target/spark-submit-check}"
rm -rf "$out" && mkdir -p "$out/images"
"$root/nfnets" --help > /dev/null   # builds the project and the launcher's class path on first use
mvnq() { (cd "$root" && mvn -B -q --no-transfer-progress -Dstyle.color=never "$@") 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' >&2; }
mvnq -Pspark-submit -pl nfnets-spark package -DskipTests
mvnq -pl nfnets-spark dependency:build-classpath -Dmdep.includeScope=provided -Dmdep.outputFile=target/spark-classpath.txt
jar="$(ls "$root"/nfnets-spark/target/nfnets-spark-*-spark-submit.jar)"
# Spark's jars, and SLF4J with a backend as a Spark distribution ships them (here Logback from the launcher's class path)
spark_cp="$(cat "$root/nfnets-spark/target/spark-classpath.txt"):$(tr ':' '\n' < "$root/nfnets-examples/target/classpath.txt" \
  | grep -E '/(slf4j-api|logback-classic|logback-core|log4j-to-slf4j)-[0-9][^/]*\.jar$' | paste -sd:)"
# org.apache.spark.launcher.JavaModuleOptions: what bin/spark-submit passes to the driver's JVM on Java 17
opens="$(cat "$root/tools/spark-java-options")"   # Spark's JavaModuleOptions for Java 17
export SPARK_LOCAL_IP=127.0.0.1
# one native thread in both runs, fixed before the JVM starts: a process started by SparkSubmit does not restart itself
# with OMP_NUM_THREADS as ./nfnets does for --threads, and oneDNN's thread count decides the float rounding
export OMP_NUM_THREADS=1
submit() {
  # shellcheck disable=SC2086
  java -Xmx3g $opens -Djava.awt.headless=true -cp "$spark_cp" org.apache.spark.deploy.SparkSubmit \
    --master "$master" --conf spark.ui.enabled=false --class dev.nfnets.train.cli.NFNetsCli "$jar" "$@"
}
echo "jar: $jar ($(du -m "$jar" | cut -f1) MB)"
args=(train --steps "$steps" --batch-size 32 --epochs 1 --no-progress --log-every 1 --checkpoint-every 0 --threads 1)
submit "${args[@]}" --spark "$master" --run-dir "$out/submitted" > "$out/submitted.log" 2>&1 \
  || { tail -30 "$out/submitted.log"; echo "FAIL: training through spark-submit failed" >&2; exit 1; }
"$root/nfnets" "${args[@]}" --spark "$master" --run-dir "$out/launcher" > "$out/launcher.log" 2>&1 \
  || { tail -30 "$out/launcher.log"; echo "FAIL: training through ./nfnets failed" >&2; exit 1; }
cmp "$out/submitted/weights.safetensors" "$out/launcher/weights.safetensors"
echo "OK: training through the spark-submit jar ($master) equals ./nfnets byte for byte ($steps steps)"
cp "$out"/launcher/*.png "$root"/docs/images/*.png "$out/images/"
submit predict --spark "$master" --weights "$out/submitted" "$out/images" --output "$out/submitted.csv" > "$out/predict.log" 2>&1 \
  || { tail -30 "$out/predict.log"; echo "FAIL: batch inference through spark-submit failed" >&2; exit 1; }
"$root/nfnets" predict --spark "$master" --weights "$out/launcher" "$out/images" --output "$out/launcher.csv" > /dev/null
cmp "$out/submitted.csv" "$out/launcher.csv"
echo "OK: batch inference through the spark-submit jar equals ./nfnets ($(($(wc -l < "$out/launcher.csv") - 1)) images)"
