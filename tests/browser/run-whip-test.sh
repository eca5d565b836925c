#!/bin/bash
# Browser WHIP/WHEP test: a Chromium page publishes and plays back its camera with plain fetch.
# Run from anywhere: tests/browser/run-whip-test.sh (ATRIUMD=path/to/atriumd to pick a build).
exec "$(dirname "${BASH_SOURCE[0]}")/netns-node-test.sh" browser-whip "$(dirname "${BASH_SOURCE[0]}")/whip-test.js"
