#!/usr/bin/env bash
# The README's first command: sets everything up, builds crv, builds the `ok`
# fixture guest (Debian's kernel + a busybox initramfs), records its boot
# under QEMU for 15 s at 50 Hz and prints the per-window register entropy.
# No broker, no network: the embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
guest=${1:-ok}
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build crv
scripts/build-guest.sh "$guest" build/guests >/dev/null
mkdir -p build/demo
build/crv record --guest "$guest" --guests-dir build/guests --seconds 15 --hz 50 \
  -o "build/demo/$guest.crvf" --serial-log "build/demo/$guest.serial.log"
echo
echo "Entropy (bits) per 25-tick window of selected registers; full series: build/crv replay build/demo/$guest.crvf --entropy"
build/crv replay "build/demo/$guest.crvf" --entropy |
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i }
           { printf "%-7s %-7s %-9s %-9s %-9s %-9s %-9s %-13s %s\n", $col["window"], $col["first_seq"], $col["rip"], $col["rsp"], $col["rax"], $col["cr3"], $col["if_share"], $col["halted_share"], $col["user_share"] }'
echo
echo "serial console: build/demo/$guest.serial.log (last lines below)"
tail -n 3 "build/demo/$guest.serial.log"
