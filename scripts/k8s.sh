#!/usr/bin/env bash
# A real Kubernetes control plane on loopback for the EKS integration tests: kube-apiserver v1.31.4, etcd 3.5.17,
# kube-controller-manager, kube-scheduler and kwok (fake kubelets), built once from the Go modules pinned under
# scripts/k8s/ into a cache outside the work tree, and reused from there.
# Usage: scripts/k8s.sh build           -> builds the binaries when the cache lacks them (cold: ~15 min of 2 cores)
#        scripts/k8s.sh built           -> exits 0 when the binaries are built, 1 otherwise
#        scripts/k8s.sh start DIR [--pod-security-baseline]
#                                       -> starts a control plane with its state in DIR (empty or absent), creates
#                                          the fake nodes, prints the path of an admin kubeconfig; with the option
#                                          also a second API server on the same etcd whose admission configuration
#                                          enforces PodSecurity "baseline" in every namespace without a label (as a
#                                          cluster-wide default does), admin kubeconfig DIR/kubeconfig-pss-baseline
#        scripts/k8s.sh stop DIR        -> stops what 'start DIR' started (also after a start that failed)
# The fake nodes: kwok-amd64 and kwok-arm64 (Linux), kwok-tainted (Linux amd64, taint dedicated=logs:NoSchedule)
# and kwok-fargate (labelled eks.amazonaws.com/compute-type=fargate, tainted like an EKS Fargate node).
# Users: the kubeconfig's admin (group system:masters), service accounts, and EKS tokens: a token made from AWS access
# key AKID is user "eks:AKID" (scripts/k8s/eks-token-webhook.py, which checks no signature), with no rights until
# RBAC binds some.
set -euo pipefail
cd "$(dirname "$0")/.."
PINS="$PWD/scripts/k8s"
# Names every pin under scripts/k8s (kube, etcd; kwok v0.7.0): change it when a go.mod there changes.
K8S_VERSION="v1.31.4"
CACHE_KEY="$K8S_VERSION-etcd3.5.17"
BIN="${CLOUDAEYE_K8S_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cloudaeye-k8s}/$CACHE_KEY/bin"
BINARIES="kube-apiserver kube-controller-manager kube-scheduler etcd kwok"

built() {
  local b
  for b in $BINARIES; do [ -x "$BIN/$b" ] || return 1; done
}

build() {
  built && return 0
  command -v go >/dev/null || { echo "Go is needed to build the Kubernetes control plane (https://go.dev/dl/)" >&2; return 1; }
  mkdir -p "$BIN"
  # One build at a time per cache; a second caller waits and then finds the binaries.
  (
    command -v flock >/dev/null && flock 9
    if ! built; then build_now; fi
  ) 9>"$BIN/../build.lock"
}

