#!/usr/bin/env bash
# docs/rfc9293-compliance.md and the [RFC9293 MUST-N] tags in src/ must agree: every MUST
# the table says is met is tagged where it is met, and every tag names a MUST the table
# says is met.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/rfc9293-compliance.md
met=$(grep -oE '^\| MUST-[0-9]+ \|[^|]*\| met \|' "$doc" | grep -oE 'MUST-[0-9]+' | sort -u)
tagged=$(grep -rhoE '\[RFC9293 [^]]*\]' src | grep -oE 'MUST-[0-9]+' | sort -u)
untagged=$(comm -23 <(echo "$met") <(echo "$tagged"))
unlisted=$(comm -13 <(echo "$met") <(echo "$tagged"))
status=0
if [ -n "$untagged" ]; then
  echo "met in $doc but tagged nowhere in src/:"; echo "$untagged"; status=1
fi
if [ -n "$unlisted" ]; then
  echo "tagged in src/ but not marked met in $doc:"; echo "$unlisted"; status=1
fi
[ $status -eq 0 ] && echo "RFC 9293 compliance table and tags agree ($(echo "$met" | wc -l) MUSTs met)"
exit $status
