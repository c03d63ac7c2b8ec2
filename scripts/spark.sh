#!/usr/bin/env bash
# A local Spark Connect server for the Spark tests and benchmarks: Spark 4.2.1 from PyPI's
# pyspark source archive (only its bin/ and jars/ are kept, in the cache outside the clone),
# on Java 17, local[2], every port bound to 127.0.0.1. Nothing is downloaded by Spark itself.
#   eval "$(bash scripts/spark.sh start)"   # starts it (or finds it running); sets SPARK_REMOTE
#   bash scripts/spark.sh stop              # stops it
#   bash scripts/spark.sh log               # its log
set -euo pipefail
version=4.2.1
cache="${SHOPLAB_CACHE:-$HOME/.cache/shoplab}/spark"
home="$cache/pyspark-$version/deps"
port="${SHOPLAB_SPARK_PORT:-15002}"
log="$cache/connect-$port.log"
pidfile="$cache/connect-$port.pid"
java_home=/usr/lib/jvm/java-17-openjdk-amd64

fetch() {
  [ -x "$home/bin/spark-submit" ] && return
  mkdir -p "$cache"
  echo "fetching pyspark $version (Spark's jars, ~430 MB, once)" >&2
  python3 -m pip download --quiet --no-deps "pyspark==$version" -d "$cache" >&2
  tar xzf "$cache/pyspark-$version.tar.gz" -C "$cache" \
    "pyspark-$version/deps/bin" "pyspark-$version/deps/jars"
  rm -f "$cache/pyspark-$version.tar.gz"
}

running() {
  [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null &&
    grep -q 'Spark Connect server started' "$log" 2>/dev/null
}

start() {
  fetch
  if ! running; then
    [ -d "$java_home" ] || java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    JAVA_HOME="$java_home" SPARK_HOME="$home" SPARK_LOCAL_IP=127.0.0.1 \
      nohup "$home/bin/spark-submit" \
      --class org.apache.spark.sql.connect.service.SparkConnectServer \
      --master 'local[2]' --driver-memory "${SPARK_DRIVER_MEMORY:-2g}" \
      --conf spark.connect.grpc.binding.address=127.0.0.1 \
      --conf "spark.connect.grpc.binding.port=$port" \
      --conf spark.driver.host=127.0.0.1 --conf spark.driver.bindAddress=127.0.0.1 \
      --conf spark.ui.enabled=false --conf spark.sql.session.timeZone=UTC \
      >"$log" 2>&1 &
    echo $! >"$pidfile"
    for _ in $(seq 1 180); do
      grep -q 'Spark Connect server started' "$log" && break
      kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -30 "$log" >&2; exit 1; }
      sleep 1
    done
    running || { echo "Spark Connect did not start; its log: $log" >&2; tail -30 "$log" >&2; exit 1; }
  fi
  echo "export SPARK_REMOTE=sc://127.0.0.1:$port"
}

stop() {
  if [ -f "$pidfile" ]; then
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  log) cat "$log" ;;
  *) echo "usage: $0 start|stop|log" >&2; exit 2 ;;
esac
