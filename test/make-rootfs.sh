#!/usr/bin/env bash
# make-rootfs.sh [DIR]: a busybox root filesystem for the tests and the
# README example (default DIR: test/.rootfs/busybox). Installs Debian's
# busybox-static when it is missing. Idempotent: an existing rootfs is kept.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=${1:-$here/.rootfs/busybox}
bb=/bin/busybox

static() { [ -x "$1" ] && ! ldd "$1" >/dev/null 2>&1; }
if ! static "$bb"; then
  echo "make-rootfs: installing busybox-static" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q busybox-static >&2 || { apt-get update -q >&2 && apt-get install -y -q busybox-static >&2; }
fi
static "$bb" || { echo "make-rootfs: $bb is not statically linked" >&2; exit 1; }

[ -x "$root/bin/busybox" ] && exit 0
tmp=$root.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp"/{bin,dev,etc,proc,sys,tmp,root,usr,var,home,mnt,run}
chmod 1777 "$tmp/tmp"
cp "$bb" "$tmp/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$tmp/bin/$applet"
done
cat >"$tmp/etc/passwd" <<'P'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
P
cat >"$tmp/etc/group" <<'G'
root:x:0:
daemon:x:1:
tty:x:5:
wheel:x:10:
nogroup:x:65534:
G
echo "127.0.0.1 localhost" >"$tmp/etc/hosts"
mkdir -p "$(dirname "$root")"
rm -rf "$root"
mv "$tmp" "$root"
echo "make-rootfs: built $root" >&2
