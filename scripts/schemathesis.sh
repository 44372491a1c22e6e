#!/usr/bin/env bash
# Schemathesis (property-based testing of an HTTP API from its OpenAPI document): a pinned release
# in a repo-local virtualenv, for test/e2e/schemathesis.test.ts.
#
#   scripts/schemathesis.sh install        # .venv-schemathesis with the pinned schemathesis
#   scripts/schemathesis.sh run ARGS...    # `schemathesis ARGS...` from that virtualenv (exec)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCHEMATHESIS_VERSION="4.32.5"
VENV="$ROOT/.venv-schemathesis"
PY="$VENV/bin/python"

die() { echo "schemathesis.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,6p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

installed_version() {
  [ -x "$PY" ] || return 0
  "$PY" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null || true
}

cmd_install() {
  local have
  have="$(installed_version)"
  [ "$have" = "$SCHEMATHESIS_VERSION" ] && [ -x "$VENV/bin/schemathesis" ] && return 0
  local python="${PYTHON:-python3}"
  command -v "$python" >/dev/null || die "python3 is required to install schemathesis (apt-get install python3 python3-venv)"
  echo "schemathesis.sh: installing schemathesis==$SCHEMATHESIS_VERSION into .venv-schemathesis/ (found: ${have:-none})" >&2
  if [ ! -x "$PY" ] || ! "$PY" -c 'import sys' >/dev/null 2>&1; then
    "$python" -m venv --clear "$VENV" >&2 || die "could not create $VENV (on Debian: apt-get install python3-venv)"
  fi
  "$PY" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
  have="$(installed_version)"
  [ "$have" = "$SCHEMATHESIS_VERSION" ] || die "installed schemathesis reports version '${have:-?}', expected $SCHEMATHESIS_VERSION"
}

cmd_run() {
  [ -x "$VENV/bin/schemathesis" ] || die "schemathesis is not installed: run scripts/schemathesis.sh install"
  exec "$VENV/bin/schemathesis" "$@"
}

[ $# -ge 1 ] || usage
sub="$1"
shift
case "$sub" in
  install) cmd_install "$@" ;;
  run) cmd_run "$@" ;;
  -h | --help | help) usage ;;
  *) echo "schemathesis.sh: unknown subcommand '$sub'" >&2; usage ;;
esac
