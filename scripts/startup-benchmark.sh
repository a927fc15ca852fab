#!/usr/bin/env bash
# Start-up benchmark (docs/BENCHMARKS.md): how long a run with nothing to do takes, beside the JVM's own start, with
# the shaded jar, against moto holding the CloudAEye layer and one function that already has the agent (a plan of no
# change; with no function at all the plan stops with "no function matches"). Median of RUNS (default 5) wall times.
# Usage: scripts/startup-benchmark.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-5}"
if [ "${1:-}" != "--no-build" ]; then
  ./mvnw -B -q -ntp -DskipTests -Dmaven.javadoc.skip=true package -pl examples -am
fi
JAR="$PWD/examples/target/cloudaeye-agent-all.jar"
work="$(mktemp -d)"
pidfile="$work/moto.pid"
cleanup() { kill "$(cat "$pidfile")" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
endpoint=$(MOTO_LOG="$work/moto.log" scripts/moto.sh start "$pidfile")
layer=$(.venv/bin/python - "$endpoint" <<'EOF'
import io, sys, zipfile, boto3
def client(name):
    return boto3.client(name, endpoint_url=sys.argv[1], region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
def zipped(name, text):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, text)
    return buf.getvalue()
lam = client("lambda")
layer = lam.publish_layer_version(LayerName="cloudaeye-x86", Content={"ZipFile": zipped("extensions/agent", "#!/bin/sh\n")},
                                  CompatibleArchitectures=["x86_64"])["LayerVersionArn"]
role = client("iam").create_role(RoleName="startup", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
lam.create_function(FunctionName="installed", Runtime="python3.12", Role=role, Handler="index.handler",
                    Code={"ZipFile": zipped("index.py", "def handler(e, c):\n    return 1\n")}, Layers=[layer],
                    Architectures=["x86_64"],
                    Environment={"Variables": {"CLOUDAEYE_LOGS_ENDPOINT": "https://logs.example.cloudaeye.com",
                                               "CLOUDAEYE_API_TOKEN": "startup-token"}})
print(layer)
EOF
)
export CLOUDAEYE_AWS_ENDPOINT="$endpoint" CLOUDAEYE_LOGS_ENDPOINT=https://logs.example.cloudaeye.com \
  CLOUDAEYE_API_TOKEN=startup-token CLOUDAEYE_LAYER_X86_64="$layer" CLOUDAEYE_JOURNAL_DIR="$work/journals"
echo '/exit' > "$work/empty.jsh"
scripts="$PWD/examples/jshell"
cd "$work"

# Prints the median wall time of RUNS runs of a command (its output goes to the log; a failure stops the script).
median() {
  local label="$1"; shift
  local times=()
  for _ in $(seq "$RUNS"); do
    local start end
    start=$(date +%s%N)
    local rc=0
    "$@" >>"$work/runs.log" 2>&1 || rc=$?
    if [ "$rc" -ne "${EXPECT:-0}" ]; then echo "exit $rc: $*" >&2; tail -20 "$work/runs.log" >&2; exit 1; fi
    end=$(date +%s%N)
    times+=("$(( (end - start) / 1000000 ))")
  done
  local sorted
  sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  printf '| %s | %s ms | %s |\n' "$label" "$(sed -n "$(( (RUNS + 1) / 2 ))p" <<<"$sorted")" "$(tr '\n' ' ' <<<"$sorted")"
}

C1="-XX:TieredStopAtLevel=1"
# jshell runs snippets in a second JVM under a debugger (JDWP), which a CDS archive cannot be dumped for;
# --execution local runs them in jshell's own JVM, which then needs the jar on its class path as well, and the JDK
# modules a java -cp run has (it resolves only jshell's own; the README's command, examples/README.md explains).
LOCAL=(--execution local -J"$C1" -J--add-modules=ALL-DEFAULT -J--class-path="$JAR" --class-path "$JAR")
# Class-data-sharing archives, dumped by one run each (JDK 17's dynamic archive of the classes a run loaded).
java "$C1" -XX:ArchiveClassesAtExit="$work/plan.jsa" -cp "$JAR" com.cloudaeye.agent.examples.LambdaExample \
  >>"$work/runs.log" 2>&1
jshell "${LOCAL[@]}" -J-XX:ArchiveClassesAtExit="$work/jshell.jsa" "$scripts/lambda-plan.jsh" >>"$work/runs.log" 2>&1
# --no-startup skips jshell's default startup snippets (ten on-demand imports it compiles before the script); the
# scripts import what they use themselves.
jshell --no-startup "${LOCAL[@]}" -J-XX:ArchiveClassesAtExit="$work/jshell-ns.jsa" "$scripts/lambda-plan.jsh" \
  >>"$work/runs.log" 2>&1

# A Lambda-only jar for scripts: the shaded jar without what only ECS and EKS use (the EC2 client, about 13,600
# entries, carried for the demo's sample ECS network; ECS, EKS and CloudWatch Logs clients; Helm's 95 MB native
# library and JNA; SnakeYAML). jshell's compiler scans fewer entries for the scripts' on-demand imports.
cp "$JAR" "$work/lambda-only.jar"
zip -q -d "$work/lambda-only.jar" 'software/amazon/awssdk/services/ec2/*' 'software/amazon/awssdk/services/ecs/*' \
  'software/amazon/awssdk/services/eks/*' 'software/amazon/awssdk/services/cloudwatchlogs/*' 'helm-*' \
  'com/marcnuri/*' 'com/sun/jna/*' 'com/cloudaeye/agent/ecs/*' 'com/cloudaeye/agent/eks/*' 'org/yaml/*' \
  'META-INF/native-image/*' >/dev/null
SMALL=(--execution local -J"$C1" -J--add-modules=ALL-DEFAULT -J--class-path="$work/lambda-only.jar"
  --class-path "$work/lambda-only.jar")
jshell --no-startup "${SMALL[@]}" -J-XX:ArchiveClassesAtExit="$work/jshell-small.jsa" "$scripts/lambda-plan.jsh" \
  >>"$work/runs.log" 2>&1

# The launcher examples/jshell/cloudaeye-jshell: the README's command with a CDS archive it makes by itself. Its first
# run dumps the archive (timed with an empty archive directory each time); later runs use it (dumped once here).
launcher=(env -u JAVA_HOME CLOUDAEYE_JAR="$JAR" "$scripts/cloudaeye-jshell")
launcher_first() { rm -rf "$work/cds-first"; CLOUDAEYE_CDS_DIR="$work/cds-first" "${launcher[@]}" "$@"; }
CLOUDAEYE_CDS_DIR="$work/cds" "${launcher[@]}" lambda-plan.jsh >>"$work/runs.log" 2>&1

echo "Load before the runs: $(uptime)"
echo "| run (nothing to do: a plan of no change) | median | all runs |"
echo "| --- | --- | --- |"
median "java -version (the JVM alone)" java "$C1" -version
# The JVM with one class of the jar: LambdaExample without its variables exits 2 before any AWS work.
EXPECT=2 median "java, JVM and one class of the jar" env -u CLOUDAEYE_LAYER_X86_64 java "$C1" -cp "$JAR" \
  com.cloudaeye.agent.examples.LambdaExample
median "java, plan (LambdaExample)" java "$C1" -cp "$JAR" com.cloudaeye.agent.examples.LambdaExample
median "java, plan, with the CDS archive" java "$C1" -XX:SharedArchiveFile="$work/plan.jsa" -cp "$JAR" \
  com.cloudaeye.agent.examples.LambdaExample
median "jshell, empty script (its two JVMs)" jshell -J"$C1" -R"$C1" --class-path "$JAR" "$work/empty.jsh"
median "jshell, lambda-plan.jsh (default remote execution)" jshell -J"$C1" -R"$C1" --class-path "$JAR" "$scripts/lambda-plan.jsh"
median "jshell --execution local, empty script" jshell "${LOCAL[@]}" "$work/empty.jsh"
median "jshell --execution local, lambda-plan.jsh" jshell "${LOCAL[@]}" "$scripts/lambda-plan.jsh"
# The README's documented command (README.md, "Examples and jshell"; examples/README.md's $JSHELL).
median "jshell --no-startup --execution local, lambda-plan.jsh (the README's command)" jshell --no-startup "${LOCAL[@]}" \
  "$scripts/lambda-plan.jsh"
median "cloudaeye-jshell lambda-plan.jsh, first run (dumps the archive)" launcher_first lambda-plan.jsh
median "cloudaeye-jshell lambda-plan.jsh, later runs (the archive)" env CLOUDAEYE_CDS_DIR="$work/cds" \
  "${launcher[@]}" lambda-plan.jsh
median "jshell --execution local, lambda-plan.jsh, CDS archive" jshell "${LOCAL[@]}" \
  -J-XX:SharedArchiveFile="$work/jshell.jsa" "$scripts/lambda-plan.jsh"
median "jshell --no-startup, empty script" jshell --no-startup -J"$C1" -R"$C1" --class-path "$JAR" "$work/empty.jsh"
median "jshell --no-startup, lambda-plan.jsh" jshell --no-startup -J"$C1" -R"$C1" --class-path "$JAR" \
  "$scripts/lambda-plan.jsh"
median "jshell --no-startup --execution local, lambda-plan.jsh, CDS archive" jshell --no-startup "${LOCAL[@]}" \
  -J-XX:SharedArchiveFile="$work/jshell-ns.jsa" "$scripts/lambda-plan.jsh"
median "jshell --no-startup --execution local, lambda-plan.jsh, Lambda-only jar" jshell --no-startup "${SMALL[@]}" \
  "$scripts/lambda-plan.jsh"
median "jshell --no-startup --execution local, lambda-plan.jsh, Lambda-only jar, CDS archive" jshell --no-startup \
  "${SMALL[@]}" -J-XX:SharedArchiveFile="$work/jshell-small.jsa" "$scripts/lambda-plan.jsh"
echo "Load after the runs: $(uptime)"
