#!/usr/bin/env bash
# Starts or stops a real libvirtd (Debian's packages, as root, without
# systemd) for the libvirt collector tests:
#   scripts/libvirtd.sh start   # idempotent; waits until virsh answers
#   scripts/libvirtd.sh stop    # stops the daemons this script started
# It creates what the Debian packages' maintainer scripts and systemd units
# would: the libvirt-qemu user, the kvm and libvirt-qemu groups, run and log
# directories; then starts virtlogd and libvirtd in the background.
set -euo pipefail
uri=qemu:///system
state=/run/crv-libvirtd

answers() { timeout 10 virsh -c "$uri" version >/dev/null 2>&1; }

start() {
  if [ "$(id -u)" -ne 0 ]; then
    echo "libvirtd.sh: needs root (libvirtd runs as root here)" >&2
    exit 2
  fi
  if ! command -v libvirtd >/dev/null; then
    echo "libvirtd.sh: libvirtd is not installed (scripts/setup.sh installs libvirt-daemon)" >&2
    exit 2
  fi
  if answers; then
    echo "libvirtd.sh: libvirtd already answers on $uri"
    return
  fi
  getent group kvm >/dev/null || groupadd --system kvm
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent group libvirt >/dev/null || groupadd --system libvirt
  getent passwd libvirt-qemu >/dev/null ||
    useradd --system --gid kvm --groups libvirt-qemu --home-dir /var/lib/libvirt --no-create-home \
      --shell /usr/sbin/nologin libvirt-qemu
  # What Debian's udev rule does: /dev/kvm belongs to group kvm, mode 0660.
  # Otherwise libvirt probes QEMU with KVM as root, finds KVM unusable for
  # the libvirt-qemu user, and re-probes on every start (about 50 s each).
  if [ -e /dev/kvm ]; then chgrp kvm /dev/kvm && chmod 0660 /dev/kvm; fi
  mkdir -p /var/log/libvirt/qemu /var/run/libvirt /var/lib/libvirt/qemu /var/lib/libvirt/images /var/cache/libvirt "$state"
  pgrep -x virtlogd >/dev/null || { virtlogd -d && touch "$state/virtlogd"; }
  libvirtd -d
  touch "$state/libvirtd"
  for _ in $(seq 1 100); do
    if answers; then
      # The first QEMU capability probe takes tens of seconds: do it here,
      # not in the first test that starts a domain.
      timeout 120 virsh -c "$uri" domcapabilities --virttype qemu >/dev/null 2>&1 || true
      echo "libvirtd.sh: libvirtd answers on $uri"
      return
    fi
    sleep 0.2
  done
  echo "libvirtd.sh: libvirtd did not answer on $uri within 20 s; its log:" >&2
  tail -n 20 /var/log/libvirt/libvirtd.log 2>/dev/null >&2 || true
  exit 1
}

stop() {
  # Only what this script started; by process id (no systemd here).
  if [ -e "$state/libvirtd" ]; then
    for d in $(virsh -c "$uri" list --name 2>/dev/null | grep '^crv-'); do virsh -c "$uri" destroy "$d" >/dev/null 2>&1 || true; done
    pkill -TERM -x libvirtd || true
    rm -f "$state/libvirtd"
  fi
  if [ -e "$state/virtlogd" ]; then
    pkill -TERM -x virtlogd || true
    rm -f "$state/virtlogd"
  fi
  echo "libvirtd.sh: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
