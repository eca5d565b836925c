#!/bin/bash
# Compares SFU forwarding in atriumd with Janus's VideoRoom on this machine, in one run:
# installs Janus (Debian's `janus`) if missing, builds, then in a private network namespace
# (../shared/tools/netns-run: only `lo`, plus a veth `jlo` with 10.200.0.1 and 10.200.0.2
# that leads nowhere) runs atrium-sfubench against a private atriumd and then, with
# --janus, against a private Janus (bench/sfu/janus/: VideoRoom and the WebSocket API only,
# API on 127.0.0.1, ICE on jlo only, no STUN), with the same publisher and subscriber
# counts, and prints both tables and a side-by-side summary. Janus never gathers on a
# loopback interface, hence jlo: traffic to its addresses is local to the namespace.
# See bench/README.md. Env as for run.sh: BUILD_DIR, BENCH_BUILD=0, BENCH_SUBSCRIBERS,
# BENCH_DURATION, BENCH_SETTLE; BENCH_ROUNDS (1) repeats both servers, alternating.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/deps.sh"
cd "$ATRIUM_ROOT"
build=${BUILD_DIR:-build}
if [[ ${BENCH_BUILD:-1} != 0 ]]; then
  ATRIUM_DEPS+=(janus)  # the comparison's own dependency, not the tests'
  atrium_deps
  if [[ $build == build ]]; then
    atrium_build
  else
    [[ -f $build/build.ninja ]] || meson setup "$build" "$ATRIUM_ROOT"
    ninja -C "$build" -j2 src/daemon/atriumd bench/sfu/atrium-sfubench
  fi
fi
command -v janus >/dev/null || { echo "janus is not installed (apt-get install janus)" >&2; exit 1; }

if [[ -z ${BENCH_IN_NETNS:-} ]]; then
  netns_run=$ATRIUM_ROOT/../shared/tools/netns-run
  [[ -x $netns_run ]] || { echo "$netns_run is missing: it gives the run its own network namespace" >&2; exit 1; }
  BENCH_IN_NETNS=1 BENCH_BUILD=0 exec "$netns_run" "$0" "$@"
fi
# In the namespace: Janus's ICE addresses on a veth (its peer end is up, so it counts as
# up; nothing is attached to it), IPv6 off there so the kernel sends nothing on it.
ip link add jlo type veth peer name jlop
sysctl -qw net.ipv6.conf.jlo.disable_ipv6=1 net.ipv6.conf.jlop.disable_ipv6=1
ip addr add 10.200.0.1/32 dev jlo
ip addr add 10.200.0.2/32 dev jlo
ip link set jlop up
ip link set jlo up
atriumd=$build/src/daemon/atriumd
sfubench=$build/bench/sfu/atrium-sfubench
for f in "$atriumd" "$sfubench"; do
  [[ -x $f ]] || { echo "$f is missing: build first (or drop BENCH_BUILD=0)" >&2; exit 1; }
done

source bench/server.sh
janus_pid=
trap 'cleanup; [[ -z $janus_pid ]] || stop "$janus_pid"' EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_args=(--subscribers "${BENCH_SUBSCRIBERS:-1,5,10,20}" --duration "${BENCH_DURATION:-10}"
  --settle "${BENCH_SETTLE:-3}")

# run_load NAME SUMMARY ARGS...: atrium-sfubench in the background (Ctrl-C interrupts wait).
run_load() {
  local name=$1 summary=$2
  shift 2
  echo
  echo "== $name"
  "$sfubench" "${bench_args[@]}" --summary "$summary" "$@" &
  load_pid=$!
  local rc=0
  wait "$load_pid" || rc=$?
  load_pid=
  return "$rc"
}

run_atrium() {
  bench_start_server "$atriumd" "" --ice-addresses 127.0.0.1
  echo "atriumd: $("$atriumd" --version 2>/dev/null | head -n 1) (pid $server_pid), GStreamer $(gst-launch-1.0 --gst-version 2>/dev/null | awk '{ print $NF }')"
  run_load atriumd "$tmp/atrium.$1" --url "ws://127.0.0.1:$port/rpc" --pid "$server_pid" || {
    tail -n 20 "$tmp/atriumd.log" >&2
    exit 1
  }
  bench_report_server
  stop "$server_pid"
  server_pid=
}

run_janus() {
  local dir=$tmp/janus jport
  jport=$(free_port)
  rm -rf "$dir"
  mkdir -p "$dir"
  cp bench/sfu/janus/*.jcfg "$dir/"
  sed -i "s/ws_port = [0-9]*/ws_port = $jport/" "$dir/janus.transport.websockets.jcfg"
  (cd "$dir" && exec setsid janus -F "$dir" -C "$dir/janus.jcfg" -o >"$dir/janus.log" 2>&1) &
  janus_pid=$!
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$jport") 2>/dev/null && break
    kill -0 "$janus_pid" 2>/dev/null || { cat "$dir/janus.log" >&2; exit 1; }
    sleep 0.1
  done
  echo "janus: $(janus --version 2>/dev/null | head -n 1) (pid $janus_pid)"
  run_load "Janus VideoRoom" "$tmp/janus.$1" --janus --server-address 10.200.0.1 --client-address 10.200.0.2 --url "ws://127.0.0.1:$jport/janus" --pid "$janus_pid" || {
    tail -n 20 "$dir/janus.log" >&2
    exit 1
  }
  stop "$janus_pid"
  janus_pid=
}

echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
rounds=${BENCH_ROUNDS:-1}
for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then
    run_atrium "$r"
    run_janus "$r"
  else
    run_janus "$r"
    run_atrium "$r"
  fi
done

echo
echo "== side by side (server cpu: % of one core; per stream: extra % per subscriber; us/pkt: extra CPU per forwarded packet)"
printf '%5s %3s | %9s %9s | %9s %9s | %9s %9s | %8s\n' round N "atrium %" "janus %" "atr/strm" "jan/strm" "atr us/p" "jan us/p" "us ratio"
for ((r = 1; r <= rounds; r++)); do
  paste -d' ' "$tmp/atrium.$r" "$tmp/janus.$r" | awk -v r="$r" '
    $1 == 0 { printf "%5s %3d | %8.1f%% %8.1f%% | %9s %9s | %9s %9s | %8s\n", r, $1, $2, $10, "-", "-", "-", "-", "-"; next }
    { printf "%5s %3d | %8.1f%% %8.1f%% | %8.2f%% %8.2f%% | %9.1f %9.1f | %8s\n", r, $1, $2, $10, $3, $11, $4, $12,
        ($12 > 0) ? sprintf("%.2f", $4 / $12) : "-" }'
done
echo "us ratio = atriumd's us/pkt / Janus's (below 1: atriumd forwards a packet more cheaply). The machine may be shared: compare rows of the same round."
