# Sourced by the bench scripts that start processes themselves: each one is started with setsid (its own process
# group), its PID appended to STARTED, and the whole group is stopped at exit (TERM, then KILL after 5 s) — only what
# the script started, by PID.
declare -a STARTED=()
stop_started() {
  local rc=$?
  for pid in "${STARTED[@]:-}"; do
    [[ -n "$pid" ]] || continue
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  exit $rc
}
trap stop_started EXIT INT TERM
# wait_port PORT SECONDS: until something listens on 127.0.0.1:PORT, or fail after SECONDS.
wait_port() { local deadline=$(( $(date +%s) + $2 )); until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do (( $(date +%s) < deadline )) || return 1; sleep 0.2; done; }
