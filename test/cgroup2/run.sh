#!/usr/bin/env bash
# The cgroup v2 suite, in a guest whose only hierarchy is v2 (see the header of
# ../shared/tools/cgroup2-vm: emulated, ~20x slower, so one guest for the
# whole suite, compiled ahead, each file run by node without the tap runner):
#
#   npx tsc -p . && /work/shared/tools/cgroup2-vm --timeout 1200 -- bash test/cgroup2/run.sh
#
# On a v1 host the files only say they skip.
set -u
cd "$(dirname "$0")/../.."
fail=0
for f in dist/test/cgroup2/*.test.js; do
  echo "# $f"
  TAP_TIMEOUT=${TAP_TIMEOUT:-1200} node "$f" || fail=1
done
exit $fail
