#!/usr/bin/env bash
# The main job: builds the library, starts a local AWS emulator (moto, installed into .venv when missing) on a free
# loopback port, creates sample resources, then plans, prints the IAM policy, applies, re-plans and uninstalls.
# When the local Kubernetes control plane is built (scripts/k8s.sh build, once: Go, 15 to 30 minutes), it also starts
# one (about 10 s) and the EKS part installs the agent DaemonSet there and waits for it to roll out to the fake nodes;
# otherwise it says how to include that.
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
k8sdir=""
cleanup() {
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
  if [ -n "$k8sdir" ]; then
    scripts/k8s.sh stop "$k8sdir" || true
    rm -rf "$k8sdir"
  fi
}
trap cleanup EXIT
endpoint=$(MOTO_LOG=target/demo-moto.log scripts/moto.sh start "$pidfile")
if scripts/k8s.sh built; then
  k8sdir="$(mktemp -d)"
  echo "Starting a local Kubernetes control plane for the EKS DaemonSet (scripts/k8s.sh) ..."
  kubeconfig=$(scripts/k8s.sh start "$k8sdir")
  export CLOUDAEYE_DEMO_KUBECONFIG="$kubeconfig"
else
  echo "The EKS DaemonSet is left out: run 'scripts/k8s.sh build' once (needs Go; 15 to 30 minutes) to include it."
fi
CLOUDAEYE_DEMO_ENDPOINT="$endpoint" java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -jar "$jar"
