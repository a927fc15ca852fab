#!/usr/bin/env bash
# Formats every Java file the way `verify` checks it (palantir-java-format through Spotless).
# Usage: scripts/format.sh            (all modules)
#        scripts/format.sh -pl core,lambda
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then set -- -pl '!bom'; fi
./mvnw -B -q spotless:apply "$@"
