#!/usr/bin/env bash
# The README's first command: sets everything up, builds crv, builds the `ok`
# fixture guest (Debian's kernel + a busybox initramfs) and verifies it: boots
# it in an isolated QEMU VM, watches its registers until the classifier and
# the screen agree that it has booted, and prints the verdict and the path of
# the screenshot that proves it. No broker, no network: the embedded defaults.
#   scripts/demo.sh [GUEST]     (ok, panic, slow-init, hang, ...)
set -euo pipefail
cd "$(dirname "$0")/.."
guest=${1:-ok}
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build crv
scripts/build-guest.sh "$guest" build/guests >/dev/null
echo
set +e
build/crv verify --guest "$guest" --guests-dir build/guests --out build/demo --max-boot-time 120
code=$?
set -e
echo "exit code $code (0 booted, 1 boot failure, 2 could not verify)"
exit $code
