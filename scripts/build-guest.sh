#!/usr/bin/env bash
# Builds a real test guest for crv: Debian's kernel (linux-image-amd64, taken
# from the .deb without installing it) plus a busybox-static initramfs whose
# init is described by a variant file in scripts/guests/NAME.sh.
#
#   scripts/build-guest.sh NAME OUTDIR      -> OUTDIR/NAME/{vmlinuz,initrd.img,guest.json}
#
# Results are cached: a guest is rebuilt only when its variant file, this
# script or the kernel changes. Nothing here writes outside OUTDIR.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
name=${1:?usage: build-guest.sh NAME OUTDIR}
out_root=${2:?usage: build-guest.sh NAME OUTDIR}
variant="$here/guests/$name.sh"
[ -f "$variant" ] || { echo "build-guest.sh: no variant '$name' (expected $variant)" >&2; exit 2; }
mkdir -p "$out_root"
out_root=$(cd "$out_root" && pwd)
cache="$out_root/.cache"
mkdir -p "$cache"

# --- Debian's kernel, extracted from its package -------------------------------
kernel_pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$kernel_pkg" ] || { echo "build-guest.sh: cannot resolve linux-image-amd64 (run scripts/setup.sh first)" >&2; exit 2; }
kernel="$cache/$kernel_pkg.vmlinuz"
if [ ! -s "$kernel" ]; then
  echo "build-guest.sh: fetching $kernel_pkg"
  tmp=$(mktemp -d) && chmod 755 "$tmp"
  (cd "$tmp" && apt-get download -q "$kernel_pkg" >/dev/null)
  dpkg-deb -x "$tmp"/*.deb "$tmp/x"
  cp "$tmp"/x/boot/vmlinuz-* "$kernel.part" && mv "$kernel.part" "$kernel"
  rm -rf "$tmp"
fi

# --- variant defaults, overridden by the variant file ---------------------------
VCPUS=1
MEMORY_MB=256
APPEND="console=ttyS0 console=tty0 quiet loglevel=3 panic=0"
INITRD=yes          # "no" boots without an initramfs (a real root-fs panic)
HOSTNAME_=crv-$name
# Serial-console rules REGEX=LABEL that `crv profile` uses for this guest
# (empty: crv's defaults, login prompt -> boot_success, panic -> boot_failure).
LABEL_RULES=()
# init_body is shell run by /init after the base set-up and before the prompt.
init_body() { :; }
# after_prompt is shell run in the background once the prompt is shown.
after_prompt() { :; }
# shellcheck source=/dev/null
. "$variant"

dest="$out_root/$name"
key=$( (cat "$variant" "$0"; echo "$kernel_pkg") | sha256sum | cut -c1-16)
if [ -f "$dest/guest.json" ] && grep -q "\"build_key\": \"$key\"" "$dest/guest.json"; then
  echo "$dest"
  exit 0
fi
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
cp "$kernel" "$dest.tmp/vmlinuz"

rules_json=$(for r in "${LABEL_RULES[@]}"; do printf '%s' "$r" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/'; echo; done | paste -sd, -)
initrd_json=null
if [ "$INITRD" = yes ]; then
  root="$dest.tmp/root"
  mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,root,usr/bin,usr/sbin}
  cp /bin/busybox "$root/bin/busybox"
  for applet in $("$root/bin/busybox" --list); do
    [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
  done
  echo "$HOSTNAME_" >"$root/etc/hostname"
  echo "root::0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  echo "root:x:0:" >"$root/etc/group"
  printf 'crv test guest %s\n\n' "$name" >"$root/etc/issue"
  {
    echo '#!/bin/sh'
    echo 'mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev 2>/dev/null'
    echo "hostname $HOSTNAME_"
    echo 'say() { echo "$*" >/dev/ttyS0; echo "$*" >/dev/tty0; }'
    echo 'say "crv-guest: init started"'
    declare -f init_body | sed '1,2d;$d'
    echo 'say "crv-guest: reached prompt"'
    echo '( :'
    declare -f after_prompt | sed '1,2d;$d'
    echo ') &'
    # A real getty on each console prints /etc/issue and "<host> login:".
    echo 'getty -l /bin/sh 38400 tty1 &'
    echo 'exec getty -l /bin/sh -L 115200 ttyS0 vt100'
  } >"$root/init"
  chmod +x "$root/init"
  (cd "$root" && find . -print0 | cpio --null -o -H newc --quiet | gzip -9) >"$dest.tmp/initrd.img"
  rm -rf "$root"
  initrd_json='"initrd.img"'
fi

cat >"$dest.tmp/guest.json" <<JSON
{
  "name": "$name",
  "kernel": "vmlinuz",
  "initrd": $initrd_json,
  "append": "$APPEND",
  "vcpus": $VCPUS,
  "memory_mb": $MEMORY_MB,
  "label_rules": [$rules_json],
  "kernel_package": "$kernel_pkg",
  "build_key": "$key"
}
JSON
rm -rf "$dest" && mv "$dest.tmp" "$dest"
echo "$dest"
