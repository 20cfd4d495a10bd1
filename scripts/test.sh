#!/usr/bin/env bash
# Builds synack and runs every test: the format and layering checks, the plain build's full
# suite, then the unit and scenario tests again under AddressSanitizer + UBSan, then each
# libFuzzer target briefly (after its regression inputs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

echo "== format check"
git ls-files '*.cpp' '*.hpp' '*.h' '*.c' | xargs clang-format --dry-run -Werror

jobs=$(nproc)
echo "== plain build"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs" --timeout 300

echo "== sanitizer build (ASan + UBSan)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSYNACK_SANITIZE=ON \
  -DSYNACK_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
ctest --test-dir build-asan -L 'unit|scenario' --output-on-failure -j "$jobs" --timeout 600

echo "== fuzzing (regression inputs, then 15 s per target)"
scripts/fuzz.sh 15
