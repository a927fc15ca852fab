#!/usr/bin/env bash
# Installs the pinned moto server into the project's own virtual environment (.venv) when missing.
# Usage: scripts/moto.sh install          -> prints nothing, exits 0 when moto is ready
#        scripts/moto.sh start PIDFILE    -> starts moto on a free loopback port, prints its URL
set -euo pipefail
cd "$(dirname "$0")/.."
MOTO_VERSION="5.2.5"
VENV=".venv"

install_moto() {
  if [ -x "$VENV/bin/moto_server" ] && "$VENV/bin/python" -c "import moto,sys; sys.exit(moto.__version__!='$MOTO_VERSION')" 2>/dev/null; then
    return 0
  fi
  echo "Installing moto[server]==$MOTO_VERSION into $VENV ..." >&2
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

start_moto() {
  local pidfile="$1" port log
  install_moto
  port=$(free_port)
  log="${MOTO_LOG:-target/moto.log}"
  mkdir -p "$(dirname "$log")"
  # MOTO_ECS_SERVICE_RUNNING is a count (moto/ecs/models.py reads it with int()): every new service reports that
  # many running tasks, and its PRIMARY deployment is COMPLETED when the count reaches its desiredCount. With 1,
  # services created with desiredCount 1 are stable at once, so ECS waiters finish; larger ones stay IN_PROGRESS.
  MOTO_ECS_SERVICE_RUNNING=1 "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    if curl -sf "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1 \
       || python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/')" 2>/dev/null; then
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.2
  done
  echo "moto did not start; see $log" >&2
  kill "$(cat "$pidfile")" 2>/dev/null || true
  return 1
}

case "${1:-}" in
  install) install_moto ;;
  start) start_moto "${2:?pidfile}" ;;
  *) echo "usage: $0 install | start PIDFILE" >&2; exit 2 ;;
esac
