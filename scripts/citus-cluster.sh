#!/usr/bin/env bash
# A local Citus cluster for the Citus test suite: a coordinator and two workers,
# each its own PostgreSQL 15 instance on 127.0.0.1, run as the postgres OS user.
#   citus-cluster.sh install         install the Citus extension files when they are missing
#   citus-cluster.sh start [DIR]     install, initialise (first time) and start; prints the coordinator URL last
#   citus-cluster.sh status          exit 0 when the coordinator answers
#   citus-cluster.sh stop  [DIR]     stop all three instances (data kept)
#   citus-cluster.sh destroy [DIR]   stop and delete the data
# DIR defaults to /tmp/citus-cluster. Ports: CITUS_PORTS (default "5441 5442 5443", the first is the coordinator).
# CITUS_TARBALL: a Citus build for PostgreSQL 15 laid out from / (usr/lib/postgresql/15/..., usr/share/postgresql/15/...),
# default /opt/citus/citus-13.2.2-pg15-amd64.tar.gz; read only when Citus is not installed yet. Needs root.
set -euo pipefail
cmd=${1:-start}
base=${2:-/tmp/citus-cluster}
read -r -a ports <<<"${CITUS_PORTS:-5441 5442 5443}"
bin=/usr/lib/postgresql/15/bin
tarball=${CITUS_TARBALL:-/opt/citus/citus-13.2.2-pg15-amd64.tar.gz}

as_postgres() { runuser -u postgres -- bash -c "$*"; }
on() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres "${@:2}"; }

install() {
  if [ -f /usr/lib/postgresql/15/lib/citus.so ] && [ -f /usr/share/postgresql/15/extension/citus.control ]; then
    return 0
  fi
  if [ ! -f "$tarball" ]; then
    echo "citus-cluster: Citus is not installed for PostgreSQL 15 and CITUS_TARBALL ($tarball) does not exist" >&2
    exit 1
  fi
  tar xzf "$tarball" -C /
  echo "citus-cluster: installed Citus from $tarball"
}

start() {
  install
  mkdir -p "$base"
  chown postgres "$base"
  for port in "${ports[@]}"; do
    local data=$base/n$port
    if [ ! -f "$data/PG_VERSION" ]; then
      as_postgres "$bin/initdb -D $data -A trust -U postgres >/dev/null"
      # fsync off: a throwaway test cluster; 200 connections: the 50-connection race test plus Citus' own
      cat >>"$data/postgresql.conf" <<EOC
shared_preload_libraries = 'citus'
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$base'
max_connections = 200
fsync = off
EOC
    fi
    if ! as_postgres "$bin/pg_ctl -D $data status" >/dev/null 2>&1; then
      as_postgres "$bin/pg_ctl -D $data -l $data/server.log -w -t 60 start" >/dev/null
    fi
  done
  for port in "${ports[@]}"; do
    on "$port" -c "create extension if not exists citus" >/dev/null
  done
  local coordinator=${ports[0]}
  on "$coordinator" -c "select citus_set_coordinator_host('127.0.0.1', $coordinator)" >/dev/null
  for port in "${ports[@]:1}"; do
    if [ "$(on "$coordinator" -tA -c "select count(*) from pg_dist_node where nodeport = $port")" = "0" ]; then
      on "$coordinator" -c "select citus_add_node('127.0.0.1', $port)" >/dev/null
    fi
  done
  echo "citus cluster up: coordinator 127.0.0.1:$coordinator, workers ${ports[*]:1}"
  echo "postgres://postgres@127.0.0.1:$coordinator/postgres"
}

stop() {
  for port in "${ports[@]}"; do
    local data=$base/n$port
    if [ -f "$data/PG_VERSION" ]; then
      as_postgres "$bin/pg_ctl -D $data -m fast -w stop" >/dev/null 2>&1 || true
    fi
  done
  echo "citus cluster stopped"
}

case "$cmd" in
  install) install ;;
  start) start ;;
  status) pg_isready -q -h 127.0.0.1 -p "${ports[0]}" ;;
  stop) stop ;;
  destroy)
    stop
    rm -rf "$base"
    echo "citus cluster removed"
    ;;
  *)
    echo "usage: citus-cluster.sh install|start|status|stop|destroy [DIR]" >&2
    exit 2
    ;;
esac
