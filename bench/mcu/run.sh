#!/bin/bash
# Benchmarks MCU mixing on loopback: starts a private atriumd on 127.0.0.1 (temp data dir,
# ICE on 127.0.0.1) and runs atrium-mcubench against it: for N = 2, 4, 9, 16 publishers
# (640x360 30 fps VP8 in, mix at 1280x720 30 fps out) one row with the server's CPU, the
# mix's frame rate at a viewer and the glass-to-glass latency the mix adds over direct
# forwarding. The publishers and the viewer run on the same machine and compete with the
# server for CPU. Env: BUILD_DIR (default build), BENCH_PARTICIPANTS (2,4,9,16),
# BENCH_DURATION (s measured per row, 10), BENCH_DEFINITION (720p). Extra arguments go to
# atrium-mcubench.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/deps.sh"
cd "$ATRIUM_ROOT"
build=${BUILD_DIR:-build}
atriumd=$build/src/daemon/atriumd
mcubench=$build/bench/mcu/atrium-mcubench
for f in "$atriumd" "$mcubench"; do
  [[ -x $f ]] || { echo "$f is missing: build first (ninja -C $build)" >&2; exit 1; }
done

source bench/server.sh
bench_start_server "$atriumd" "" --ice-addresses 127.0.0.1

echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -r)"
echo "atriumd pid $server_pid at $base; cpu % is of one core"
"$mcubench" --url "$base" --pid "$server_pid" --participants "${BENCH_PARTICIPANTS:-2,4,9,16}" \
  --duration "${BENCH_DURATION:-10}" --definition "${BENCH_DEFINITION:-720p}" "$@" &
load_pid=$!
rc=0
wait "$load_pid" || rc=$?
load_pid=
bench_report_server
exit "$rc"
