#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine, and nothing
# when it is already there: Debian's Chromium (browser tests), PostgreSQL
# (the storage suite starts a throwaway cluster), oathtool (TOTP is
# checked against it), Node.js 20 or newer with npm, and the relying party
# library the OpenID Connect journey runs (openid-client, pinned by
# e2e/openid-client/package-lock.json).
#
# Prerequisites: Go 1.26 or newer (go.mod says so; Debian 12's golang-go is
# 1.19, so install Go from https://go.dev/dl/), and root (or sudo) when a
# Debian package is missing.
#
# Node.js: Debian 12's nodejs is 18, and openid-client needs 20 or newer.
# When the node on PATH is older, the script takes Node.js 20 from the npm
# registry's node-linux-<arch> package (the official binary, checked
# against the sha512 pinned below), unpacked into e2e/openid-client/.node;
# the openid-client journey runs that node first. Debian's npm does the
# fetching. Only Debian's and npm's registries are contacted.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rp="$root/e2e/openid-client"
NODE_VERSION=20.19.6
declare -A NODE_SHA512=(
  [x64]="nSaDjLjUZdsLMDckfinsQl+hvKifYUuzO7swyacVzrKAIi0ByaORSE1DpaRTjxfCq3mETV/3uTlKXStzd2nJWQ=="
  [arm64]="T28TZKZJ9yyf/ZZI1hVnzkvD3HhVrVe8O/5oSNO2WtlYVshqJrWuGnOOOk/7R3xF7psP2aVzHnbtQ1Q5UeWKmA=="
)

# node_major prints the major version of the node binary $1, or nothing.
node_major() { "$1" --version 2>/dev/null | sed -n 's/^v\([0-9][0-9]*\)\..*/\1/p'; }
# node_ok says whether the node binary $1 is 20 or newer.
node_ok() { local m; m=$(node_major "$1"); [ -n "$m" ] && [ "$m" -ge 20 ]; }

# Go itself: a clear word instead of go.mod's error on an old toolchain.
gov=$(go env GOVERSION 2>/dev/null || go version | awk '{print $3}')
if ! printf '%s\n' "$gov" | awk -F'[go.]' '{ if ($3 > 1 || ($3 == 1 && $4 >= 26)) exit 0; exit 1 }'; then
  echo "install-test-deps: Portvakt needs Go 1.26 or newer, and this is ${gov:-no Go}; Debian 12's golang-go is 1.19, so install Go from https://go.dev/dl/" >&2
  exit 1
fi

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
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "install-test-deps: ${missing[*]} missing, and installing them with apt needs root (or sudo)" >&2
      exit 1
    fi
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Node.js 20 or newer: the one on PATH, one unpacked here before, or the
# npm registry's.
local_node="$rp/.node/bin/node"
if node_ok "$(command -v node)"; then
  :
elif [ -x "$local_node" ] && node_ok "$local_node"; then
  :
else
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "install-test-deps: node $(node --version) is older than 20, and the npm registry has no Node.js for $(uname -m)" >&2; exit 1 ;;
  esac
  echo "node on PATH is $(node --version); fetching Node.js $NODE_VERSION ($arch) from the npm registry into e2e/openid-client/.node"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent --loglevel=error "node-linux-$arch@$NODE_VERSION" >/dev/null)
  tgz="$tmp/node-linux-$arch-$NODE_VERSION.tgz"
  # Debian's node (npm's dependency) computes the digest: no other tool
  # is needed on a fresh machine.
  got=$(node -e 'process.stdout.write(require("crypto").createHash("sha512").update(require("fs").readFileSync(process.argv[1])).digest("base64"))' "$tgz")
  if [ "$got" != "${NODE_SHA512[$arch]}" ]; then
    echo "install-test-deps: node-linux-$arch-$NODE_VERSION.tgz has sha512 $got, want ${NODE_SHA512[$arch]}" >&2
    exit 1
  fi
  rm -rf "$rp/.node"
  mkdir -p "$rp/.node"
  tar -xzf "$tgz" -C "$rp/.node" --strip-components=1 package/bin/node package/LICENSE
  if ! node_ok "$local_node"; then
    echo "install-test-deps: the unpacked $local_node does not run" >&2
    exit 1
  fi
fi

# The OpenID Connect journey's npm packages, exactly as the lock file says,
# when node_modules is missing or older than the lock file. npm ci writes
# node_modules/.package-lock.json last, so its age is the install's.
# --ignore-scripts: nothing but the locked packages is fetched or run.
if [ ! "$rp/node_modules/.package-lock.json" -nt "$rp/package-lock.json" ]; then
  echo "installing e2e/openid-client's npm packages (npm ci)"
  (cd "$rp" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
