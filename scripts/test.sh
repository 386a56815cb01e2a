#!/usr/bin/env bash
# Builds everything (the end-to-end tests run the real crsync and crsync-devserver binaries), runs the
# whole suite, then builds the Debian package and, as root, installs, runs and purges it.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --build-tests
swift test --skip-build --disable-swift-testing
echo "== soak: Tests/Soak/soak.sh --minutes 3 (SIGKILLs, server restarts and cut connections, then server == disk)"
Tests/Soak/soak.sh --minutes 3
if [ "$(id -u)" -eq 0 ] && command -v dpkg-deb >/dev/null; then
  echo "== package: Packaging/check-package.sh"
  Packaging/check-package.sh
else
  echo "== package check skipped: it installs the .deb, which needs root and dpkg (CI runs it)"
fi
