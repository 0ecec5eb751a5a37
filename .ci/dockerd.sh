#!/usr/bin/env bash
# Starts or stops a private Docker Engine for the docker-platform tests: its own socket, data root
# and exec root under /tmp/sutra-docker, so it never touches a system daemon or its containers.
# Idempotent: `start` on a live engine only prints the socket; `stop` on a dead one does nothing.
# Usage: .ci/dockerd.sh start|stop|status   (prints the socket path on start)
set -euo pipefail

BASE="${SUTRA_DOCKER_BASE:-/tmp/sutra-docker}"
SOCK="$BASE/docker.sock"
PIDFILE="$BASE/docker.pid"
LOG="$BASE/dockerd.log"

ping_engine() {
  # /_ping answers OK once the API serves; curl may be missing on slim hosts, so fall back to docker.
  if command -v curl >/dev/null 2>&1; then
    [ "$(curl -fsS --max-time 2 --unix-socket "$SOCK" http://localhost/_ping 2>/dev/null || true)" = "OK" ]
  else
    docker -H "unix://$SOCK" version >/dev/null 2>&1
  fi
}

install_engine() {
  command -v dockerd >/dev/null 2>&1 && return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq docker.io >&2
}

start() {
  install_engine
  mkdir -p "$BASE"
  if [ -S "$SOCK" ] && ping_engine; then
    echo "$SOCK"
    return 0
  fi
  # A stale pid file or socket from a killed run would make dockerd refuse to start.
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    stop
  fi
  rm -f "$PIDFILE" "$SOCK"
  # --iptables=false: the tests publish ports on 127.0.0.1 only (docker-proxy forwards them), so no
  # NAT rules are needed and the host firewall is left alone. Extra flags via SUTRA_DOCKERD_FLAGS.
  # shellcheck disable=SC2086
  setsid dockerd \
    --host "unix://$SOCK" \
    --data-root "$BASE/root" \
    --exec-root "$BASE/exec" \
    --pidfile "$PIDFILE" \
    --iptables=false \
    ${SUTRA_DOCKERD_FLAGS:-} \
    >"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 150); do
    if [ -S "$SOCK" ] && ping_engine; then
      echo "$SOCK"
      return 0
    fi
    sleep 0.2
  done
  echo "dockerd did not answer on $SOCK within 30 s; last log lines:" >&2
  tail -n 20 "$LOG" >&2 || true
  return 1
}

stop() {
  [ -f "$PIDFILE" ] || return 0
  local pid
  pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    # dockerd stops its containers first (up to its shutdown timeout), then exits.
    for _ in $(seq 1 150); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "dockerd (pid $pid) ignored SIGTERM for 30 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$PIDFILE"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) if [ -S "$SOCK" ] && ping_engine; then echo "running $SOCK"; else echo "stopped"; exit 1; fi ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
