#!/usr/bin/env bash
# Installs every Debian package crv needs to build, test and run its fixture
# guests. Idempotent: packages already present are skipped by apt, and the
# apt index is refreshed only when it is older than a day or missing.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format git
  # core libraries
  libtbb-dev flatbuffers-compiler libflatbuffers-dev
  nlohmann-json3-dev libssl-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # optional backends (each one a CMake option)
  librdkafka-dev libxen-dev libvirt-dev
  # a real libvirtd for the libvirt collector tests (started by scripts/libvirtd.sh)
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients
  libtesseract-dev libleptonica-dev tesseract-ocr tesseract-ocr-eng
  prometheus-cpp-dev prometheus
  # real test guests
  qemu-system-x86 busybox-static cpio gzip
  # the real Kafka broker for tests (jars from Maven Central, scripts/kafka.sh)
  maven openjdk-17-jre-headless
)

if [ "$(id -u)" -ne 0 ]; then
  echo "setup.sh: needs root to install Debian packages (try: sudo $0)" >&2
  exit 2
fi

export DEBIAN_FRONTEND=noninteractive
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

stamp=/var/lib/apt/periodic/crv-update-stamp
if [ ${#missing[@]} -gt 0 ] || [ ! -f "$stamp" ]; then
  if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440 2>/dev/null)" ]; then
    echo "setup.sh: refreshing the apt index"
    apt-get update -q
    mkdir -p "$(dirname "$stamp")" && touch "$stamp"
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  # Services in the packages (prometheus, libvirt) must not start at install
  # time: the tests start what they need on loopback themselves.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all ${#packages[@]} packages present"
fi
