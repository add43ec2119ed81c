#!/usr/bin/env bash
# The test command: system parts first, then every mocha suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system.sh
# Bus accounts and signing keys that tests make go to a home of this run, not the user's ~/.meshflow.
MESHFLOW_HOME="$(mktemp -d "${TMPDIR:-/tmp}/meshflow-test-home-XXXXXX")"
export MESHFLOW_HOME
trap 'rm -rf "$MESHFLOW_HOME"' EXIT
if (($#)); then npx mocha "$@"; else npx mocha 'test/**/*.test.ts' 'packages/*/test/**/*.test.ts'; fi
