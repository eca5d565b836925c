#!/bin/bash
# Benchmarks the JSON-RPC control plane on loopback: builds if needed, starts a private
# atriumd on 127.0.0.1 (temp data dir, rate limits raised), runs wrk over HTTP and
# atrium-wsbench over one WebSocket, and prints one line per run and the server's CPU and
# memory. See bench/README.md. Env: BENCH_DURATION (s, default 10), BENCH_WINDOW (32),
# BENCH_BUILD=0 (use the binaries in build/ as they are).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/deps.sh"
cd "$ATRIUM_ROOT"
if [[ ${BENCH_BUILD:-1} != 0 ]]; then
  atrium_deps
  atrium_build
fi

duration=${BENCH_DURATION:-10}
window=${BENCH_WINDOW:-32}
source bench/server.sh
bench_start_server build/src/daemon/atriumd "$(printf '[limits]\nrequests-per-second=10000000\nrequest-burst=10000000\n')"

# rpc METHOD PARAMS_JSON: prints the reply; fails on an HTTP error.
rpc() {
  curl -fsS "$base/rpc" -H 'Content-Type: application/json' ${token:+-H "Authorization: Bearer $token"} \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}"
}
token=
token=$(rpc auth.login "{\"account\":\"admin\",\"password\":\"$ATRIUM_ADMIN_PASSWORD\"}" |
  python3 -c 'import json, sys; r = json.load(sys.stdin); print(r["result"]["token"]) if "result" in r else sys.exit("auth.login: %s" % r)')
for i in 1 2 3 4 5; do
  reply=$(rpc room.create "{\"name\":\"bench-$i\",\"mode\":\"sfu\",\"type\":1,\"definition\":\"720p\",\"numberLimit\":16,\"isPublic\":true}")
  [[ $reply == *'"result"'* ]] || echo "room.create: $reply" >&2
done

clk_tck=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }

# run LABEL COMMAND...: runs one load generator, keeps its summary line, adds the server's
# CPU use during the run (100% = one core busy).
run() {
  local t0 w0 line
  t0=$(cpu_ticks)
  w0=$(date +%s.%N)
  # In the background so that Ctrl-C interrupts `wait` (wrk would absorb it and return 0).
  "$@" >"$tmp/run.out" 2>&1 &
  load_pid=$!
  wait "$load_pid" || true
  load_pid=
  if ! server_alive; then
    echo "atriumd exited during: $*" >&2
    tail -n 20 "$tmp/atriumd.log" >&2
    exit 1
  fi
  line=$(grep -E '^(http|ws) ' "$tmp/run.out" | tail -n 1 || true)
  if [[ -z $line ]]; then
    line="$1: no result"
    sed 's/^/  /' "$tmp/run.out" >&2
  fi
  line+=$(awk -v t="$(($(cpu_ticks) - t0))" -v hz="$clk_tck" -v w0="$w0" -v w1="$(date +%s.%N)" \
    'BEGIN { printf ", server cpu %.0f%%", 100 * t / hz / (w1 - w0) }')
  echo "$line"
}

echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "atriumd: $(build/src/daemon/atriumd --version 2>/dev/null | head -n 1) at $base, ${duration}s per run, ws window $window"
ATRIUM_TOKEN='' run wrk -t1 -c8 -d"${duration}s" -s bench/rpc/ping.lua "$base/rpc"
ATRIUM_TOKEN=$token run wrk -t1 -c8 -d"${duration}s" -s bench/rpc/rooms.lua "$base/rpc"
run build/bench/atrium-wsbench --url "ws://127.0.0.1:$port/rpc" --method server.ping \
  --duration "$duration" --window "$window" --connections 1
run build/bench/atrium-wsbench --url "ws://127.0.0.1:$port/rpc" --method room.list --params '{}' \
  --token "$token" --duration "$duration" --window "$window" --connections 1

bench_report_server
