#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, and nothing
# when it is already there: Debian's Chromium (browser tests), PostgreSQL
# (the storage suite starts a throwaway cluster) and oathtool (TOTP is
# checked against it). Needs root (or sudo) only when something is missing.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
pg_ok=false
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pg_ok=true; done
command -v initdb >/dev/null 2>&1 && pg_ok=true
$pg_ok || missing+=(postgresql)
command -v oathtool >/dev/null 2>&1 || missing+=(oathtool)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing test dependencies: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
