#!/usr/bin/env bash
# modernc.org/sqlite works only with the exact modernc.org/libc version its
# own go.mod names; a mismatch builds but corrupts memory at run time.
set -euo pipefail
want=$(go mod download -json modernc.org/sqlite 2>/dev/null | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' | xargs grep -m1 'modernc.org/libc ' | awk '{print $2}')
have=$(go list -m -f '{{.Version}}' modernc.org/libc)
if [ "$want" != "$have" ]; then
  echo "modernc.org/libc is $have but modernc.org/sqlite needs $want" >&2
  exit 1
fi
