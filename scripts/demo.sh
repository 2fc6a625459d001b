#!/usr/bin/env bash
# demo.sh runs the venue as far as it exists (`make demo`, after `make build`).
# The target state (DESIGN.md): start `venue dev`, drive it with simulated
# traders, show what happened. Until `venue dev` exists it says so instead of
# pretending.
set -euo pipefail

venue=./bin/venue

if "$venue" dev --help >/dev/null 2>&1; then
	exec "$venue" dev "$@"
fi

"$venue" version
echo
echo "demo: 'venue dev' is not implemented yet, so nothing is started and nothing"
echo "demo: listens. This build has: version, config print. The configuration"
echo "demo: 'venue dev' will use:"
echo
"$venue" config print
