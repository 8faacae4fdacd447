#!/usr/bin/env bash
# The docker-compose topology as local processes: a throwaway PostgreSQL (schema applied) and N silos sharing it.
#
#   scripts/cluster.sh up N [--config FILE]  build once, start PostgreSQL, apply the schema, start N silos; returns
#                                            when all N are ready
#   scripts/cluster.sh status                the same lines for what runs now, each silo line ending "up" or "down"
#   scripts/cluster.sh kill I                SIGKILL silo I (a crash: no shutdown)
#   scripts/cluster.sh stop I                SIGTERM silo I (a graceful shutdown); returns when it has exited
#   scripts/cluster.sh start I               start silo I again on its ports; returns when it is ready
#   scripts/cluster.sh down                  stop everything it started and remove its files (nothing up: no error)
#
# up and status print one line per silo and one for PostgreSQL (progress goes to stderr):
#   silo I http=http://127.0.0.1:P gateway=127.0.0.1:G pid=PID
#   postgres=Host=127.0.0.1;Port=P;Username=postgres;Database=gatehouse
#
# FILE's Gatehouse section (providers, models, apps, cache, admin key) is used as it is; the cluster and storage
# settings and the ports are added as Gatehouse__ environment variables, which win over the file. Without --config
# the silos run the embedded demo (app key gk-local-dev, alias "sim"). Secrets written env:NAME in FILE are read by
# the silos from the environment this script is called with.
#
# Environment:
#   GATEHOUSE_CLUSTER_DIR      where state, logs and PostgreSQL live (default: a fresh temp dir, remembered in
#                              ${TMPDIR:-/tmp}/gatehouse-cluster.current for later commands)
#   GATEHOUSE_SILO_DLL         a built Gatehouse.Silo.dll to run (default: dotnet build src/Silo -c Release, once)
#   GATEHOUSE_CLUSTER_TIMEOUT  seconds a silo may take to become ready (default 120)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
POINTER="${TMPDIR:-/tmp}/gatehouse-cluster.current"
READY_TIMEOUT="${GATEHOUSE_CLUSTER_TIMEOUT:-120}"
MIGRATE_TIMEOUT=60
STOP_TIMEOUT=15

usage() {
  sed -n '2,27s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

say() { echo "cluster.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# --- state ---------------------------------------------------------------------------------------------------------
# DIR/cluster.env    N, SILO_DLL, CONFIG, POSTGRES, CREATED_DIR (shell assignments, written with %q)
# DIR/silo-I.env     HTTP_PORT, GATEWAY_PORT, SILO_PORT of silo I (kept for "start I")
# DIR/silo-I.pid     the PID of silo I's dotnet process;  DIR/silo-I.log  its output, appended at each start
# DIR/config.json    a copy of FILE taken at "up", so a restarted silo reads what the others read
# DIR/pg/            the PostgreSQL server (scripts/postgres.sh)

DIR=""

# The state directory of the cluster that is up (empty when there is none).
find_state() {
  if [[ -n "${GATEHOUSE_CLUSTER_DIR:-}" ]]; then
    DIR="$GATEHOUSE_CLUSTER_DIR"
  elif [[ -f "$POINTER" ]]; then
    DIR="$(cat "$POINTER")"
  fi
  if [[ -n "$DIR" && -f "$DIR/cluster.env" ]]; then
    DIR="$(cd "$DIR" && pwd)"
    # shellcheck source=/dev/null
    source "$DIR/cluster.env"
    return 0
  fi
  DIR=""
  return 1
}

need_state() {
  find_state || die "no cluster is up (GATEHOUSE_CLUSTER_DIR is ${GATEHOUSE_CLUSTER_DIR:-unset}; ${POINTER} names none); run: $0 up N"
}

silo_index() {
  if ! [[ "$1" =~ ^[1-9][0-9]*$ ]] || (( $1 > N )); then
    die "no silo '$1': silos are numbered 1 to $N"
  fi
}

load_silo() {
  # shellcheck source=/dev/null
  source "$DIR/silo-$1.env"
  PID="$(cat "$DIR/silo-$1.pid" 2>/dev/null || echo 0)"
}

# --- processes -----------------------------------------------------------------------------------------------------

# True while PID is a live (not zombie) process running this cluster's silo DLL: a reused PID is never ours.
is_ours() {
  local pid=$1 state cmdline
  [[ "$pid" =~ ^[0-9]+$ && "$pid" -gt 0 && -r "/proc/$pid/cmdline" ]] || return 1
  # The state is the field after the command name, which is in parentheses and may hold spaces.
  state="$(sed 's/.*) //; s/ .*//' "/proc/$pid/stat" 2>/dev/null || echo Z)"
  [[ -n "$state" && "$state" != Z ]] || return 1
  cmdline="$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  grep -qxF "$SILO_DLL" <<<"$cmdline"
}

# Stops the given PIDs (only ours): SIGTERM, then SIGKILL for whatever still runs after STOP_TIMEOUT seconds.
stop_pids() {
  local pid pending=() deadline
  for pid in "$@"; do
    if is_ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      pending+=("$pid")
    fi
  done
  deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  while (( $(date +%s) < deadline )); do
    local alive=0
    for pid in "${pending[@]}"; do is_ours "$pid" && alive=1; done
    (( alive )) || return 0
    sleep 0.2
  done
  for pid in "${pending[@]}"; do
    if is_ours "$pid"; then
      say "pid $pid did not stop within ${STOP_TIMEOUT}s of SIGTERM: SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      local gone=$(( $(date +%s) + 5 ))
      while is_ours "$pid" && (( $(date +%s) < gone )); do sleep 0.1; done
    fi
  done
}

port_is_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A free port below the usual ephemeral range (32768+), not in the space-separated list $1.
pick_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( 20000 + RANDOM % 12000 ))
    [[ " $1 " == *" $port "* ]] && continue
    port_is_taken "$port" && continue
    echo "$port"
    return 0
  done
  die "no free port found between 20000 and 32000"
}

