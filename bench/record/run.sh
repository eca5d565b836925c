#!/bin/bash
# Recording benchmark: atriumd's CPU for a two-party room without recording and with each
# format (layout tracks), then download throughput of a 100 MB recording file with and
# without Range, and atriumd's RSS around it. Env: BUILD_DIR (default build),
# BENCH_DURATION (s per CPU window, 10). The machine it runs on may be shared: the CPU
# figures are atriumd's own CPU time from /proc, not wall-clock load.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
build=${BUILD_DIR:-build}
ninja -C "$build" src/daemon/atriumd bench/record/atrium-recordbench >/dev/null
export ATRIUMD=$PWD/$build/src/daemon/atriumd ATRIUM_SOURCE_ROOT=$PWD
exec "$build/bench/record/atrium-recordbench" "${BENCH_DURATION:-10}"