build_now() {
  echo "Building the Kubernetes control plane $CACHE_KEY into $BIN (cold: ~15 min; cached afterwards) ..." >&2
  local ld="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION" start=$SECONDS
  # Each binary is built under a temporary name and renamed, so an interrupted build leaves nothing half-written.
  go_build() { local dir="$1" out="$2" pkg="$3"; shift 3
    (cd "$PINS/$dir" && go build -modcacherw "$@" -o "$BIN/$out.partial" "$pkg") >&2 && mv "$BIN/$out.partial" "$BIN/$out"; }
  go_build kube kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver -ldflags "$ld"
  go_build kube kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager -ldflags "$ld"
  go_build kube kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler -ldflags "$ld"
  go_build etcd etcd go.etcd.io/etcd/server/v3
  go_build kwok kwok sigs.k8s.io/kwok/cmd/kwok
  echo "Built the Kubernetes control plane in $((SECONDS - start)) s" >&2
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Starts a process in the background, its output in DIR/NAME.log (DIR/LOG.log when '--log LOG' comes first), and
# records its pid for 'stop'.
run() {
  local log=""
  if [ "$1" = --log ]; then log="$2"; shift 2; fi
  local name="$1"; shift
  if [ "$name" = eks-token-webhook ]; then set -- python3 "$PINS/$name.py" "$@"; else set -- "$BIN/$name" "$@"; fi
  "$@" >"$DIR/${log:-$name}.log" 2>&1 &
  echo $! >>"$DIR/pids"
}

api() { # METHOD PATH [JSON]
  curl -sS --fail-with-body --cacert "$DIR/certs/apiserver.crt" -H "Authorization: Bearer $(cat "$DIR/token")" \
    -H 'Content-Type: application/json' -X "$1" "https://127.0.0.1:$(cat "$DIR/port")$2" ${3:+--data "$3"}
}

# Waits until the API server on PORT with its certificates in CERTS answers /readyz.
await_ready() { # PORT CERTS LOG
  local i
  for i in $(seq 1 300); do
    [ -f "$2/apiserver.crt" ] && curl -sS --fail --cacert "$2/apiserver.crt" \
      -H "Authorization: Bearer $(cat "$DIR/token")" "https://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "kube-apiserver did not become ready; see $DIR/$3.log" >&2
  return 1
}

# Writes an admin kubeconfig for the API server on PORT; it trusts the server's own self-signed certificate in CERTS:
# no insecure TLS.
admin_kubeconfig() { # PORT CERTS FILE
  (umask 077 && cat >"$3" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$1
    certificate-authority-data: $(base64 -w0 <"$2/apiserver.crt")
users:
- name: admin
  user:
    token: $(cat "$DIR/token")
contexts:
- name: local
  context:
    cluster: local
    user: admin
current-context: local
EOF
  )
}

node() { # NAME ARCH LABELS_JSON TAINTS_JSON
  api POST /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$1\",
    \"annotations\":{\"kwok.x-k8s.io/node\":\"fake\"},
    \"labels\":$(python3 -c 'import json,sys; l=json.loads(sys.argv[3]); l.update({"kubernetes.io/os":"linux","kubernetes.io/arch":sys.argv[2],"kubernetes.io/hostname":sys.argv[1],"type":"kwok"}); print(json.dumps(l))' "$1" "$2" "$3")},
    \"spec\":{\"taints\":$4},
    \"status\":{\"allocatable\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"110\"},\"capacity\":{\"cpu\":\"4\",\"memory\":\"8Gi\",\"pods\":\"110\"}}}" >/dev/null
}

# Every fake node Ready and free of the not-ready taint the node lifecycle controller lifts, so DaemonSets see them.
nodes_ready() {
  api GET /api/v1/nodes | python3 -c '
import json, sys
nodes = json.load(sys.stdin)["items"]
ok = len(nodes) == 4 and all(
    any(c["type"] == "Ready" and c["status"] == "True" for c in n.get("status", {}).get("conditions", []))
    and not any(t["key"].startswith("node.kubernetes.io/") for t in n["spec"].get("taints", []))
    for n in nodes)
sys.exit(0 if ok else 1)'
}

# Starts a kube-apiserver on PORT with its self-signed certificate in CERTS, the etcd, service accounts and users of
# this control plane, and any further flags.
api_server() { # LOG PORT CERTS [FLAG...]
  local log="$1" port="$2" certs="$3"; shift 3
  run --log "$log" kube-apiserver --etcd-servers="http://127.0.0.1:$etcd_port" --secure-port="$port" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --cert-dir="$certs" \
    --service-account-issuer=https://kubernetes.default.svc \
    --service-account-key-file="$DIR/sa.pub" --service-account-signing-key-file="$DIR/sa.key" \
    --authorization-mode=Node,RBAC --token-auth-file="$DIR/tokens.csv" --service-cluster-ip-range=10.96.0.0/24 \
    --authentication-token-webhook-config-file="$DIR/eks-token-webhook.kubeconfig" \
    --authentication-token-webhook-version=v1 "$@"
}

start() {
  build
  mkdir -p "$DIR"
  DIR="$(cd "$DIR" && pwd)"
  : >"$DIR/pids"
  local pod_security_baseline=0 etcd_port peer_port port webhook_port pss_port
  [ "${1:-}" = --pod-security-baseline ] && pod_security_baseline=1
  etcd_port=$(free_port); peer_port=$(free_port); port=$(free_port); webhook_port=$(free_port)
  echo "$port" >"$DIR/port"
  openssl genrsa -out "$DIR/sa.key" 2048 2>/dev/null && openssl rsa -in "$DIR/sa.key" -pubout -out "$DIR/sa.pub" 2>/dev/null
  openssl rand -hex 32 >"$DIR/token"
  (umask 077 && echo "$(cat "$DIR/token"),admin,admin,system:masters" >"$DIR/tokens.csv")

  # EKS tokens (from the installer's EKS connection) authenticate through a stand-in for EKS's IAM authenticator.
  run eks-token-webhook "$webhook_port"
  cat >"$DIR/eks-token-webhook.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: eks-token-webhook
  cluster:
    server: http://127.0.0.1:$webhook_port/
users:
- name: kube-apiserver
contexts:
- name: webhook
  context:
    cluster: eks-token-webhook
    user: kube-apiserver
current-context: webhook
EOF
  # Every request's user, verb and object (no bodies) goes to DIR/audit.log: tests read which permissions a step used.
  printf 'apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n' \
    >"$DIR/audit-policy.yaml"
  run etcd --data-dir "$DIR/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "default=http://127.0.0.1:$peer_port"
  api_server kube-apiserver "$port" "$DIR/certs" --audit-policy-file="$DIR/audit-policy.yaml" \
    --audit-log-path="$DIR/audit.log"
  if [ "$pod_security_baseline" = 1 ]; then
    # What a cluster whose API server takes an admission configuration may set for every namespace (EKS's managed
    # one does not: it leaves every namespace privileged): PodSecurity "baseline" unless a namespace's label says
    # otherwise. It applies to the requests this server answers (the tests that use its kubeconfig); the controllers
    # go through the first server. No endpoint reconciling: the first server keeps "kubernetes"'s.
    printf '%s\n' 'apiVersion: apiserver.config.k8s.io/v1' 'kind: AdmissionConfiguration' 'plugins:' \
      '- name: PodSecurity' '  configuration:' '    apiVersion: pod-security.admission.config.k8s.io/v1' \
      '    kind: PodSecurityConfiguration' '    defaults: {enforce: baseline, enforce-version: latest}' \
      '    exemptions: {namespaces: [kube-system]}' >"$DIR/pss-baseline.yaml"
    pss_port=$(free_port)
    api_server kube-apiserver-pss-baseline "$pss_port" "$DIR/certs-pss-baseline" \
      --admission-control-config-file="$DIR/pss-baseline.yaml" --endpoint-reconciler-type=none
  fi
  await_ready "$port" "$DIR/certs" kube-apiserver
  admin_kubeconfig "$port" "$DIR/certs" "$DIR/kubeconfig"
  if [ "$pod_security_baseline" = 1 ]; then
    await_ready "$pss_port" "$DIR/certs-pss-baseline" kube-apiserver-pss-baseline
    admin_kubeconfig "$pss_port" "$DIR/certs-pss-baseline" "$DIR/kubeconfig-pss-baseline"
  fi
  # kwok's fake kubelets report every 20 to 45 s, slower than the default grace of 40 s on a loaded machine: nodes
  # would flap NotReady and their pods turn unready under the tests. A long grace keeps them Ready.
  run kube-controller-manager --kubeconfig="$DIR/kubeconfig" --leader-elect=false --bind-address=127.0.0.1 \
    --secure-port=0 --service-account-private-key-file="$DIR/sa.key" --use-service-account-credentials=false \
    --controllers=daemonset-controller,serviceaccount-controller,namespace-controller,garbage-collector-controller,node-lifecycle-controller,resourcequota-controller \
    --node-monitor-grace-period=1h --node-startup-grace-period=1h
  run kube-scheduler --kubeconfig="$DIR/kubeconfig" --leader-elect=false --bind-address=127.0.0.1 --secure-port=0
  run kwok --kubeconfig="$DIR/kubeconfig" --config="$PINS/kwok-stages.yaml" --manage-all-nodes=false \
    --manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake --cidr=10.0.0.1/24 --node-ip=10.0.0.1

  node kwok-amd64 amd64 '{}' '[]'
  node kwok-arm64 arm64 '{}' '[]'
  node kwok-tainted amd64 '{"dedicated":"logs"}' '[{"key":"dedicated","value":"logs","effect":"NoSchedule"}]'
  node kwok-fargate amd64 '{"eks.amazonaws.com/compute-type":"fargate"}' \
    '[{"key":"eks.amazonaws.com/compute-type","value":"fargate","effect":"NoSchedule"}]'
  for i in $(seq 1 300); do
    nodes_ready 2>/dev/null && break
    [ "$i" = 300 ] && { echo "the fake nodes did not become ready; see $DIR/kwok.log" >&2; return 1; }
    sleep 0.2
  done
  echo "$DIR/kubeconfig"
}

any_alive() {
  local pid
  for pid in $(cat "$DIR/pids"); do kill -0 "$pid" 2>/dev/null && return 0; done
  return 1
}

stop() {
  [ -f "$DIR/pids" ] || return 0
  local pid i
  # Reverse order: the clients of the API server first, etcd last.
  for pid in $(tac "$DIR/pids"); do kill "$pid" 2>/dev/null || true; done
  for i in $(seq 1 50); do
    any_alive || break
    sleep 0.2
  done
  for pid in $(cat "$DIR/pids"); do kill -9 "$pid" 2>/dev/null || true; done
  rm -f "$DIR/pids"
}

case "${1:-}" in
  build) build ;;
  built) built ;;
  start) DIR="${2:?state directory}"; start "${3:-}" ;;
  stop) DIR="${2:?state directory}"; stop ;;
  *) echo "usage: $0 build | built | start DIR [--pod-security-baseline] | stop DIR" >&2; exit 2 ;;
esac
