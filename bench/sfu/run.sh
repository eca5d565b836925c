#!/bin/bash
# Benchmarks SFU forwarding on loopback: builds if needed, starts a private atriumd on
# 127.0.0.1 (temp data dir, ICE on 127.0.0.1), runs atrium-sfubench against it (one VP8 +
# Opus publisher, then 1, 5, 10 and 20 subscribers that receive RTP without decoding) and
# prints one row per subscriber count. See bench/README.md. Env: BUILD_DIR (default
# build), BENCH_BUILD=0 (use the binaries there as they are), BENCH_SUBSCRIBERS (1,5,10,20),
# BENCH_DURATION (s measured per row, 10), BENCH_SETTLE (s, 3), BENCH_PERF=1 (then profile
# the server with perf for one more window and print where its CPU time goes). Extra
# arguments go to atrium-sfubench.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/deps.sh"
cd "$ATRIUM_ROOT"
build=${BUILD_DIR:-build}
if [[ ${BENCH_BUILD:-1} != 0 ]]; then
  atrium_deps
  if [[ $build == build ]]; then
    atrium_build
  else
    [[ -f $build/build.ninja ]] || meson setup "$build" "$ATRIUM_ROOT"
    ninja -C "$build" -j2 src/daemon/atriumd bench/sfu/atrium-sfubench
  fi
fi
atriumd=$build/src/daemon/atriumd
sfubench=$build/bench/sfu/atrium-sfubench
for f in "$atriumd" "$sfubench"; do
  [[ -x $f ]] || { echo "$f is missing: build first (or drop BENCH_BUILD=0)" >&2; exit 1; }
done

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
tmp=$(mktemp -d /tmp/atrium-sfubench.XXXXXX)
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

cat >"$tmp/atrium.conf" <<EOF
[server]
listen=127.0.0.1:$port
data-dir=$tmp/data
EOF

ATRIUM_ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export ATRIUM_ADMIN_PASSWORD
# Its own session keeps a terminal's Ctrl-C away from it: the EXIT trap stops it.
setsid "$atriumd" --config "$tmp/atrium.conf" --web-root data/web --ice-addresses 127.0.0.1 \
  >"$tmp/atriumd.log" 2>&1 &
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

echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -r)"
echo "atriumd: $("$atriumd" --version 2>/dev/null | head -n 1) (pid $server_pid) at $base, GStreamer $(gst-launch-1.0 --gst-version 2>/dev/null | awk '{ print $NF }')"

perf_args=()
if [[ ${BENCH_PERF:-0} != 0 ]]; then
  if command -v perf >/dev/null; then
    perf_args=(--perf "$tmp/perf.data")
  else
    echo "BENCH_PERF: perf is not installed (apt-get install linux-perf)" >&2
  fi
fi

# In the background so that Ctrl-C interrupts `wait`.
"$sfubench" --url "ws://127.0.0.1:$port/rpc" --pid "$server_pid" \
  --subscribers "${BENCH_SUBSCRIBERS:-1,5,10,20}" --duration "${BENCH_DURATION:-10}" \
  --settle "${BENCH_SETTLE:-3}" "${perf_args[@]}" "$@" &
load_pid=$!
rc=0
wait "$load_pid" || rc=$?
load_pid=

if ! server_alive; then
  echo "atriumd exited during the run:" >&2
  tail -n 20 "$tmp/atriumd.log" >&2
  exit 1
fi
awk -v hz="$(getconf CLK_TCK)" '
  FILENAME ~ /stat$/ { cpu = ($14 + $15) / hz; start = $22 / hz }
  FILENAME ~ /uptime$/ { up = $1 }
  FILENAME ~ /status$/ && /^VmRSS/ { rss = $2 / 1024 }
  FILENAME ~ /status$/ && /^VmHWM/ { hwm = $2 / 1024 }
  END { printf "server: cpu %.1f s (user+sys) in %.0f s, rss %.1f MiB (peak %.1f MiB)\n", cpu, up - start, rss, hwm }
' "/proc/$server_pid/stat" /proc/uptime "/proc/$server_pid/status"
if ((rc != 0)); then
  echo "atrium-sfubench failed (exit $rc); last lines of the server's log:" >&2
  tail -n 20 "$tmp/atriumd.log" >&2
  exit "$rc"
fi

if [[ -f $tmp/perf.data ]]; then
  report() { perf report -i "$tmp/perf.data" --stdio --no-children -g none "$@" 2>/dev/null |
    grep -v '^#' | grep -v '^$' | head -n 20; }
  echo
  echo "where atriumd's CPU went in the profiled window (perf, self time), by library:"
  report --sort dso --percent-limit 0.5
  echo "by symbol:"
  report --sort dso,sym --percent-limit 1
fi
