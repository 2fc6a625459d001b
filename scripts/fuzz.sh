#!/usr/bin/env bash
# fuzz.sh runs every Fuzz target of the given package patterns for FUZZTIME
# each (default 30s), one after another (`make fuzz`). New crashers land in
# the package's testdata/fuzz/<Target>/; commit them as seeds with the fix.
set -euo pipefail

fuzztime=${FUZZTIME:-30s}
[ $# -gt 0 ] || set -- ./...

ran=0
for pkg in $(go list "$@"); do
	targets=$(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for target in $targets; do
		echo "fuzz: $pkg $target for $fuzztime"
		go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$pkg"
		ran=$((ran + 1))
	done
done
echo "fuzz: ran $ran target(s) in $*"
