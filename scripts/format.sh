#!/usr/bin/env bash
# Formats every Java file the way `verify` checks it (palantir-java-format through Spotless).
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -B -q spotless:apply -pl '!bom' "$@"
