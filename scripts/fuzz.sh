#!/usr/bin/env bash
# Builds the libFuzzer targets (build-fuzz: clang, ASan + UBSan, no NDEBUG) and runs them.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]   each target SECONDS (default 20) on a copy of its
#                                           corpus; default: every target in fuzz/
#   scripts/fuzz.sh --seeds                 rewrites fuzz/corpus/ from simulated runs
#
# First every file in fuzz/regressions/<target>/ runs once through its target. The fuzzer
# then works in build-fuzz/corpus/<target> (seeded from fuzz/corpus/<target>, never
# written back), and a crash lands in build-fuzz/crashes/<target>/. Exits non-zero on any
# failure, naming the reproducer. Extra libFuzzer flags: FUZZ_FLAGS="-jobs=2 -workers=2".
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-fuzz
CC=clang-14 CXX=clang++-14 cmake -S . -B "$build" -G Ninja -DSYNACK_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=Debug -DSYNACK_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target fuzz_all gen_corpus

if [ "${1:-}" = "--seeds" ]; then
  rm -rf fuzz/corpus
  "$build/fuzz/gen_corpus" fuzz/corpus
  exit 0
fi

seconds=${1:-20}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/*_fuzz.cpp; do
    t=$(basename "$f" _fuzz.cpp)
    targets+=("$t")
  done
fi

status=0
for t in "${targets[@]}"; do
  bin="$build/fuzz/fuzz_$t"
  [ -x "$bin" ] || { echo "fuzz: no target $t" >&2; exit 2; }

  # Regressions: every crash found before, once each.
  if compgen -G "fuzz/regressions/$t/*" >/dev/null; then
    if ! "$bin" -runs=1 fuzz/regressions/"$t"/* >"$build/fuzz-$t-regressions.log" 2>&1; then
      echo "fuzz: $t: a regression input fails (log: $build/fuzz-$t-regressions.log)"
      tail -20 "$build/fuzz-$t-regressions.log"
      status=1
      continue
    fi
    echo "fuzz: $t: $(find fuzz/regressions/"$t" -type f | wc -l) regression inputs pass"
  fi

  work="$build/corpus/$t"
  crashes="$build/crashes/$t"
  mkdir -p "$work" "$crashes"
  [ -d "fuzz/corpus/$t" ] && cp -n fuzz/corpus/"$t"/* "$work"/ 2>/dev/null || true
  dict=()  # the TCP option kinds and lengths, for the targets that read options
  case $t in tcp | tcp_options | stack_packets) dict=(-dict=fuzz/tcp_options.dict) ;; esac
  log="$build/fuzz-$t.log"
  # shellcheck disable=SC2086
  if "$bin" "$work" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=4096 -print_final_stats=1 -artifact_prefix="$crashes/" ${FUZZ_FLAGS:-} \
      >"$log" 2>&1; then
    final=$(grep -E '^#[0-9]+' "$log" | tail -1)
    execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    echo "fuzz: $t: ${execs:-?} execs in ${seconds}s; $(echo "$final" | grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+')"
  else
    echo "fuzz: $t: FAILED (log: $log)"
    grep -E 'ERROR|FUZZ_CHECK|SUMMARY|Test unit written' "$log" | head -10
    for f in $(grep -oE "Test unit written to \S+" "$log" | awk '{print $5}'); do
      echo "fuzz: $t: reproducer $f (rerun: $bin $f)"
    done
    status=1
  fi
done
exit $status
