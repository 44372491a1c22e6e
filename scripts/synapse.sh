#!/usr/bin/env bash
# Local Synapse homeserver for development and tests: a pinned release in a repo-local virtualenv,
# a generated config plus our overrides (open registration, no federation, no rate limits).
#
#   scripts/synapse.sh install                                   # .venv-synapse with the pinned Synapse
#   scripts/synapse.sh configure DATA_DIR PORT REGISTRATION_PATH # homeserver.yaml + parley-overrides.yaml
#   scripts/synapse.sh start DATA_DIR                            # runs in the foreground (exec)
#   scripts/synapse.sh wait URL [TIMEOUT_S]                      # polls URL/health until 200
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SYNAPSE_VERSION="1.163.2"
VENV="$ROOT/.venv-synapse"
PY="$VENV/bin/python"
SERVER_NAME="localhost"

die() { echo "synapse.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Absolute path of a file or directory that may not exist yet (its parent may not either).
abspath() {
  case "$1" in
    /*) printf '%s' "$1" ;;
    *) printf '%s/%s' "$(pwd)" "${1#./}" ;;
  esac
}

# A YAML double-quoted scalar (escapes backslashes and double quotes).
yq() {
  local s="${1//\\/\\\\}"
  printf '"%s"' "${s//\"/\\\"}"
}

installed_version() {
  [ -x "$PY" ] || return 0
  "$PY" -c 'import importlib.metadata as m; print(m.version("matrix-synapse"))' 2>/dev/null || true
}

cmd_install() {
  local have
  have="$(installed_version)"
  [ "$have" = "$SYNAPSE_VERSION" ] && return 0
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || die "python3 is required to install Synapse (apt-get install python3 python3-venv)"
  echo "synapse.sh: installing matrix-synapse==$SYNAPSE_VERSION into .venv-synapse/ (found: ${have:-none})" >&2
  if [ ! -x "$PY" ] || ! "$PY" -c 'import sys' >/dev/null 2>&1; then
    "$python" -m venv --clear "$VENV" >&2 || die "could not create $VENV (on Debian: apt-get install python3-venv)"
  fi
  "$PY" -m pip install --quiet --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION" >&2
  have="$(installed_version)"
  [ "$have" = "$SYNAPSE_VERSION" ] || die "installed Synapse reports version '${have:-?}', expected $SYNAPSE_VERSION"
}

# Rate limiter sections set far above anything a test does, so tests never see 429.
# Every key here exists in Synapse 1.163 (synapse/config/ratelimiting.py).
rate_limits() {
  local rl='{per_second: 1000, burst_count: 10000}'
  local k
  for k in rc_message rc_registration rc_registration_token_validity rc_admin_redaction \
    rc_joins_per_room rc_key_requests rc_3pid_validation rc_third_party_invite rc_media_create \
    rc_delayed_event_mgmt rc_room_creation rc_reports rc_user_directory rc_profile; do
    echo "$k: $rl"
  done
  cat <<EOF
rc_login:
  address: $rl
  account: $rl
  failed_attempts: $rl
rc_joins:
  local: $rl
  remote: $rl
rc_invites:
  per_room: $rl
  per_user: $rl
  per_issuer: $rl
rc_presence:
  per_user: $rl
EOF
}

cmd_configure() {
  [ $# -eq 3 ] || usage
  local data port reg
  data="$(abspath "$1")"
  port="$2"
  reg="$(abspath "$3")"
  [[ "$port" =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"
  [ -f "$reg" ] || die "registration file not found: $reg"
  local bot
  bot="$(sed -n 's/^sender_localpart: *["'"'"']\{0,1\}\([^"'"'"']*\)["'"'"']\{0,1\} *$/\1/p' "$reg")"
  [ -n "$bot" ] || die "no sender_localpart in $reg"
  [ -x "$PY" ] || die "Synapse is not installed: run scripts/synapse.sh install"
  mkdir -p "$data"

  if [ ! -f "$data/homeserver.yaml" ]; then
    (cd "$data" && "$PY" -m synapse.app.homeserver \
      --server-name "$SERVER_NAME" \
      --config-path "$data/homeserver.yaml" \
      --data-directory "$data" \
      --generate-config \
      --report-stats=no >/dev/null) || die "generating $data/homeserver.yaml failed"
  fi

  cat >"$data/log.config" <<EOF
# Written by scripts/synapse.sh: INFO and above to homeserver.log, nothing on the console.
version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: $(yq "$data/homeserver.log")
    encoding: utf8
loggers:
  synapse.storage.SQL:
    level: INFO
  twisted:
    level: WARNING
root:
  level: INFO
  handlers: [file]
disable_existing_loggers: false
EOF

  {
    echo "# Written by scripts/synapse.sh on every configure: these top-level keys replace the ones"
    echo "# in homeserver.yaml (Synapse merges -c files shallowly, later files win)."
    cat <<EOF
server_name: "$SERVER_NAME"
report_stats: false
listeners:
  - port: $port
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: $(yq "$data/homeserver.db")
log_config: $(yq "$data/log.config")
media_store_path: $(yq "$data/media_store")
enable_registration: true
enable_registration_without_verification: true
app_service_config_files:
  - $(yq "$reg")
# No federation: no key servers, no outbound federation to any domain, no well-known.
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
serve_server_wellknown: false
url_preview_enabled: false
presence:
  enabled: true
# Parley's bot lists public channels in the room directory; Synapse lets only admins publish by
# default (docs/deploy.md gives operators the same rule).
room_list_publication_rules:
  - user_id: "@$bot:$SERVER_NAME"
    action: allow
  - action: deny
# Matrix clients still on the unauthenticated media endpoints (Debian stable's) can show media.
enable_authenticated_media: false
EOF
    rate_limits
  } >"$data/parley-overrides.yaml"
}

cmd_start() {
  [ $# -eq 1 ] || usage
  local data
  data="$(abspath "$1")"
  if [ ! -f "$data/homeserver.yaml" ] || [ ! -f "$data/parley-overrides.yaml" ]; then
    die "$data is not configured: run scripts/synapse.sh configure first"
  fi
  [ -x "$PY" ] || die "Synapse is not installed: run scripts/synapse.sh install"
  cd "$data"
  exec "$PY" -m synapse.app.homeserver -c "$data/homeserver.yaml" -c "$data/parley-overrides.yaml"
}

cmd_wait() {
  if [ $# -lt 1 ] || [ $# -gt 2 ]; then usage; fi
  local url="${1%/}" timeout="${2:-60}"
  local deadline=$((SECONDS + timeout))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$url/health" 2>/dev/null)" = "200" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      die "Synapse at $url did not answer 200 on /health within ${timeout}s"
    fi
    sleep 0.3
  done
}

[ $# -ge 1 ] || usage
sub="$1"
shift
case "$sub" in
  install) cmd_install "$@" ;;
  configure) cmd_configure "$@" ;;
  start) cmd_start "$@" ;;
  wait) cmd_wait "$@" ;;
  -h | --help | help) usage ;;
  *) echo "synapse.sh: unknown subcommand '$sub'" >&2; usage ;;
esac
