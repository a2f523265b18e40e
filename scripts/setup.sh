#!/usr/bin/env bash
# setup.sh: everything berth and its tests need on a fresh Debian machine,
# installed only where missing: Debian packages, npm dependencies (which
# build the addon and berth-setup), the TypeScript build, the test rootfs.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_pkgs=()
need() { command -v "$1" >/dev/null 2>&1 || apt_pkgs+=("$2"); }
need g++ g++
need make make
need python3 python3
need ip iproute2
need nft nftables
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] || apt_pkgs+=(libc6-dev)
if ((${#apt_pkgs[@]})); then
  echo "setup: installing ${apt_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${apt_pkgs[@]}" >&2 || { apt-get update -q >&2 && apt-get install -y -q "${apt_pkgs[@]}" >&2; }
fi

if [ ! -d node_modules/tap ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund >&2
fi
if [ ! -x build/Release/berth-setup ] || [ ! -x build/Release/berth-front ] || [ -n "$(find native binding.gyp -newer build/Release/berth-setup 2>/dev/null | head -1)" ]; then
  npx node-gyp rebuild >&2
fi
rm -rf dist && npx tsc -p .
# The CLI as one file: clients start it 3-4 times per container.
npx esbuild src/cli/oci/bin.ts --bundle --platform=node --format=esm --target=node20 --outfile=dist/berth.mjs --log-level=warning \
  --banner:js="import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);"
# Its unpack worker as a file beside it (src/images/unpack-worker.ts finds it there), so `berth import` unpacks large layers on a second core too.
npx esbuild src/images/unpack-worker.ts --bundle --platform=node --format=esm --target=node20 --outfile=dist/unpack-worker.js --log-level=warning \
  --banner:js="import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);"
bash test/make-rootfs.sh
node -p process.execPath > build/node-path
