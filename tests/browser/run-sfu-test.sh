#!/bin/bash
# Browser SFU test: two Chromium participants publish and play each other through atriumd.
# Run from anywhere: tests/browser/run-sfu-test.sh (ATRIUMD=path/to/atriumd to pick a build).
exec "$(dirname "${BASH_SOURCE[0]}")/netns-node-test.sh" browser-sfu "$(dirname "${BASH_SOURCE[0]}")/sfu-test.js"
