# Processes a script starts, each tracked by pid and stopped by pid — shared by bench/run.sh,
# bench/profile.sh, bench/idle_conns.sh and scripts/soak.sh (source it; bash only).
#   STARTED_PIDS        pids to stop at exit: append "$!" after starting something
#   stop_started_pids   SIGTERM to every tracked pid, then waits for each (for an EXIT trap)
#   stop_pid PID        SIGTERM, SIGKILL after 5 s, reaped and forgotten
#   forget_pid PID      no longer tracked (it was stopped some other way)
#   wait_port PORT [S]  0 once 127.0.0.1:PORT accepts, 1 after S seconds (default 5)
#   port_free PORT      0 when nothing accepts on 127.0.0.1:PORT

declare -a STARTED_PIDS=()

stop_started_pids() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}

forget_pid() {
  local keep=() p
  for p in "${STARTED_PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
  STARTED_PIDS=("${keep[@]}")
}

stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  forget_pid "$pid"
}

wait_port() {
  local port=$1 tries=$((${2:-5} * 40)) i
  for ((i = 0; i < tries; i++)); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.025
  done
  return 1
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
