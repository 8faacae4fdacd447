#!/usr/bin/env bash
# A throwaway PostgreSQL server from Debian's packages, for tests, benchmarks and scripts/cluster.sh.
#
#   scripts/postgres.sh start DIR   initialise (first time) and start a server under DIR/pg; prints its Npgsql
#                                   connection string (database "gatehouse", created) once it accepts connections
#   scripts/postgres.sh url DIR     prints the connection string of the server under DIR
#   scripts/postgres.sh stop DIR    stops the server under DIR (pg_ctl stop -m fast); nothing running is not an error
#
# THROWAWAY ONLY: the server trusts every connection to 127.0.0.1 as the "postgres" superuser, with no password.
# It listens on 127.0.0.1 only, on a free port picked here (another is tried if the port is taken meanwhile), with its
# unix socket inside DIR/pg. initdb and pg_ctl refuse to run as root: as root they run as the "postgres" user, and
# DIR/pg is owned by it (DIR itself is made traversable for it; when a parent of DIR is closed to that user, the
# server lives in ${TMPDIR:-/tmp}/gatehouse-pg.XXXXXX and DIR/pg is a link to it: remove both when done).
# GATEHOUSE_PG_NOSYNC=1 turns fsync, synchronous commits and full-page writes off (faster tests; a crash of the
# machine loses the data, which a throwaway server does not mind). Benchmarks should leave it unset.
# The script never installs PostgreSQL: `apt-get install -y postgresql` does (CI's .ci/run does it).
set -euo pipefail

usage() {
  sed -n '2,16s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

die() { echo "postgres.sh: $*" >&2; exit 1; }

[[ $# -eq 2 ]] || usage
command=$1
[[ -n "$2" ]] || usage
mkdir -p "$2"
DIR="$(cd "$2" && pwd)"
PG="$DIR/pg"
# DIR/pg is a link when the server had to live elsewhere (see init_cluster): the server is given the real path.
[[ -L "$PG" ]] && PG="$(readlink -f "$PG")"
DATA="$PG/data"

# The highest installed major version's binaries.
pg_bin() {
  local initdb
  initdb=$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)
  if [[ ! -x "$initdb" ]]; then
    die "PostgreSQL is not installed (no /usr/lib/postgresql/<version>/bin/initdb). Install it with: apt-get install -y postgresql"
  fi
  dirname "$initdb"
}

# Runs a server-side command as the postgres user when we are root (initdb and pg_ctl refuse root).
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

conn_string() { echo "Host=127.0.0.1;Port=$1;Username=postgres;Database=${2:-gatehouse}"; }

port_is_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port below the usual ephemeral range (32768+), so outgoing connections do not take it meanwhile.
pick_port() {
  local port
  for _ in $(seq 1 100); do
    port=$(( 20000 + RANDOM % 12000 ))
    port_is_taken "$port" || { echo "$port"; return 0; }
  done
  die "no free port found between 20000 and 32000"
}

is_running() { [[ -f "$DATA/PG_VERSION" ]] && as_owner "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1; }

init_cluster() {
  if [[ $(id -u) -eq 0 ]]; then
    chmod a+x "$DIR"
    if ! runuser -u postgres -- test -x "$DIR"; then
      # A parent of DIR is closed to other users (a 0700 temp dir of a test, say): the server lives in a directory of
      # its own under the temp dir, and DIR/pg links to it. Whoever removes DIR removes the link's target too.
      PG="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-pg.XXXXXX")"
      chmod 755 "$PG"
      ln -sfn "$PG" "$DIR/pg"
      DATA="$PG/data"
    fi
    mkdir -p "$PG"
    chown postgres: "$PG"
    runuser -u postgres -- test -w "$PG" \
      || die "the postgres user cannot write $PG (is a parent of it closed to other users?); use a directory under /tmp"
  else
    mkdir -p "$PG"
  fi
  rm -rf "$DATA"
  as_owner "$BIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$PG/initdb.log" 2>&1 \
    || { tail -n 20 "$PG/initdb.log" >&2; die "initdb failed (log: $PG/initdb.log)"; }
  # Settings that do not change between starts; the port is given at each start (it may have to change).
  {
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$PG'"
    echo "max_connections = 200"
    echo "shared_buffers = 64MB"
    if [[ "${GATEHOUSE_PG_NOSYNC:-0}" == 1 ]]; then
      echo "fsync = off"
      echo "synchronous_commit = off"
      echo "full_page_writes = off"
    fi
  } | as_owner tee -a "$DATA/postgresql.conf" >/dev/null
  # Only host connections to 127.0.0.1 (and the socket in DIR/pg), all trusted: throwaway.
  printf '%s\n' \
    'local all all trust' \
    'host  all all 127.0.0.1/32 trust' | as_owner tee "$DATA/pg_hba.conf" >/dev/null
}

start() {
  if is_running; then
    conn_string "$(cat "$PG/port")"
    return 0
  fi
  [[ -f "$DATA/PG_VERSION" ]] || init_cluster

  local port attempt
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    if as_owner "$BIN/pg_ctl" start -D "$DATA" -w -t 30 -l "$PG/server.log" -o "-p $port" >/dev/null 2>&1; then
      echo "$port" >"$PG/port"
      break
    fi
    # Someone took the port between the check and the bind: try another; any other failure is final.
    if grep -q 'could not bind\|Address already in use\|could not create any TCP/IP sockets' "$PG/server.log" 2>/dev/null \
        && [[ $attempt -lt 5 ]]; then
      continue
    fi
    tail -n 20 "$PG/server.log" >&2 || true
    die "the server did not start (log: $PG/server.log)"
  done

  # pg_ctl -w has waited for connections; the database the silos use is created once.
  local exists
  exists="$("$BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -XAtq \
    -c "SELECT 1 FROM pg_database WHERE datname = 'gatehouse'")"
  if [[ "$exists" != 1 ]]; then
    "$BIN/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -Xq -v ON_ERROR_STOP=1 \
      -c 'CREATE DATABASE gatehouse' >/dev/null
  fi
  conn_string "$port"
}

stop() {
  [[ -f "$DATA/PG_VERSION" ]] || return 0
  if is_running; then
    as_owner "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 30 >/dev/null
  fi
}

url() {
  [[ -f "$PG/port" ]] || die "no server was started under $DIR"
  conn_string "$(cat "$PG/port")"
}

BIN=$(pg_bin)
case "$command" in
  start) start ;;
  stop) stop ;;
  url) url ;;
  *) usage ;;
esac
