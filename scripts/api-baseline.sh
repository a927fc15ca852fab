#!/usr/bin/env bash
# Accepts the current public API as the baseline of the API-compatibility check (japicmp, see CONTRIBUTING, "The
# public API has a baseline"): builds every published module's jar and writes its public part to
# api-baseline/<artifactId>.jar: the classes outside .internal packages, no resources, fixed timestamps, so the file
# changes only when the API's classes do. Run it only to accept an incompatible change on purpose, and commit the
# jars with the goldens (public-api.txt) and a message that says why the API broke.
# Usage: scripts/api-baseline.sh [extra Maven arguments, e.g. -o]
set -euo pipefail
cd "$(dirname "$0")/.."
modules=(core testkit lambda ecs eks)
version=$(sed -n 's:^  <version>\(.*\)</version>$:\1:p' pom.xml | head -1)
# package, not verify: the check itself would refuse the change being accepted.
./mvnw -B -ntp -q package -pl "$(IFS=,; echo "${modules[*]}")" -am -DskipTests -Dmaven.javadoc.skip \
    -Dspotless.check.skip "$@"
mkdir -p api-baseline
for module in "${modules[@]}"; do
    artifact="cloudaeye-agent-$module"
    python3 - "$module/target/$artifact-$version.jar" "api-baseline/$artifact.jar" <<'PY'
import sys, zipfile
source, target = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(source) as jar, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
    for name in sorted(jar.namelist()):
        if name.endswith(".class") and "/internal/" not in name and name != "module-info.class":
            out.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), jar.read(name), zipfile.ZIP_DEFLATED)
PY
    echo "api-baseline/$artifact.jar: $(python3 -c 'import sys,zipfile; print(len(zipfile.ZipFile(sys.argv[1]).namelist()))' "api-baseline/$artifact.jar") classes"
done
