#!/bin/bash
# Mixed-room interop test: Chromium and an aiortc peer publish and play each other through
# atriumd. Run from anywhere: tests/interop/run-interop-test.sh (ATRIUMD=path/to/atriumd).
here="$(dirname "${BASH_SOURCE[0]}")"
/usr/bin/python3 -c 'import aiortc, websockets' 2>/dev/null ||
  { echo "SKIP: /usr/bin/python3 lacks aiortc or websockets (Debian: python3-aiortc python3-websockets)"; exit 77; }
exec "$here/../browser/netns-node-test.sh" interop-aiortc "$here/interop-test.js"
