#!/usr/bin/env bash
# The test command: system parts first, then every mocha suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system.sh
if (($#)); then exec npx mocha "$@"; fi
exec npx mocha 'test/**/*.test.ts'
