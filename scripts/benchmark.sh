#!/usr/bin/env bash
# The Lambda throughput benchmark (docs/BENCHMARKS.md): moto behind a throttling proxy that acts like the Lambda
# control plane. Usage: scripts/benchmark.sh [quick|full|pacing|share|emulator|adaptive|capacity|fleet]
#   quick:  100 and 1,000 functions at 50 ms, the naive loop at 100 functions, and planning 10,000 under -Xmx256m
#   full:   every scenario of issue 3 (takes about an hour)
#   pacing: the goals of issue 18: moto alone (500 functions, the installer against the sequential loop), the proxy
#           at 15/s and 200 ms (1,000 functions, adaptive and documented pacing), a 60 % share (500 functions)
#           (about 12 minutes)
#   share:  only the 60 % share row of pacing (about 3 minutes); as root also the requests' arrivals on the wire
#   emulator: only the moto-alone row of pacing (the installer against the sequential loop, 500 functions, 3 rounds
#           in alternate order and their median)
#   adaptive: only the adaptive row of pacing (1,000 functions behind the proxy at 15/s and 200 ms)
#   capacity: how many requests/s moto answers with 1, 4, 8 and 32 concurrent callers
#   fleet:  issue 17: how many requests/s one moto process answers (1, 8 and 60 callers), then the fleet installer
#           over 20 accounts x 3 regions x 100 functions against an in-process Lambda stub behind the proxy, each
#           account-region with its own 15/s bucket, and 1 x 1 and 5 x 3 account-regions for scale (about 6 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
# NO_BUILD=1 reuses the classes and target/classpath.txt of an earlier run (several rows in a row, one build).
if [ -z "${NO_BUILD:-}" ]; then
  ./mvnw -B -q -ntp -DskipTests test-compile dependency:build-classpath -pl lambda -am \
    -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=test
fi
# A snapshot of the compiled classes, so that a build in this tree while the benchmark runs cannot change them.
snap="$(mktemp -d)"
# lambda/src/test/bench-interceptors registers SendTimes, a global SDK interceptor that records when our side started
# and sent each shared call (the benchmark's class path only: no test sees it).
for d in lambda/target/test-classes lambda/target/classes core/target/test-classes core/target/classes \
    lambda/src/test/bench-interceptors; do
  mkdir -p "$snap/$d" && cp -r "$d/." "$snap/$d/"
done
cp="$snap/lambda/src/test/bench-interceptors:$snap/lambda/target/test-classes:$snap/lambda/target/classes:$snap/core/target/test-classes:$snap/core/target/classes:$(cat lambda/target/classpath.txt)"
pidfile="$(mktemp)"
cleanup() { kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; rm -rf "$snap"; }
trap cleanup EXIT
endpoint=$(MOTO_LOG=target/benchmark-moto.log scripts/moto.sh start "$pidfile")
# BENCH_JAVA_OPTS adds JVM options, e.g. "-Dbench.timeline=true
# -Dorg.slf4j.simpleLogger.log.com.cloudaeye.agent.internal.RateLimitedScheduler=debug" (shared starts per second, rates).
run() { java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=error ${BENCH_JAVA_OPTS:-} -Dmoto.endpoint="$endpoint" -cp "$cp" \
  com.cloudaeye.agent.lambda.bench.LambdaThroughputBenchmark "$@"; }
header() {
  echo "| run | functions | latency | publish | wall | floor | wall/floor | shared calls per function | throttled | failed | peak heap | most shared calls in one second | calls per function |"
  echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
}
echo "Load before the run: $(uptime)"
case "${1:-quick}" in
  fleet)
    # BENCH_JAVA_OPTS=-Dfleet.warmUp=true runs each fleet once unmeasured first (a warm JVM's rows).
    fleet() { java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=error ${BENCH_JAVA_OPTS:-} -Dmoto.endpoint="$endpoint" -cp "$cp" \
      com.cloudaeye.agent.lambda.bench.FleetThroughputBenchmark "$@"; }
    echo "| moto alone | callers | seconds | answered | requests/s | errors |"
    echo "| --- | --- | --- | --- | --- | --- |"
    fleet moto-capacity 10 1 8 60
    echo "| run | accounts x regions x functions | latency | wall | slowest account-region's floor | wall/floor | shared calls per account-region | throttled | failed | failures | peak heap | correct | slowest account-region's apply | peak requests in the proxy | CPU time of the JVM |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
    fleet fleet 1 1 100 200
    fleet fleet 5 3 100 200
    fleet fleet 20 3 100 200
    fleet proxy-capacity 10 60
    echo "Load after the run: $(uptime)"
    exit 0
    ;;
  pacing)
    echo "| moto alone | functions | installer | correct | installer's calls per function | sequential loop | correct | installer/loop |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    run emulator 500
    header
    run install 1000 200 false adaptive
    run install 1000 200 false documented
    run install 500 200 false share=0.6
    exit 0
    ;;
  capacity)
    # How many requests/s moto answers with 1, 4, 8 and 32 concurrent callers (the installer has 32 workers).
    echo "| moto alone | callers | seconds | answered | requests/s | errors |"
    echo "| --- | --- | --- | --- | --- | --- |"
    java -Xmx1g -Dorg.slf4j.simpleLogger.defaultLogLevel=error -Dmoto.endpoint="$endpoint" -cp "$cp" \
      com.cloudaeye.agent.lambda.bench.FleetThroughputBenchmark moto-capacity 10 1 4 8 32
    echo "Load after the run: $(uptime)"
    exit 0
    ;;
  adaptive)
    header
    run install 1000 200 false adaptive
    echo "Load after the run: $(uptime)"
    exit 0
    ;;
  emulator)
    echo "| moto alone | functions | installer | correct | installer's calls per function | sequential loop | correct | installer/loop |"
    echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
    run emulator 500
    echo "Load after the run: $(uptime)"
    exit 0
    ;;
  share)
    # As root, the kernel's timestamps of the requests on the loopback interface as well (scripts/wire-arrivals.py).
    wire=""
    if [ "$(id -u)" = 0 ]; then
      wire="$(mktemp)"
      python3 scripts/wire-arrivals.py record "$wire" & wirepid=$!
      trap 'kill $wirepid 2>/dev/null || true; cleanup' EXIT
    fi
    header
    run install 500 200 false share=0.6
    if [ -n "$wire" ]; then
      sleep 1
      python3 scripts/wire-arrivals.py count "$wire" "${endpoint##*:}" | head -1
    fi
    echo "Load after the run: $(uptime)"
    exit 0
    ;;
esac
header
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
