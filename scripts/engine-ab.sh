#!/bin/sh
# engine-ab.sh REV [engineab flags]: times the working tree's matching
# engine against the one at git revision REV, in one process, on the same
# benchmix flow (see internal/engineab). For a change to the engine on a
# noisy machine, the paired ratio is the figure to trust; the absolute
# ops/s move with the host.
#   scripts/engine-ab.sh HEAD~3
#   scripts/engine-ab.sh main -rounds 20 -no-clordid -prefetch
set -eu
rev=${1:?usage: engine-ab.sh REV [-rounds N] [-no-clordid] [-prefetch]}
shift
cd "$(git rev-parse --show-toplevel)"
dir=internal/engineab/base
rm -rf "$dir"
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT
for f in $(git ls-tree --name-only "$rev" matching/); do
	case "$f" in
	*_test.go) ;;
	*.go | *.s) git show "$rev:$f" >"$dir/$(basename "$f")" ;;
	esac
done
go run -tags engineab ./internal/engineab "$@"
