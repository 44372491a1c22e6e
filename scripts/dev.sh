#!/usr/bin/env bash
# `make dev`: installs what is missing, starts a local Synapse with Parley registered as its
# appservice, then Parley in the foreground. Ctrl-C stops both. Data stays in .dev/ between runs.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PARLEY_ROOT"
ensure_node
ensure_deps
npm run --silent build
scripts/synapse.sh install

DEV="$PARLEY_ROOT/.dev"
CONFIG="$PARLEY_ROOT/config/dev.yaml"
HS_PORT=8008
mkdir -p "$DEV/synapse"
[ -s "$DEV/jwt-secret" ] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$DEV/jwt-secret")
export NODE_OPTIONS="--disable-warning=DEP0060 ${NODE_OPTIONS:-}"
node src/main.ts registration --config "$CONFIG" >/dev/null
scripts/synapse.sh configure "$DEV/synapse" "$HS_PORT" "$DEV/registration.yaml"

port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$HS_PORT" 8080 9009; do
  if port_busy "$port"; then
    echo "parley: port $port is already in use (is another 'make dev' running?); stop it first" >&2
    exit 1
  fi
done

scripts/synapse.sh start "$DEV/synapse" >>"$DEV/synapse/stdout.log" 2>&1 &
SYNAPSE_PID=$!
stop_all() {
  trap - INT TERM EXIT
  [ -n "${PARLEY_PID:-}" ] && kill -TERM "$PARLEY_PID" 2>/dev/null && wait "$PARLEY_PID" 2>/dev/null
  kill -TERM "$SYNAPSE_PID" 2>/dev/null && wait "$SYNAPSE_PID" 2>/dev/null
  echo "parley: stopped Parley and Synapse (data kept in .dev/)"
}
trap stop_all INT TERM EXIT
scripts/synapse.sh wait "http://127.0.0.1:$HS_PORT" 90

cat <<MSG

  Parley is starting.
    Web chat page:                 http://127.0.0.1:8080/
    WebSocket for native clients:  ws://127.0.0.1:8080/chat
    Homeserver for Element:        http://127.0.0.1:$HS_PORT   (server name: localhost; register any user)
    A token for native user alice: node src/main.ts token alice --name Alice --config config/dev.yaml
    Guests may authenticate with a client_id instead of a token.
    Channel room_0 is the Matrix room #chat_room_0:localhost
  Ctrl-C stops Parley and Synapse.

MSG
node src/main.ts start --config "$CONFIG" &
PARLEY_PID=$!
wait "$PARLEY_PID"
