#!/usr/bin/env bash
# Runs every test: unit tests, WireMock tests, Helm tests, and the integration tests (*IT) against a moto server
# that this script installs (pinned, into .venv), starts on a free loopback port, and always stops.
# Extra arguments go to Maven, e.g. scripts/test.sh -pl lambda -am
set -euo pipefail
cd "$(dirname "$0")/.."
pidfile="$(mktemp)"
cleanup() { kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"; }
trap cleanup EXIT
endpoint=$(scripts/moto.sh start "$pidfile")
echo "moto server at $endpoint"
./mvnw -B -ntp verify -Dmoto.endpoint="$endpoint" "$@"
# A full run also builds a user's project against what it just verified (see CONTRIBUTING); a run with arguments may
# not have built every module.
if [[ $# -eq 0 ]]; then
    scripts/consumer-check.sh
fi
