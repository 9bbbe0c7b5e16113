#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, and nothing
# when it is already there: Debian's Chromium (browser tests), PostgreSQL
# (the storage suite starts a throwaway cluster), oathtool (TOTP is
# checked against it), Node.js with npm, and the relying party library the
# OpenID Connect journey runs (openid-client, pinned by
# e2e/openid-client/package-lock.json). Needs root (or sudo) only when a
# Debian package is missing.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
pg_ok=false
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pg_ok=true; done
command -v initdb >/dev/null 2>&1 && pg_ok=true
$pg_ok || missing+=(postgresql)
command -v oathtool >/dev/null 2>&1 || missing+=(oathtool)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing test dependencies: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The OpenID Connect journey's npm packages, exactly as the lock file says,
# when node_modules is missing or older than the lock file. npm ci writes
# node_modules/.package-lock.json last, so its age is the install's.
# --ignore-scripts: nothing but the locked packages is fetched or run.
rp="$(cd "$(dirname "$0")/.." && pwd)/e2e/openid-client"
if [ ! "$rp/node_modules/.package-lock.json" -nt "$rp/package-lock.json" ]; then
  echo "installing e2e/openid-client's npm packages (npm ci)"
  if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
    echo "openid-client needs Node.js 20 or newer; this is $(node --version)" >&2
    exit 1
  fi
  (cd "$rp" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
