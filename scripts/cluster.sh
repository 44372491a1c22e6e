#!/usr/bin/env bash
# `make cluster`: Parley as two nodes sharing one PostgreSQL and one Redis, beside a local Synapse,
# all private to this checkout: data under .dev-cluster/, PostgreSQL on 55432 and Redis on 56379
# (never the machine's own servers), Synapse on 8008, the nodes' WebSockets on 8080 and 8081.
# Installs what is missing (Node, npm packages, Synapse, Debian's postgresql and redis-server).
# Ctrl-C stops everything; the data stays for the next run.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$PARLEY_ROOT"
ensure_node
ensure_deps
npm run --silent build
scripts/synapse.sh install
scripts/test-tools.sh install

DATA="$PARLEY_ROOT/.dev-cluster"
HS_PORT=8008
PG_PORT=55432
REDIS_PORT=56379
NODE_PORTS=(8080 8081)
AS_PORTS=(9009 9010)
mkdir -p "$DATA/synapse" "$DATA/redis"
export NODE_OPTIONS="--disable-warning=DEP0060 ${NODE_OPTIONS:-}"

port_busy() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$HS_PORT" "$PG_PORT" "$REDIS_PORT" "${NODE_PORTS[@]}" "${AS_PORTS[@]}"; do
  if port_busy "$port"; then
    echo "parley: port $port is already in use (is 'make dev' or another 'make cluster' running?)" >&2
    exit 1
  fi
done

# PostgreSQL from the system's binaries, in its own directory. initdb and postgres refuse to run
# as root: then they run as Debian's `postgres` account, which owns the directory.
PG_BIN="$(find /usr/lib/postgresql -maxdepth 3 -name initdb -path '*/bin/*' 2>/dev/null | sort -V | tail -1 | xargs -r dirname)"
[ -n "$PG_BIN" ] || { echo "parley: no PostgreSQL binaries under /usr/lib/postgresql" >&2; exit 1; }
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  as_pg=(setpriv "--reuid=$(id -u postgres)" "--regid=$(id -g postgres)" --clear-groups)
  mkdir -p "$DATA/postgres" && chown postgres:postgres "$DATA/postgres"
fi
if [ ! -s "$DATA/postgres/data/PG_VERSION" ]; then
  "${as_pg[@]}" "$PG_BIN/initdb" -D "$DATA/postgres/data" -U parley -A trust -E UTF8 --no-locale >"$DATA/postgres/initdb.log"
fi

[ -s "$DATA/jwt-secret" ] || (umask 077 && head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$DATA/jwt-secret")
for i in 0 1; do
  n=$((i + 1))
  cat >"$DATA/node-$n.yaml" <<YAML
# Written by scripts/cluster.sh for node $n of the local cluster.
homeserver:
  url: http://127.0.0.1:$HS_PORT
  server_name: localhost
appservice:
  registration: ./registration.yaml
  port: ${AS_PORTS[$i]}
  url: http://127.0.0.1:${AS_PORTS[0]}
gateway:
  bind: 127.0.0.1
  port: ${NODE_PORTS[$i]}
  path: /chat
  web_client: true
auth:
  jwt_secret_file: ./jwt-secret
  guests: true
store:
  sqlite_path: ./unused.db
  postgres_url: postgresql://parley@127.0.0.1:$PG_PORT/parley
cluster:
  redis_url: redis://127.0.0.1:$REDIS_PORT
  node_id: node-$n
log:
  level: info
YAML
done
# Synapse sends transactions to node 1's listener; any node would take them (docs/deploy.md).
node src/main.ts registration --config "$DATA/node-1.yaml" >/dev/null
scripts/synapse.sh configure "$DATA/synapse" "$HS_PORT" "$DATA/registration.yaml"

PIDS=()
stop_all() {
  trap - INT TERM EXIT
  for ((j = ${#PIDS[@]} - 1; j >= 0; j--)); do kill -TERM "${PIDS[$j]}" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  echo "parley: stopped both nodes, Synapse, Redis and PostgreSQL (data kept in .dev-cluster/)"
}
trap stop_all INT TERM EXIT

"${as_pg[@]}" "$PG_BIN/postgres" -D "$DATA/postgres/data" -p "$PG_PORT" -c listen_addresses=127.0.0.1 \
  -c "unix_socket_directories=$DATA/postgres/data" >>"$DATA/postgres/postgres.log" 2>&1 &
PIDS+=($!)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DATA/redis" --save "" --appendonly no \
  >>"$DATA/redis/redis.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do port_busy "$PG_PORT" && port_busy "$REDIS_PORT" && break; sleep 0.2; done
"$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U parley -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'parley'" \
  | grep -q 1 || "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U parley parley

scripts/synapse.sh start "$DATA/synapse" >>"$DATA/synapse/stdout.log" 2>&1 &
PIDS+=($!)
scripts/synapse.sh wait "http://127.0.0.1:$HS_PORT" 90

# Node 1 first: it creates the schema; node 2 would wait on the same migration lock anyway.
node src/main.ts start --config "$DATA/node-1.yaml" &
PIDS+=($!)
for _ in $(seq 1 150); do port_busy "${NODE_PORTS[0]}" && break; sleep 0.2; done
node src/main.ts start --config "$DATA/node-2.yaml" &
PIDS+=($!)
for _ in $(seq 1 150); do port_busy "${NODE_PORTS[1]}" && break; sleep 0.2; done

cat <<MSG

  A Parley cluster is running: two nodes, one PostgreSQL, one Redis, one Synapse.
    Node 1:  ws://127.0.0.1:${NODE_PORTS[0]}/chat   (web page http://127.0.0.1:${NODE_PORTS[0]}/)
    Node 2:  ws://127.0.0.1:${NODE_PORTS[1]}/chat   (web page http://127.0.0.1:${NODE_PORTS[1]}/)
    PostgreSQL: postgresql://parley@127.0.0.1:$PG_PORT/parley    Redis: redis://127.0.0.1:$REDIS_PORT
    Homeserver for Element: http://127.0.0.1:$HS_PORT (server name: localhost; register any user)
    A token for alice: node src/main.ts token alice --name Alice --config .dev-cluster/node-1.yaml
  Talk on one node, listen on the other. Ctrl-C stops everything.

MSG
wait -n "${PIDS[@]}" || true
echo "parley: a process of the cluster ended; stopping the rest" >&2
