#!/usr/bin/env bash
# Builds a user's project against our artifacts as a user gets them. Installs them with -DskipTests (the habit this
# also checks: no moto is running here) into a local repository of its own under target/, chained to ~/.m2 so that
# nothing of ours lands in ~/.m2 and third-party jars are not fetched again; then compiles consumer-check/, which
# imports only the BOM, as a named module with -Werror, and runs it on the module path and on the class path; and
# compiles consumer-check/testkit/'s contract test against the test kit taken from the BOM with test scope.
# Extra arguments go to both Maven runs, e.g. scripts/consumer-check.sh -o
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD/target/consumer-check-repo"
rm -rf "$repo/com/cloudaeye" # kept between runs for the plugins it downloads; our artifacts always fresh
local_repo=(-Dmaven.repo.local="$repo" -Dmaven.repo.local.tail="$HOME/.m2/repository")
version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -1)

# Every module but the examples; Javadoc and formatting were checked by verify. Without incremental compilation,
# classes that verify compiled from these sources are used as they are: otherwise the module descriptors, compiled
# anew in every build, would make every module downstream recompile (about 1.5 minutes more).
./mvnw -B -ntp -q install -pl '!examples' -DskipTests -Dmaven.javadoc.skip -Dspotless.check.skip \
    -Dmaven.compiler.useIncrementalCompilation=false "${local_repo[@]}" "$@"
./mvnw -B -ntp -q -f consumer-check/pom.xml clean compile -Dcloudaeye.version="$version" "${local_repo[@]}" "$@"
# A third party's platform tests: the test kit, from the BOM with test scope, compiles a contract test.
./mvnw -B -ntp -q -f consumer-check/testkit/pom.xml clean test-compile -Dcloudaeye.version="$version" \
    "${local_repo[@]}" "$@"

path="consumer-check/target/classes:$(cat consumer-check/target/runtime-path.txt)"
# An artifact of ours that the BOM names but this build did not install would come from ~/.m2, stale: refuse it.
if tr ':' '\n' <<<"$path" | grep '/com/cloudaeye/' | grep -v "^$repo/"; then
    echo "consumer check: the jars above did not come from this build" >&2
    exit 1
fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
"$java" --module-path "$path" --module com.example.consumer/com.example.consumer.ConsumerCheck
"$java" -cp "$path" com.example.consumer.ConsumerCheck
