#!/usr/bin/env bash
# The main job: builds the library, starts a local AWS emulator (moto, installed into .venv when missing) on a free
# loopback port, creates sample resources, then plans, prints the IAM policy, applies, re-plans and uninstalls.
# With --aws it runs against real AWS instead (default credential chain and region; see examples/.../Demo.java):
# read-only unless CLOUDAEYE_DEMO_APPLY=yes.
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q -ntp -DskipTests package -pl examples -am
jar=examples/target/cloudaeye-agent-all.jar
if [ "${1:-}" = "--aws" ]; then
  exec java -jar "$jar"
fi
pidfile="$(mktemp)"
cleanup() { kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; }
trap cleanup EXIT
endpoint=$(MOTO_LOG=target/demo-moto.log scripts/moto.sh start "$pidfile")
CLOUDAEYE_DEMO_ENDPOINT="$endpoint" java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -jar "$jar"
