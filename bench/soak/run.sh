#!/bin/bash
# Soak test (not part of the test suites): builds if needed, starts a private atriumd on
# 127.0.0.1, and runs atrium-soak against it: SOAK_ROOMS (4) rooms x SOAK_PARTICIPANTS (4)
# participants, each publishing VP8 + Opus (320x180, 15 fps) and decoding the others, for
# SOAK_MINUTES (30). Prints the server's RSS, CPU and threads every minute and ends with
# the RSS growth per hour; the goal is flat memory. SFU rooms only for now. BUILD_DIR
# (default build), BENCH_BUILD=0 uses the binaries as they are.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/deps.sh"
cd "$ATRIUM_ROOT"
build=${BUILD_DIR:-build}
if [[ ${BENCH_BUILD:-1} != 0 ]]; then
  atrium_deps
  [[ -f $build/build.ninja ]] || meson setup "$build" "$ATRIUM_ROOT"
  ninja -C "$build" -j2 src/daemon/atriumd bench/soak/atrium-soak
fi
source bench/server.sh
bench_start_server "$build/src/daemon/atriumd" "" --ice-addresses 127.0.0.1
echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg) at start (the machine may be shared)"
"$build/bench/soak/atrium-soak" "$base" "$server_pid" "${SOAK_MINUTES:-30}" "${SOAK_ROOMS:-4}" \
  "${SOAK_PARTICIPANTS:-4}" &
load_pid=$!
wait "$load_pid"
rc=$?
load_pid=
bench_report_server
exit $rc
