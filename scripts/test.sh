#!/usr/bin/env bash
# `make test`: the whole suite, unit and end to end. The end-to-end tests start their own Synapse
# on free ports with data under .test-data/, so they also run while `make dev` is up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PARLEY_ROOT"
ensure_node
ensure_deps
npm run --silent build
scripts/synapse.sh install
scripts/browser.sh install
export NODE_OPTIONS="--disable-warning=DEP0060 ${NODE_OPTIONS:-}"
npm run --silent typecheck
npm run --silent lint
npx vitest run "$@"
