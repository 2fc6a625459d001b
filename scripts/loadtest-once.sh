#!/usr/bin/env bash
# loadtest-once.sh BIN [venue loadtest flags...]: starts a fresh `BIN dev` on
# its own data directory and free ports (19878-19880, 18080), waits for
# `ready`, runs one `BIN loadtest` against it, prints the summary, and stops
# it. BENCHMARKS.md's order-entry figures come from this.
set -euo pipefail
BIN=${1:?usage: loadtest-once.sh BIN [loadtest flags...]}
shift
D=$(mktemp -d /tmp/venue-lt.XXXXXX)
export VENUE_FIX_ORDER_ENTRY_ADDR=127.0.0.1:19878 VENUE_FIX_DROP_COPY_ADDR=127.0.0.1:19879 \
	VENUE_FIX_MARKET_DATA_ADDR=127.0.0.1:19880 VENUE_OPS_ADDR=127.0.0.1:18080 VENUE_LOG_LEVEL=warn
"$BIN" dev --data "$D" >"$D/venue.log" 2>&1 &
P=$!
trap 'kill $P 2>/dev/null; wait $P 2>/dev/null; rm -rf "$D"' EXIT
for _ in $(seq 200); do
	grep -q ready "$D/venue.log" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$D/venue.log" || { echo "venue did not start:" >&2; cat "$D/venue.log" >&2; exit 1; }
"$BIN" loadtest --addr 127.0.0.1:19878 --no-progress "$@"
