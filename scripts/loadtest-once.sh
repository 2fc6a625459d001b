#!/usr/bin/env bash
# loadtest-once.sh BIN [venue loadtest flags...]: starts a fresh `BIN dev` on
# its own data directory and free ports (19878-19880, 18080), waits for
# `ready`, runs one `BIN loadtest` against it, prints the summary, and stops
# it. BENCHMARKS.md's order-entry figures come from this.
#
# The back office: by default VENUE_DATABASE_URL points at a database that
# does not exist, so the projector stays unavailable (the order path alone).
# BACKOFFICE=1 gives the venue a fresh PostgreSQL database (dropped after),
# so the projector writes as the run goes. FOURTH=1 (with BACKOFFICE=1) adds
# an order-entry session FIRM_A_2 on FIRM_A's account (password firm_a_2)
# for `--comp-ids FIRM_A,FIRM_B,FIRM_C,FIRM_A_2 --sessions 4`.
#
# CLIENT=PATH runs that binary's `loadtest` instead of BIN's (to compare
# two venues with one client). After the summary it prints the CPU time
# the venue used during the run (user + system, from /proc).
set -euo pipefail
BIN=${1:?usage: loadtest-once.sh BIN [loadtest flags...]}
shift
D=$(mktemp -d /tmp/venue-lt.XXXXXX)
export VENUE_FIX_ORDER_ENTRY_ADDR=127.0.0.1:19878 VENUE_FIX_DROP_COPY_ADDR=127.0.0.1:19879 \
	VENUE_FIX_MARKET_DATA_ADDR=127.0.0.1:19880 VENUE_OPS_ADDR=127.0.0.1:18080 VENUE_LOG_LEVEL=warn
PG=postgres://postgres@127.0.0.1:5432
DB=""
if [ "${BACKOFFICE:-0}" = 1 ]; then
	DB=venue_lt_$$
	psql "$PG/postgres?sslmode=disable" -qc "CREATE DATABASE $DB"
	export VENUE_DATABASE_URL="$PG/$DB?sslmode=disable"
else
	export VENUE_DATABASE_URL="$PG/venue_lt_none_$$?sslmode=disable"
fi
"$BIN" dev --data "$D" >"$D/venue.log" 2>&1 &
P=$!
cleanup() {
	kill $P 2>/dev/null || true
	wait $P 2>/dev/null || true
	[ -z "$DB" ] || psql "$PG/postgres?sslmode=disable" -qc "DROP DATABASE $DB WITH (FORCE)"
	rm -rf "$D"
}
trap cleanup EXIT
for _ in $(seq 200); do
	grep -q ready "$D/venue.log" 2>/dev/null && break
	sleep 0.1
done
grep -q ready "$D/venue.log" || { echo "venue did not start:" >&2; cat "$D/venue.log" >&2; exit 1; }
if [ "${FOURTH:-0}" = 1 ]; then
	printf 'firm_a_2\n' | "$BIN" admin --operator loadtest session add --comp-id FIRM_A_2 --kind order-entry \
		--firm FIRM_A --account FIRM_A --password-stdin >/dev/null
	sleep 2 # the venue reads the back office every second
fi
cpu() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$P/stat"; }
c0=$(cpu)
"${CLIENT:-$BIN}" loadtest --addr 127.0.0.1:19878 --no-progress "$@"
echo "venue cpu      $(awk -v a="$c0" -v b="$(cpu)" 'BEGIN { printf "%.2f", b - a }') s during the run"
