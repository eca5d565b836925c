#!/bin/bash
# Runs one libFuzzer target for a bounded time: run-fuzzer.sh BINARY SEED_CORPUS WORK_DIR.
# New inputs go to WORK_DIR/corpus (the checked-in seeds stay as they are), a crash to
# WORK_DIR/crash-*; copy a crash into the seed corpus once it is fixed, so that the
# fuzz-replay tests keep it fixed. FUZZ_SECONDS sets the time (default 60).
set -uo pipefail
bin=$1 seeds=$2 work=$3
mkdir -p "$work/corpus"
secs=${FUZZ_SECONDS:-60}
# argon2id hashing (auth.login, user.add) takes 64 MiB a call, over libFuzzer's default
# RSS limit under ASan.
"$bin" -max_total_time="$secs" -timeout=30 -rss_limit_mb=4096 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" "$seeds" 2>&1 | tee "$work/fuzz.log" |
  grep -v '^#[0-9]*.*\(NEW\|REDUCE\|pulse\)'
rc=${PIPESTATUS[0]}
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
echo "fuzz $(basename "$bin"): ${runs:-?} executions in ${secs} s, exit $rc"
exit "$rc"
