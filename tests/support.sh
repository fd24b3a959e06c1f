# Shell helpers shared by tests/interop/run.sh and tests/browser/run.sh.
# Source it; it defines functions and the arrays/counters they use.

# Installs Debian packages (a fresh machine may lack runtimes or a browser).
apt_install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@" >/dev/null
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    echo "nothing listens on port $1" >&2
    return 1
}

pids=()
stop_all() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    pids=()
}
trap stop_all EXIT

# start PORT LOG COMMAND...: runs it in the background until PORT answers.
start() {
    local port=$1 log=$2
    shift 2
    "$@" >"$log" 2>&1 &
    pids+=($!)
    wait_port "$port"
}

status=0
# result LABEL EXIT_STATUS: one line per check; any failure fails the run.
result() {
    if [ "$2" -eq 0 ]; then echo "ok      $1"; else echo "FAILED  $1"; status=1; fi
}
