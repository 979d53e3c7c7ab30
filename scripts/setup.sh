#!/usr/bin/env bash
# Sets up everything the demo and the tests need on a fresh Debian machine:
# Debian packages (chromium for browser tests), a virtual environment in .venv with
# the pinned dependencies of pyproject.toml. Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
# contracts are also produced as PDF when LibreOffice is present (its tests use the real one)
command -v soffice >/dev/null 2>&1 || need_apt+=(libreoffice-writer-nogui)
command -v pdftotext >/dev/null 2>&1 || need_apt+=(poppler-utils)
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq || true
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null \
      || echo "setup: could not install ${need_apt[*]}; browser and PDF tests will fail" >&2
  else
    echo "setup: apt-get not found; install ${need_apt[*]} by hand" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  # (grep drops the noise of machines whose pip.conf names local mirrors that are absent)
  .venv/bin/pip install -q --upgrade pip 2>&1 | { grep -v "Location 'file:" || true; }
  .venv/bin/pip install -q -e '.[dev,pg]' 2>&1 | { grep -v -e "Location 'file:" -e BuildBackendWarning || true; }
  .venv/bin/python -c 'import b24app, flask, fast_bitrix24, zeep, sqlite_utils'
  touch "$stamp"
fi
