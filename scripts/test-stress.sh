#!/usr/bin/env bash
# make test-stress: the tests that wait on a wall clock (the browser
# harness and the e2e journeys by default) with two CPU hogs beside them
# on the machine's cores, and every test budget scaled by
# PORTVAKT_TEST_TIMEOUT_SCALE (default here 4). They must pass: a test that
# fails only here waits on a budget that is not scaled (internal/testwait)
# or on the speed of the machine. See docs/testing.md.
#
#   scripts/test-stress.sh [go test flags and packages]
#   scripts/test-stress.sh -run 'TestJourney_ResetByCode' ./e2e/
#
# The hogs are this script's own children and are killed when it ends,
# however it ends.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${GO:=go}"
export PORTVAKT_TEST_TIMEOUT_SCALE="${PORTVAKT_TEST_TIMEOUT_SCALE:-4}"
hogs=()
stop_hogs() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${hogs[@]}"; do wait "$pid" 2>/dev/null; done
  hogs=()
}
trap stop_hogs EXIT
trap 'stop_hogs; exit 130' INT TERM
for _ in 1 2; do
  yes >/dev/null &
  hogs+=("$!")
done
args=("$@")
if [ "${#args[@]}" -eq 0 ]; then
  args=(./internal/browsertest/ ./e2e/)
fi
echo "test-stress: 2 CPU hogs (pids ${hogs[*]}) on $(nproc) cores, PORTVAKT_TEST_TIMEOUT_SCALE=$PORTVAKT_TEST_TIMEOUT_SCALE: go test ${args[*]}"
start=$(date +%s)
"$GO" test -count=1 -p 2 -timeout 60m "${args[@]}"
status=$?
echo "test-stress: $( [ "$status" -eq 0 ] && echo passed || echo FAILED ) in $(( $(date +%s) - start ))s beside 2 CPU hogs"
exit "$status"
