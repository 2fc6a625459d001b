#!/usr/bin/env bash
# demo.sh (`make demo`, after `make build`): start `venue dev` on a fresh
# data directory, drive it with simulated traders through FIX for a while,
# show what happened and how to connect a FIX client yourself.
#
# DEMO_SECONDS (default 60) is how long the traders trade; DEMO_DATA (default
# a new temporary directory) where the venue keeps its journal; the back
# office goes into a new PostgreSQL database venue_demo_<time> (DEMO_DB
# overrides), created by `venue migrate` and kept for you to query.
set -euo pipefail

venue=./bin/venue
seconds=${DEMO_SECONDS:-60}
data=${DEMO_DATA:-$(mktemp -d /tmp/venue-demo.XXXXXX)}
log="$data/venue.log"
out="$data/venue.out"
mkdir -p "$data"
db=${DEMO_DB:-venue_demo_$(date +%Y%m%d_%H%M%S)}
export VENUE_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db?sslmode=disable"
export VENUE_DATABASE_REQUIRED=true
echo "demo: back office database $db"
"$venue" migrate | sed 's/^/  /'

echo "demo: starting venue dev (data $data, log $log)"
"$venue" dev --data "$data" >"$out" 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
	if grep -qx ready "$out" 2>/dev/null; then break; fi
	if ! kill -0 $pid 2>/dev/null; then
		echo "demo: venue dev exited:"; cat "$out" "$log"; exit 1
	fi
	sleep 0.1
done
grep -qx ready "$out" || { echo "demo: venue dev not ready after 10 s"; cat "$log"; exit 1; }
sed '/^ready$/d' "$out"
echo

addr=$(grep -o 'order entry on [0-9.:]*' "$out" | awk '{print $4}')
echo "demo: ${seconds}s of simulated traders: FIRM_A and FIRM_B make markets around 60,000.00,"
echo "demo: FIRM_C takes (IOC and crossing limits), each with 64 orders in flight"
"$venue" loadtest --addr "$addr" --sessions 3 --mix 2/1 --window 64 --duration "${seconds}s"
echo

# Let the projector catch up, then show the back office.
ops=$(grep -o 'ops HTTP on http://[0-9.]*:[0-9]*' "$out" | sed 's#.*http://##')
for _ in $(seq 1 100); do
	lag=$(curl -s "http://$ops/metrics" 2>/dev/null | awk '/^venue_backoffice_lag_commands /{print $2}' || true)
	[ "$lag" = "0" ] && break
	sleep 0.1
done
psql_cmd=(psql -X -q -h 127.0.0.1 -U postgres -d "$db" -P pager=off)
echo "demo: the back office (PostgreSQL $db), top accounts by volume:"
"${psql_cmd[@]}" -c "SELECT a.name AS account, count(*) AS fills, sum(e.last_qty) AS btc, sum(e.last_qty * e.last_px) AS usd, sum(e.commission) AS fees_usd
  FROM executions e JOIN accounts a ON a.id = e.account_id WHERE e.exec_type = 'F'
  GROUP BY a.name ORDER BY usd DESC LIMIT 10;"
echo "demo: fees collected by the venue (the fee account's balance), trades, and the ledger check (no rows: every entry sums to zero):"
"${psql_cmd[@]}" -c "SELECT s.name AS asset, b.amount AS fees FROM balances b JOIN assets s ON s.id = b.asset_id WHERE b.account_id = 1;"
"${psql_cmd[@]}" -c "SELECT count(*) AS trades, sum(qty) AS btc, sum(notional) AS usd FROM trades;"
"${psql_cmd[@]}" -c "SELECT seq, event_index, asset_id, sum(amount) FROM ledger_postings GROUP BY 1, 2, 3 HAVING sum(amount) <> 0;"
echo

echo "demo: the venue's journal after the run:"
kill -TERM $pid
wait $pid || true
trap - EXIT
tail -n 1 "$out"
"$venue" journal verify --data "$data" | sed 's/^/  /'
"$venue" journal replay --data "$data" | sed 's/^/  /'
echo
cat <<INFO
demo: connect a FIX 4.4 client yourself: start '$venue dev' (data ./venue-data), then
demo:   host 127.0.0.1 port 9878, SenderCompID FIRM_A (or FIRM_B, FIRM_C), TargetCompID VENUE,
demo:   Logon 553=FIRM_A 554=firm_a 141=Y; symbol BTC-USD, e.g.
demo:   35=D 11=my-1 55=BTC-USD 54=1 38=0.01 40=2 44=59000.00 59=1 60=<now>
demo: or load it: '$venue loadtest --sessions 3 --duration 10s'
demo: the back office of this run: psql -h 127.0.0.1 -U postgres -d $db
demo:   (drop it with: psql -h 127.0.0.1 -U postgres -c 'DROP DATABASE $db')
INFO
