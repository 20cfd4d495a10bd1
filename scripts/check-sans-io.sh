#!/usr/bin/env bash
# The protocol core is sans-I/O (DESIGN.md): outside src/link, src/runtime and src/capi (the
# C ABI and its packetdrill adapter) no file may include OS headers, start threads, read a
# clock or draw OS randomness.
set -euo pipefail
cd "$(dirname "$0")/.."
hits=$(grep -rnE '#include <(sys/|thread>|unistd\.h>|fcntl\.h>|random>)|(steady|system|high_resolution)_clock::now|std::rand\(|random_device' src \
       | grep -vE '^src/(link|runtime|capi)/' || true)
if [ -n "$hits" ]; then
  echo "OS calls, clock reads or OS randomness in the sans-I/O core:"
  echo "$hits"
  exit 1
fi
echo "sans-I/O core: clean"
