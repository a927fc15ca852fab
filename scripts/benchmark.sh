#!/usr/bin/env bash
# The Lambda throughput benchmark (docs/BENCHMARKS.md): moto behind a throttling proxy that acts like the Lambda
# control plane. Usage: scripts/benchmark.sh [quick|full]
#   quick: 100 and 1,000 functions at 50 ms, the naive loop at 100 functions, and planning 10,000 under -Xmx256m
#   full:  every scenario of issue 3 (takes about an hour)
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -ntp -DskipTests test-compile dependency:build-classpath -pl lambda -am \
  -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=test
cp="lambda/target/test-classes:lambda/target/classes:core/target/test-classes:core/target/classes:$(cat lambda/target/classpath.txt)"
pidfile="$(mktemp)"
cleanup() { kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; }
trap cleanup EXIT
endpoint=$(MOTO_LOG=target/benchmark-moto.log scripts/moto.sh start "$pidfile")
run() { java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=error -Dmoto.endpoint="$endpoint" -cp "$cp" \
  com.cloudaeye.agent.lambda.bench.LambdaThroughputBenchmark "$@"; }
echo "| run | functions | latency | publish | wall | floor | wall/floor | shared calls per function | throttled | failed | peak heap |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
case "${1:-quick}" in
  quick)
    run install 100 50 false
    run install 100 50 false baseline
    run install 1000 50 false
    run install 1000 200 true
    java -Xmx256m -Dorg.slf4j.simpleLogger.defaultLogLevel=error -Dmoto.endpoint="$endpoint" -cp "$cp" \
      com.cloudaeye.agent.lambda.bench.LambdaThroughputBenchmark plan 10000
    ;;
  full)
    for n in 100 1000; do for lat in 50 200; do for pub in false true; do run install $n $lat $pub; done; done; done
    run install 100 200 false baseline
    run install 100 200 true baseline
    run install 1000 200 false baseline
    java -Xmx256m -Dorg.slf4j.simpleLogger.defaultLogLevel=error -Dmoto.endpoint="$endpoint" -cp "$cp" \
      com.cloudaeye.agent.lambda.bench.LambdaThroughputBenchmark plan 10000
    ;;
esac
