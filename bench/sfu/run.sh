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

source bench/server.sh
bench_start_server "$atriumd" "" --ice-addresses 127.0.0.1

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
bench_report_server
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
