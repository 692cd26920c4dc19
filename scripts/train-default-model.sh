#!/usr/bin/env bash
# Reproduces config/models/default.model.json from scratch: builds crv and the
# training fixtures, records a labelled profile of each (TCG, 25 s, 50 Hz),
# cross-validates leave-one-boot-out and trains the model.
#   scripts/train-default-model.sh [PROFILES_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
profiles=${1:-build/profiles}
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build crv
rm -rf "$profiles"
scripts/record-profiles.sh "$profiles" 25
build/crv eval "$profiles" --window 25 --hop 5
build/crv train "$profiles" --window 25 --hop 5 -o config/models/default.model.json
build/crv rules config/models/default.model.json
