#!/usr/bin/env bash
# Runs every test of crv on this machine, from a clean clone:
#   1. installs the Debian packages (scripts/setup.sh),
#   2. builds (build/) and runs all tests: unit, fuzz-corpus regression and the
#      real-QEMU-guest tests (guests are built into build/guests at test time),
#   3. builds with clang + ASan/UBSan + libFuzzer (build-fuzz/), runs the unit
#      tests under the sanitizers and each fuzz target for a short while,
#   4. builds with every optional part off (Xen, libvirt, Kafka, Tesseract,
#      prometheus-cpp) and runs the unit tests there,
#   5. checks clang-format.
# Environment: CRV_FUZZ_SECONDS (per target, default 20), CRV_SKIP_SANITIZE=1, CRV_SKIP_MINIMAL=1.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

step() { printf '\n=== %s ===\n' "$*"; }

step "set-up"
scripts/setup.sh

step "build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build

step "tests: unit, fuzz corpus, real QEMU guests"
# The real-guest tests run one at a time (RUN_SERIAL): TCG needs the cores.
(cd build && ctest --output-on-failure -j "$jobs" --timeout 300)

if [ "${CRV_SKIP_SANITIZE:-0}" != 1 ]; then
  step "sanitizer + fuzz build (clang, ASan, UBSan, libFuzzer)"
  CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCRV_FUZZ=ON \
    -DCRV_SANITIZE=address,undefined -DCRV_BUILD_BENCHMARKS=OFF >/dev/null
  ninja -C build-fuzz crv_unit_tests register_parser_fuzz qmp_reader_fuzz frame_verifier_fuzz frame_file_fuzz model_parser_fuzz ppm_parser_fuzz stream_message_fuzz \
    register_parser_corpus_test qmp_reader_corpus_test frame_verifier_corpus_test frame_file_corpus_test \
    model_parser_corpus_test ppm_parser_corpus_test stream_message_corpus_test

  step "unit tests under ASan + UBSan"
  (cd build-fuzz && ctest --output-on-failure -j "$jobs" -L unit)

  step "fuzzing each target for ${CRV_FUZZ_SECONDS:-20} s"
  for t in register_parser qmp_reader frame_verifier frame_file model_parser ppm_parser stream_message; do
    work=$(mktemp -d)
    cp tests/fuzz/corpus/$t/* "$work"/
    build-fuzz/tests/${t}_fuzz -max_total_time="${CRV_FUZZ_SECONDS:-20}" -print_final_stats=0 -close_fd_mask=3 \
      "$work" 2>&1 | tail -n 2
    rm -rf "$work"
  done
fi

if [ "${CRV_SKIP_MINIMAL:-0}" != 1 ]; then
  step "build with every optional part off (build-minimal/)"
  cmake -S . -B build-minimal -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCRV_WITH_XEN=OFF -DCRV_WITH_LIBVIRT=OFF \
    -DCRV_WITH_KAFKA=OFF -DCRV_WITH_TESSERACT=OFF -DCRV_WITH_PROMETHEUS=OFF -DCRV_BUILD_BENCHMARKS=OFF >/dev/null
  ninja -C build-minimal
  (cd build-minimal && ctest --output-on-failure -j "$jobs" -L unit)
fi

step "clang-format"
files=$(git ls-files '*.cc' '*.h')
if ! clang-format --dry-run --Werror $files; then
  echo "clang-format: the files above need formatting (clang-format -i)" >&2
  exit 1
fi
echo "all tests passed"
