# Sourced by the bench/*/run.sh scripts: a private atriumd on a free loopback port, with a
# temp directory, stopped (with any load generator in $load_pid) when the script exits.
#   bench_start_server ATRIUMD EXTRA_CONFIG [ATRIUMD_ARGS...]
# sets base (http://127.0.0.1:PORT), port, tmp and server_pid, and exports
# ATRIUM_ADMIN_PASSWORD. bench_report_server prints the server's CPU time and memory.

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
tmp=$(mktemp -d /tmp/atrium-bench.XXXXXX)
server_pid=
load_pid=

# stop PID: SIGTERM, up to 5 s to exit, then SIGKILL.
stop() {
  kill "$1" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$1" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
# The server runs (a zombie, which kill -0 still finds, does not).
server_alive() {
  local state
  state=$(awk '{ print $3 }' "/proc/$server_pid/stat" 2>/dev/null) && [[ $state != Z ]]
}
cleanup() {
  [[ -z $load_pid ]] || stop "$load_pid"
  [[ -z $server_pid ]] || stop "$server_pid"
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_start_server() {
  local atriumd=$1 extra=$2
  shift 2
  printf '[server]\nlisten=127.0.0.1:%s\ndata-dir=%s/data\n%s' "$port" "$tmp" "$extra" >"$tmp/atrium.conf"
  ATRIUM_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  export ATRIUM_ADMIN_PASSWORD
  # Its own session keeps a terminal's Ctrl-C away from it: the EXIT trap stops it.
  setsid "$atriumd" --config "$tmp/atrium.conf" --web-root data/web "$@" >"$tmp/atriumd.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    if ! server_alive; then
      echo "atriumd exited:" >&2
      cat "$tmp/atriumd.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  curl -fsS "$base/healthz" >/dev/null || { echo "atriumd did not answer /healthz" >&2; exit 1; }
}

bench_report_server() {
  awk -v hz="$(getconf CLK_TCK)" '
    FILENAME ~ /stat$/ { cpu = ($14 + $15) / hz; start = $22 / hz }
    FILENAME ~ /uptime$/ { up = $1 }
    FILENAME ~ /status$/ && /^VmRSS/ { rss = $2 / 1024 }
    FILENAME ~ /status$/ && /^VmHWM/ { hwm = $2 / 1024 }
    END { printf "server: cpu %.1f s (user+sys) in %.0f s, rss %.1f MiB (peak %.1f MiB)\n", cpu, up - start, rss, hwm }
  ' "/proc/$server_pid/stat" /proc/uptime "/proc/$server_pid/status"
}
