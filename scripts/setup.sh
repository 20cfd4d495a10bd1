#!/usr/bin/env bash
# Installs the Debian packages synack needs to build and test. Safe to run again: it only
# calls apt when something is missing. Runs as root (CI and the dev machines are root).
set -euo pipefail

packages=(
  g++ cmake ninja-build          # the toolchain
  libgtest-dev libgmock-dev      # unit, scenario and raw-peer tests
  libbenchmark-dev               # micro benchmarks
  clang-format                   # the format check in the test command
  libcli11-dev                   # the `synack` tool's command line (header-only)
  tshark                         # reads back the pcap files the tests write
  libxml2-utils                  # xmllint: the SVG ladder parses as XML
  iproute2 curl netcat-openbsd iputils-ping  # interop tests: namespaces, TUN and kernel peers
  nftables                       # interop tests: loss on the kernel side where tc netem is missing
  clang-14 libclang-rt-14-dev    # the libFuzzer targets (scripts/fuzz.sh): clang and its fuzzer runtime
  python3-scapy hping3           # interop tests: the malformed-packet battery and the SYN flood
  liblwip-dev iperf3 liburing-dev valgrind  # `synack bench`: lwIP and kernel peers, batched TUN I/O, profiles
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # tshark's package asks whether non-root users may capture; the default (no) is fine.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
