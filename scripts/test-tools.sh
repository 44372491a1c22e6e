#!/usr/bin/env bash
# Test prerequisites from Debian's packages: Chromium (driven by npm playwright-core, which cannot
# download its own browsers here), Tesseract (OCR of screenshots), docker-compose (validates
# docker-compose.yml without a Docker engine), ShellCheck (lints the shell scripts), and the
# PostgreSQL and Redis servers (tests start private ones for the shared store and the bus), and
# HAProxy (checks deploy/haproxy.cfg).
#
#   scripts/test-tools.sh install              # apt-get installs whichever of them is missing
#   scripts/test-tools.sh install postgresql   # only the named packages (test/support/postgres.ts)
set -euo pipefail

CHROMIUM="/usr/bin/chromium"
# The emoji font: reactions and icons in the web page's screenshots show as glyphs, not boxes.
PACKAGES=(chromium tesseract-ocr tesseract-ocr-eng docker-compose shellcheck postgresql redis-server haproxy
  fonts-noto-color-emoji)
EMOJI_FONT="/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"

die() { echo "test-tools.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Debian puts the server binaries (initdb, postgres) under a versioned directory, off PATH.
have_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}

have_all() {
  [ -x "$CHROMIUM" ] && command -v tesseract >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1 \
    && command -v shellcheck >/dev/null 2>&1 && have_postgres && command -v redis-server >/dev/null 2>&1 \
    && command -v haproxy >/dev/null 2>&1 && [ -f "$EMOJI_FONT" ]
}

apt_install() {
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 \
      || die "cannot install $*: not root and no sudo; install them with apt-get and rerun"
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null 2>&1 || die "cannot install $*: apt-get not found; install them yourself"
  echo "test-tools.sh: installing $* with apt-get (the tests need them)" >&2
  if ! "${sudo[@]}" apt-get update >&2 \
    || ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "$@" >&2; then
    die "apt-get could not install $*; install them and rerun"
  fi
}

cmd_install() {
  if [ "$#" -gt 0 ]; then
    apt_install "$@"
    return
  fi
  have_all && return 0
  apt_install "${PACKAGES[@]}"
  have_all || die "after installing ${PACKAGES[*]}, $CHROMIUM, tesseract, docker-compose, shellcheck, PostgreSQL, redis-server, haproxy or the emoji font is still missing"
}

case "${1:-}" in
  install) shift; cmd_install "$@" ;;
  *) usage ;;
esac
