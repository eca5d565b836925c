#!/bin/bash
# Browser simulcast test: a Chromium publisher with three rids, a Chromium viewer picking layers.
# Run from anywhere: tests/browser/run-simulcast-test.sh (ATRIUMD=path/to/atriumd to pick a build).
exec "$(dirname "${BASH_SOURCE[0]}")/netns-node-test.sh" browser-simulcast "$(dirname "${BASH_SOURCE[0]}")/simulcast-test.js"
