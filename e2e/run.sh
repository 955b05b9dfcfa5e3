#!/usr/bin/env bash
# Runs the end-to-end suite: installs the pinned npm packages from the committed lock file, then
# runs node's test runner. Needs Go, Node >= 20 and npm; the npm registry is the only network use.
# HYPERSTACK_E2E_SERVER_CMD selects the server under test (see e2e/test/harness.mjs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
sum_before="$(sha256sum e2e/package-lock.json)"
if ! npm ci --prefix e2e --no-audit --no-fund; then
  # npm 11 refuses the lock because @triton-one/yellowstone-grpc names optional macOS packages at a
  # version the registry does not serve; npm install against the same lock installs the same tree.
  echo "run.sh: npm ci failed; installing from the committed lock with npm install" >&2
  npm install --prefix e2e --no-audit --no-fund
fi
if [ "$(sha256sum e2e/package-lock.json)" != "$sum_before" ]; then
  echo "run.sh: the install changed e2e/package-lock.json; commit a lock that matches package.json" >&2
  exit 1
fi
timeout --kill-after=10s 900 npm test --prefix e2e
