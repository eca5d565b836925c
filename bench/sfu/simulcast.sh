#!/bin/bash
# Benchmarks simulcast forwarding on loopback: starts a private atriumd on 127.0.0.1 (temp
# data dir, ICE on 127.0.0.1) and runs atrium-simulcastbench against it (see README.md).
# Env: BUILD_DIR (default build), BENCH_SUBSCRIBERS (10), BENCH_DURATION (s per window, 10).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/deps.sh"
cd "$ATRIUM_ROOT"
build=${BUILD_DIR:-build}
atriumd=$build/src/daemon/atriumd
bench=$build/bench/sfu/atrium-simulcastbench
for f in "$atriumd" "$bench"; do
  [[ -x $f ]] || { echo "$f is missing: build first (ninja -C $build)" >&2; exit 1; }
done
source bench/server.sh
bench_start_server "$atriumd" "" --ice-addresses 127.0.0.1
echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -r)"
echo "atriumd pid $server_pid at $base; cpu % is of one core"
"$bench" --url "$base" --pid "$server_pid" --subscribers "${BENCH_SUBSCRIBERS:-10}" \
  --duration "${BENCH_DURATION:-10}" "$@" &
load_pid=$!
rc=0
wait "$load_pid" || rc=$?
load_pid=
bench_report_server
exit "$rc"
