#!/usr/bin/env bash
# Records a labelled profile of each training fixture (crv profile), booting
# each under QEMU (TCG) for a fixed time. Labels come from each guest's
# serial-console rules.
#   scripts/record-profiles.sh OUTDIR [SECONDS] [GUEST...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: record-profiles.sh OUTDIR [SECONDS] [GUEST...]}
seconds=${2:-25}
shift $(( $# >= 2 ? 2 : 1 ))
guests=("$@")
[ ${#guests[@]} -gt 0 ] || guests=(ok ok-smp ok-verbose ok-big late-service late-service-smp panic panic-smp)
crv=${CRV:-build/crv}
guests_dir=${CRV_GUESTS_DIR:-build/guests}
mkdir -p "$out"
for g in "${guests[@]}"; do
  scripts/build-guest.sh "$g" "$guests_dir" >/dev/null
  echo "profiling $g for $seconds s"
  "$crv" profile --guest "$g" --guests-dir "$guests_dir" --accel tcg --seconds "$seconds" --hz 50 -q -o "$out/$g"
done
