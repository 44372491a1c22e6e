#!/usr/bin/env bash
# Test prerequisites from Debian's packages: Chromium (driven by npm playwright-core, which cannot
# download its own browsers here), Tesseract (OCR of screenshots), docker-compose (validates
# docker-compose.yml without a Docker engine) and ShellCheck (lints the shell scripts).
#
#   scripts/test-tools.sh install   # apt-get installs whichever of them is missing
set -euo pipefail

CHROMIUM="/usr/bin/chromium"
PACKAGES=(chromium tesseract-ocr tesseract-ocr-eng docker-compose shellcheck)

die() { echo "test-tools.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

have_all() {
  [ -x "$CHROMIUM" ] && command -v tesseract >/dev/null 2>&1 && command -v docker-compose >/dev/null 2>&1 \
    && command -v shellcheck >/dev/null 2>&1
}

cmd_install() {
  have_all && return 0
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 \
      || die "cannot install ${PACKAGES[*]}: not root and no sudo; install them with apt-get and rerun"
    sudo=(sudo)
  fi
  command -v apt-get >/dev/null 2>&1 \
    || die "cannot install ${PACKAGES[*]}: apt-get not found; install Chromium ($CHROMIUM) and tesseract yourself"
  echo "test-tools.sh: installing ${PACKAGES[*]} with apt-get (the tests need them)" >&2
  if ! "${sudo[@]}" apt-get update >&2 \
    || ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${PACKAGES[@]}" >&2; then
    die "apt-get could not install ${PACKAGES[*]}; install them and rerun"
  fi
  have_all || die "after installing ${PACKAGES[*]}, $CHROMIUM, tesseract, docker-compose or shellcheck is still missing"
}

case "${1:-}" in
  install) cmd_install ;;
  *) usage ;;
esac
