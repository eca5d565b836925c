#!/bin/bash
# netns-node-test.sh NAME SCRIPT.js
#   Runs a node test script (Chromium through playwright-core, atriumd, other peers) inside
#   ../shared/tools/netns-run: a fresh network namespace with only `lo`, so no test packet can
#   leave loopback, with a packet capture that proves it. Prints every check as PASS/FAIL and
#   ends with "N passed, N failed". Exit 0 when all passed, 1 on a failure, 77 (meson: skipped)
#   when the machine cannot run it at all (no node, no Chromium, not root).
# Environment: ATRIUMD (default build/src/daemon/atriumd), NETNS_RUN (default
#   <repo>/../shared/tools/netns-run), CHROMIUM (default /usr/bin/chromium), KEEP=1 keeps the
#   temporary folder (capture, output) even when everything passed.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
name="${1:?usage: $0 NAME SCRIPT.js}"
script="$(cd "$(dirname "${2:?usage: $0 NAME SCRIPT.js}")" && pwd)/$(basename "$2")"
netns_run="${NETNS_RUN:-$repo/../shared/tools/netns-run}"

skip() { echo "SKIP: $*"; exit 77; }
command -v node >/dev/null || skip "node is not installed"
[[ -x "${CHROMIUM:-/usr/bin/chromium}" ]] || skip "Chromium is not installed (${CHROMIUM:-/usr/bin/chromium}); scripts/deps.sh installs it"
((EUID == 0)) || skip "needs root: netns-run creates a network namespace with unshare"

passed=0 failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
finish() {
  echo "$name: $passed passed, $failed failed ($(( $(date +%s) - started )) s)"
  ((failed == 0)) && exit 0 || exit 1
}
started=$(date +%s)

[[ -x "$netns_run" ]] || { fail "netns-run not found at $netns_run (set NETNS_RUN)"; finish; }
command -v tcpdump >/dev/null || { fail "tcpdump is not installed (needed for the loopback check)"; finish; }

# Node dependencies (playwright-core, pinned in package-lock.json); nothing is fetched when present.
if [[ ! -f "$here/node_modules/playwright-core/package.json" ]]; then
  echo "installing node dependencies: npm ci --prefix $here"
  npm ci --prefix "$here" --no-audit --no-fund || { fail "npm ci --prefix $here"; finish; }
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/atrium-$name-XXXXXX")"
pcap="$tmp/netns.pcap"
NETNS_PCAP="$pcap" NODE_PATH="$here/node_modules" "$netns_run" node "$script" 2>&1 | tee "$tmp/output"
rc=${PIPESTATUS[0]}

passed=$((passed + $(grep -c '^PASS: ' "$tmp/output")))
failed=$((failed + $(grep -c '^FAIL: ' "$tmp/output")))
((rc == 0)) || grep -q '^FAIL: ' "$tmp/output" || fail "test script exited with status $rc"
grep -q '^PASS: ' "$tmp/output" || fail "test script reported no passing check"

# netns-run: pcap FILE: N packets, M with a non-loopback source or destination
line="$(grep -a 'netns-run: pcap ' "$tmp/output" | tail -n 1)"
if [[ "$line" =~ :\ ([0-9]+)\ packets,\ ([0-9]+)\ with ]]; then
  total=${BASH_REMATCH[1]} bad=${BASH_REMATCH[2]}
  if ((bad > 0)); then
    fail "$bad of $total captured packets left loopback; first ones:"
    tcpdump -n -r "$pcap" "not ((src net 127.0.0.0/8 or src host ::1) and (dst net 127.0.0.0/8 or dst host ::1))" 2>/dev/null | head -n 20
  elif ((total == 0)); then
    fail "the packet capture saw no packet at all (capture broken?)"
  else
    pass "no packet left loopback ($total packets captured)"
  fi
else
  fail "no packet-capture summary from netns-run (tcpdump failed? see $pcap.log)"
fi

if ((failed == 0)) && [[ "${KEEP:-}" != 1 ]]; then
  rm -rf "$tmp"
else
  echo "kept: $tmp (capture netns.pcap, output)"
fi
finish
