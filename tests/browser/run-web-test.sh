#!/bin/bash
# Browser test of the web client served by atriumd (web-client-test.js) inside netns-run.
# SCREENSHOT_DIR=docs/screenshots keeps the pages it shows (the README's pictures).
exec "$(dirname "${BASH_SOURCE[0]}")/netns-node-test.sh" browser-web "$(dirname "${BASH_SOURCE[0]}")/web-client-test.js"
