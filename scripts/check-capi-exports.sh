#!/usr/bin/env bash
# libsynack.so exports the C ABI of include/synack/synack.h and nothing else: every
# defined dynamic symbol is synack_*, and every function the header declares is defined
# (those another part of the C ABI has yet to provide are named and allowed to be missing).
set -euo pipefail
lib=$1
header=$(dirname "$0")/../include/synack/synack.h
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
stray=$(echo "$exported" | grep -v '^synack_' || true)
if [ -n "$stray" ]; then
  echo "libsynack.so exports symbols outside the C ABI:"
  echo "$stray"
  exit 1
fi
declared=$(grep -oE 'SYNACK_API [^(]*\bsynack_[a-z_0-9]+\(' "$header" | grep -oE 'synack_[a-z_0-9]+\($' | tr -d '(' | sort -u)
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
if [ -n "$missing" ]; then
  echo "declared in synack.h, not (yet) in libsynack.so:"
  echo "$missing"
fi
echo "libsynack.so: $(echo "$exported" | wc -l) symbols, all synack_*"
