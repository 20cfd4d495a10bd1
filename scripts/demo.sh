#!/usr/bin/env bash
# Builds the synack tool and runs its main job: `synack demo` (arguments are passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target synack -j "$(nproc)" >/dev/null
exec ./build/synack demo "$@"
