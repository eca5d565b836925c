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
# BENCH_DURATION, BENCH_SETTLE; BENCH_ROUNDS (1) repeats the servers, alternating their
# order; BENCH_ATRIUMD_B=PATH also measures another atriumd build (e.g. one from before a
# change) in the same run.
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

# run_atrium ROUND LABEL BINARY
run_atrium() {
  rm -rf "$tmp/data"  # a fresh store: the admin password is new each time
  bench_start_server "$3" "" --ice-addresses 127.0.0.1
  echo "$2: $("$3" --version 2>/dev/null | head -n 1) ($3, pid $server_pid), GStreamer $(gst-launch-1.0 --gst-version 2>/dev/null | awk '{ print $NF }')"
  run_load "$2" "$tmp/$2.$1" --url "ws://127.0.0.1:$port/rpc" --pid "$server_pid" || {
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
# Servers in the order of odd rounds (even rounds run them backwards): atriumd, then
# BENCH_ATRIUMD_B (another atriumd build, e.g. before a change) if set, then Janus.
labels=(atriumd)
[[ -z ${BENCH_ATRIUMD_B:-} ]] || labels+=(atriumd-b)
labels+=(janus)
run_server() {
  case $2 in
    atriumd) run_atrium "$1" atriumd "$atriumd" ;;
    atriumd-b) run_atrium "$1" atriumd-b "$BENCH_ATRIUMD_B" ;;
    janus) run_janus "$1" ;;
  esac
}
rounds=${BENCH_ROUNDS:-1}
for ((r = 1; r <= rounds; r++)); do
  order=("${labels[@]}")
  if ((r % 2 == 0)); then
    order=()
    for ((i = ${#labels[@]} - 1; i >= 0; i--)); do order+=("${labels[i]}"); done
  fi
  for l in "${order[@]}"; do run_server "$r" "$l"; done
done

echo
echo "== side by side: per server, its cpu (% of one core), us/pkt and cs/pkt (its extra CPU time and context switches per forwarded packet); ratio = us/pkt / Janus's"
header="round   N"
for l in "${labels[@]}"; do header+=$(printf ' | %11s %7s %6s' "$l %" "us/pkt" "cs/pkt"); done
for l in "${labels[@]}"; do [[ $l == janus ]] || header+=$(printf ' | %9s' "$l/janus"); done
echo "$header"
for ((r = 1; r <= rounds; r++)); do
  files=()
  for l in "${labels[@]}"; do files+=("$tmp/$l.$r"); done
  # Each file: N cpu per_stream us_pkt pps rss first_med first_max cs_pkt (9 columns).
  paste -d' ' "${files[@]}" | awk -v r="$r" -v n="${#labels[@]}" '
    {
      line = sprintf("%5s %3d", r, $1)
      for (i = 0; i < n; i++)
        line = line sprintf(" | %10.1f%% %7s %6s", $(i * 9 + 2), $1 ? sprintf("%.1f", $(i * 9 + 4)) : "-",
          $1 ? sprintf("%.2f", $(i * 9 + 9)) : "-")
      j = (n - 1) * 9 + 4  # Janus is last
      for (i = 0; i < n - 1; i++)
        line = line sprintf(" | %9s", ($1 && $j > 0) ? sprintf("%.2f", $(i * 9 + 4) / $j) : "-")
      print line
    }'
done
echo "ratio below 1: that atriumd forwards a packet more cheaply than Janus. The machine may be shared: compare rows of the same round."