# Every port this cluster has recorded (PostgreSQL's and the silos'), so new ones are distinct from them.
recorded_ports() {
  local f ports=""
  [[ -f "$DIR/pg/port" ]] && ports="$(cat "$DIR/pg/port")"
  for f in "$DIR"/silo-*.env; do
    [[ -f "$f" ]] || continue
    ports+=" $(sed -n 's/^[A-Z_]*_PORT=//p' "$f" | tr '\n' ' ')"
  done
  echo "$ports"
}

assign_ports() {
  local i=$1 used http gateway silo
  used="$(recorded_ports)"
  http="$(pick_port "$used")"; used+=" $http"
  gateway="$(pick_port "$used")"; used+=" $gateway"
  silo="$(pick_port "$used")"
  printf 'HTTP_PORT=%s\nGATEWAY_PORT=%s\nSILO_PORT=%s\n' "$http" "$gateway" "$silo" >"$DIR/silo-$i.env"
}

# The environment every silo (and the schema step) gets on top of the caller's.
gatehouse_env() {
  ENV_ARGS=(
    "Gatehouse__Cluster__Kind=AdoNet"
    "Gatehouse__Cluster__ConnectionString=$POSTGRES"
    "Gatehouse__Storage__Kind=PostgreSql"
    "Gatehouse__Storage__ConnectionString=$POSTGRES"
  )
  if [[ -n "$CONFIG" ]]; then
    ENV_ARGS=("GATEHOUSE_CONFIG=$CONFIG" "${ENV_ARGS[@]}")
  else
    ENV_ARGS=(-u GATEHOUSE_CONFIG "${ENV_ARGS[@]}")
  fi
}

# Starts silo I detached (own session, no terminal) on its recorded ports; sets LOG_OFFSET to where its output begins.
launch_silo() {
  local i=$1 log="$DIR/silo-$1.log"
  load_silo "$i"
  gatehouse_env
  echo "=== cluster.sh: silo $i starting $(date '+%Y-%m-%dT%H:%M:%S%z') ===" >>"$log"
  LOG_OFFSET=$(( $(stat -c %s "$log") + 1 ))
  # The silo's content root (appsettings.json) is the directory it runs from: the DLL's.
  (
    cd "$(dirname "$SILO_DLL")"
    exec setsid env "${ENV_ARGS[@]}" \
      "Gatehouse__Cluster__SiloPort=$SILO_PORT" "Gatehouse__Cluster__GatewayPort=$GATEWAY_PORT" \
      dotnet "$SILO_DLL" --urls "http://127.0.0.1:$HTTP_PORT" </dev/null >>"$log" 2>&1
  ) &
  echo "$!" >"$DIR/silo-$i.pid"
}

# Waits until silo I prints its ready line (after byte $2 of its log). Returns 0 ready, 1 failed, 3 a port was taken.
wait_ready() {
  local i=$1 offset=$2 pid log="$DIR/silo-$1.log" deadline
  pid="$(cat "$DIR/silo-$i.pid")"
  deadline=$(( $(date +%s) + READY_TIMEOUT ))
  while :; do
    # (grep reads from a process substitution: under pipefail, tail cut off by grep -q would fail a pipeline.)
    if grep -q '^Gatehouse listening on http' <(tail -c "+$offset" "$log"); then
      return 0
    fi
    if ! is_ours "$pid"; then
      if grep -q 'a port it needs is taken' <(tail -c "+$offset" "$log"); then
        return 3
      fi
      say "silo $i (pid $pid) exited before it was ready; the end of $log:"
      tail -c "+$offset" "$log" | tail -n 30 >&2
      return 1
    fi
    if (( $(date +%s) >= deadline )); then
      say "silo $i (pid $pid) was not ready within ${READY_TIMEOUT}s; the end of $log:"
      tail -c "+$offset" "$log" | tail -n 30 >&2
      stop_pids "$pid"
      return 1
    fi
    sleep 0.2
  done
}

