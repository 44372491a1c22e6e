#!/usr/bin/env bash
# `make test`: the whole suite, unit and end to end. The end-to-end tests start their own Synapse
# on free ports with data under .test-data/, so they also run while `make dev` is up.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PARLEY_ROOT"
ensure_node
ensure_deps
npm run --silent build
scripts/synapse.sh install
scripts/schemathesis.sh install
scripts/test-tools.sh install
export NODE_OPTIONS="--disable-warning=DEP0060 ${NODE_OPTIONS:-}"
npm run --silent typecheck
npm run --silent lint
mkdir -p .test-data
results=.test-data/vitest-results.json
rm -f "$results"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# One plain closing line with the counts, whatever the runner printed above it.
if [ -f "$results" ]; then
  # shellcheck disable=SC2016 # a JavaScript template string, not a shell expansion
  node -e 'const r = require(process.argv[1]); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$PARLEY_ROOT/$results"
fi
exit "$status"
