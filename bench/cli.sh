#!/usr/bin/env bash
# bench/cli.sh [RUNS]: the OCI command line, berth against runc and crun in
# one run: `run` of a busybox /bin/true, and `create; start; delete --force`
# cycles (the shape of podman's calls), RUNS times each (default 100), with
# peak RSS. It drives the shared anchors script (../shared/anchors), which
# installs hyperfine/jq/time if missing and runs crun with the host's
# /sys/fs/cgroup/unified hidden where crun 1.8 needs that.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
anchors=${ANCHORS:-$here/../../shared/anchors/bench-anchors}
[ -x "$anchors" ] || { echo "bench/cli.sh: no $anchors (the shared anchors folder)" >&2; exit 2; }
runs=${1:-100}
exec "$anchors" --runs "$runs" --warmup 3 --rss-runs 10 --no-anchors runc crun "$here/../bin/berth"