silo_line() {
  load_silo "$1"
  echo "silo $1 http=http://127.0.0.1:$HTTP_PORT gateway=127.0.0.1:$GATEWAY_PORT pid=$PID"
}

# "up" when the process runs and (if curl is here to ask) /readyz answers 200.
silo_state() {
  load_silo "$1"
  is_ours "$PID" || { echo down; return; }
  if command -v curl >/dev/null; then
    local code
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 "http://127.0.0.1:$HTTP_PORT/readyz" || true)"
    [[ "$code" == 200 ]] || { echo down; return; }
  fi
  echo up
}

# --- commands ------------------------------------------------------------------------------------------------------

teardown() {
  local pids=() f
  for f in "$DIR"/silo-*.pid; do
    [[ -f "$f" ]] && pids+=("$(cat "$f")")
  done
  (( ${#pids[@]} == 0 )) || stop_pids "${pids[@]}"
  "$HERE/postgres.sh" stop "$DIR" || say "PostgreSQL under $DIR/pg did not stop cleanly"
  # postgres.sh puts the server outside DIR (and links DIR/pg to it) when the postgres user cannot reach DIR.
  if [[ -L "$DIR/pg" ]]; then
    local target
    target="$(readlink -f "$DIR/pg")"
    [[ "$(basename "$target")" == gatehouse-pg.* ]] && rm -rf "$target"
  fi
  if [[ "${CREATED_DIR:-0}" == 1 && "$(basename "$DIR")" == gatehouse-cluster.* ]]; then
    rm -rf "$DIR"
  else
    rm -rf "$DIR/pg" "$DIR"/silo-*.env "$DIR"/silo-*.pid "$DIR"/silo-*.log \
      "$DIR/config.json" "$DIR/build.log" "$DIR/migrate.log" "$DIR/cluster.env"
  fi
  if [[ -f "$POINTER" && "$(cat "$POINTER")" == "$DIR" ]]; then
    rm -f "$POINTER"
  fi
}

cmd_up() {
  [[ $# -ge 1 && "$1" =~ ^[1-9][0-9]*$ ]] || usage
  N=$1; shift
  (( N <= 50 )) || die "at most 50 silos"
  local file=""
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --config) [[ $# -ge 2 ]] || usage; file="$2"; shift 2 ;;
      *) usage ;;
    esac
  done
  if [[ -n "$file" ]]; then
    [[ -f "$file" ]] || die "--config $file: no such file"
    file="$(cd "$(dirname "$file")" && pwd)/$(basename "$file")"
    if command -v jq >/dev/null; then
      jq -e . "$file" >/dev/null 2>&1 || die "--config $file is not valid JSON"
    elif command -v python3 >/dev/null; then
      python3 -m json.tool "$file" >/dev/null 2>&1 || die "--config $file is not valid JSON"
    fi
  fi

  if find_state; then
    die "a cluster is already up in $DIR; run: $0 down"
  fi
  CREATED_DIR=0
  if [[ -n "${GATEHOUSE_CLUSTER_DIR:-}" ]]; then
    mkdir -p "$GATEHOUSE_CLUSTER_DIR"
    DIR="$(cd "$GATEHOUSE_CLUSTER_DIR" && pwd)"
  else
    DIR="$(mktemp -d "${TMPDIR:-/tmp}/gatehouse-cluster.XXXXXX")"
    CREATED_DIR=1
    echo "$DIR" >"$POINTER"
  fi
  # From here on a failure stops what was started and removes the state.
  trap 'say "up failed: stopping what it started"; teardown' EXIT

  if [[ -n "${GATEHOUSE_SILO_DLL:-}" ]]; then
    [[ -f "$GATEHOUSE_SILO_DLL" ]] || die "GATEHOUSE_SILO_DLL=$GATEHOUSE_SILO_DLL: no such file"
    SILO_DLL="$(cd "$(dirname "$GATEHOUSE_SILO_DLL")" && pwd)/$(basename "$GATEHOUSE_SILO_DLL")"
  else
    say "building src/Silo (Release)"
    dotnet build "$REPO/src/Silo" -c Release -nologo -v quiet >"$DIR/build.log" 2>&1 \
      || { tail -n 30 "$DIR/build.log" >&2; die "the build failed (log above)"; }
    SILO_DLL="$REPO/src/Silo/bin/Release/net10.0/Gatehouse.Silo.dll"
  fi

  CONFIG=""
  if [[ -n "$file" ]]; then
    cp "$file" "$DIR/config.json"
    CONFIG="$DIR/config.json"
  fi

  say "starting PostgreSQL under $DIR/pg"
  POSTGRES="$("$HERE/postgres.sh" start "$DIR")"
  printf '%s=%q\n' N "$N" SILO_DLL "$SILO_DLL" CONFIG "$CONFIG" POSTGRES "$POSTGRES" CREATED_DIR "$CREATED_DIR" \
    >"$DIR/cluster.env"

  say "applying the schema (dotnet Gatehouse.Silo.dll migrate)"
  gatehouse_env
  if ! (cd "$(dirname "$SILO_DLL")" && timeout "$MIGRATE_TIMEOUT" env "${ENV_ARGS[@]}" dotnet "$SILO_DLL" migrate \
      </dev/null >"$DIR/migrate.log" 2>&1); then
    tail -n 30 "$DIR/migrate.log" >&2
    die "the schema step failed (log above; a timeout after ${MIGRATE_TIMEOUT}s counts as failure)"
  fi

  local i rc attempt offsets=()
  say "starting $N silo(s)"
  for (( i = 1; i <= N; i++ )); do
    assign_ports "$i"
    launch_silo "$i"
    offsets[i]=$LOG_OFFSET
  done
  for (( i = 1; i <= N; i++ )); do
    for attempt in 1 2 3; do
      rc=0
      wait_ready "$i" "${offsets[i]}" || rc=$?
      (( rc == 3 )) || break
      # Another process took a port between our check and the silo's bind: new ports, once more.
      (( attempt < 3 )) || { say "silo $i: its ports were taken three times"; rc=1; break; }
      say "silo $i: a port was taken meanwhile; trying new ports"
      assign_ports "$i"
      launch_silo "$i"
      offsets[i]=$LOG_OFFSET
    done
    (( rc == 0 )) || exit 1
  done
  trap - EXIT

  for (( i = 1; i <= N; i++ )); do silo_line "$i"; done
  echo "postgres=$POSTGRES"
}

cmd_status() {
  [[ $# -eq 0 ]] || usage
  need_state
  local i
  for (( i = 1; i <= N; i++ )); do
    echo "$(silo_line "$i") $(silo_state "$i")"
  done
  echo "postgres=$POSTGRES"
}

cmd_kill() {
  [[ $# -eq 1 ]] || usage
  need_state
  silo_index "$1"
  load_silo "$1"
  if is_ours "$PID"; then
    kill -KILL "$PID"
    local deadline=$(( $(date +%s) + 10 ))
    while is_ours "$PID" && (( $(date +%s) < deadline )); do sleep 0.1; done
  else
    say "silo $1 was not running"
  fi
  echo "$(silo_line "$1") $(silo_state "$1")"
}

cmd_stop() {
  [[ $# -eq 1 ]] || usage
  need_state
  silo_index "$1"
  load_silo "$1"
  if is_ours "$PID"; then
    stop_pids "$PID"
  else
    say "silo $1 was not running"
  fi
  echo "$(silo_line "$1") $(silo_state "$1")"
}

cmd_start() {
  [[ $# -eq 1 ]] || usage
  need_state
  silo_index "$1"
  load_silo "$1"
  if is_ours "$PID"; then
    say "silo $1 is already running"
    silo_line "$1"
    return 0
  fi
  launch_silo "$1"
  local rc=0
  wait_ready "$1" "$LOG_OFFSET" || rc=$?
  if (( rc == 3 )); then
    load_silo "$1"
    die "silo $1 cannot start: one of its ports (http $HTTP_PORT, gateway $GATEWAY_PORT, silo $SILO_PORT) is taken; see $DIR/silo-$1.log"
  fi
  (( rc == 0 )) || exit 1
  silo_line "$1"
}

cmd_down() {
  [[ $# -eq 0 ]] || usage
  if ! find_state; then
    say "no cluster is up; nothing to stop"
    # A pointer to a directory that no longer holds a cluster is stale.
    [[ -z "${GATEHOUSE_CLUSTER_DIR:-}" ]] && rm -f "$POINTER"
    return 0
  fi
  teardown
  say "stopped $N silo(s) and PostgreSQL; removed the state under $DIR"
}

[[ $# -ge 1 ]] || usage
command=$1; shift
case "$command" in
  up) cmd_up "$@" ;;
  status) cmd_status "$@" ;;
  kill) cmd_kill "$@" ;;
  stop) cmd_stop "$@" ;;
  start) cmd_start "$@" ;;
  down) cmd_down "$@" ;;
  -h|--help|help) usage ;;
  *) say "unknown command '$command'"; usage ;;
esac
