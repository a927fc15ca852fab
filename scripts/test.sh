#!/usr/bin/env bash
# Runs every test: unit tests, WireMock tests, Helm tests, and the integration tests (*IT) against a moto server
# that this script installs (pinned, into .venv) and a real Kubernetes control plane (scripts/k8s.sh: built once
# into a cache, ~15 min cold), both started on free loopback ports and always stopped.
# Extra arguments go to Maven, e.g. scripts/test.sh -pl lambda -am
set -euo pipefail
cd "$(dirname "$0")/.."
pidfile="$(mktemp)"
k8sdir="$(mktemp -d)"
cleanup() {
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
  scripts/k8s.sh stop "$k8sdir" || true
  # Keep the control plane's logs for a failed run to read.
  mkdir -p target/k8s && cp "$k8sdir"/*.log target/k8s/ 2>/dev/null || true
  rm -rf "$k8sdir"
}
trap cleanup EXIT
endpoint=$(scripts/moto.sh start "$pidfile")
echo "moto server at $endpoint"
kubeconfig=$(scripts/k8s.sh start "$k8sdir" --pod-security-baseline)
echo "Kubernetes control plane: $kubeconfig"
./mvnw -B -ntp verify -Dmoto.endpoint="$endpoint" -Dk8s.kubeconfig="$kubeconfig" "$@"
# A full run also builds a user's project against what it just verified (see CONTRIBUTING); a run with arguments may
# not have built every module.
if [[ $# -eq 0 ]]; then
    scripts/consumer-check.sh
fi
