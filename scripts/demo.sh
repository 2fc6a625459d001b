#!/usr/bin/env bash
# demo.sh (`make demo`, after `make build`): start `venue dev` on a fresh
# data directory, drive it with simulated traders through FIX for a while,
# show what happened and how to connect a FIX client yourself.
#
# DEMO_SECONDS (default 60) is how long the traders trade; DEMO_DATA (default
# a new temporary directory) where the venue keeps its journal.
set -euo pipefail

venue=./bin/venue
seconds=${DEMO_SECONDS:-60}
data=${DEMO_DATA:-$(mktemp -d /tmp/venue-demo.XXXXXX)}
log="$data/venue.log"
out="$data/venue.out"
mkdir -p "$data"

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
INFO
