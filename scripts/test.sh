#!/usr/bin/env bash
# Builds everything (the end-to-end tests run the real crsync and crsync-devserver binaries) and runs
# the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build --disable-swift-testing
