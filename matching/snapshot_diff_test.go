package matching_test

import (
	"bytes"
	"fmt"
	"testing"

	"venue/matching"
	"venue/matching/benchmix"
)

// TestSnapshotRestoreContinues is the differential test with the engine
// swapped, every few hundred commands, for a fresh one restored from its
// snapshot. The restored engine must go on producing exactly the
// reference model's events: anything the snapshot leaves out that later
// commands depend on (ClOrdIDs, GTD expiry, stop order, time priority,
// idempotency keys, counters) shows as a difference in events, which the
// state hash alone would not.
func TestSnapshotRestoreContinues(t *testing.T) {
	n := 60_000
	if testing.Short() {
		n = 6_000
	}
	const every = 397
	for _, seed := range []uint64{21, 22} {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			t.Logf("seed %d, %d commands, restore every %d", seed, n, every)
			d := newDiffRun(t, fmt.Sprintf("seed %d", seed))
			g := newGenerator(newRNGSource(seed))
			restores := 0
			for i := range n {
				if i > 0 && i%every == 0 {
					snap := d.eng.MarshalSnapshot()
					e := matching.New()
					if err := e.RestoreSnapshot(snap); err != nil {
						t.Fatalf("command %d: restore: %v", i, err)
					}
					if again := e.MarshalSnapshot(); !bytes.Equal(again, snap) {
						t.Fatalf("command %d: the restored engine's snapshot differs", i)
					}
					if err := e.CheckInvariants(); err != nil {
						t.Fatalf("command %d: restored engine: %v", i, err)
					}
					d.eng = e
					restores++
				}
				cmd := g.next()
				want, ok := d.step(i, &cmd)
				if !ok {
					t.Fatalf("seed %d: differs after %d restores (rerun: go test -run TestSnapshotRestoreContinues/seed=%d ./matching/)", seed, restores, seed)
				}
				g.observe(want)
			}
			d.finish()
			t.Logf("seed %d: %d restores, %d events, %d trades", seed, restores, d.events, d.trades)
		})
	}
}

// TestCaptureEncodesLater: a capture encoded after the engine went on
// (orders, cancels, a new day that empties the ClOrdID index) gives the
// bytes MarshalSnapshot gave at the moment of the capture, and encoding it
// twice gives them twice.
func TestCaptureEncodesLater(t *testing.T) {
	m := benchmix.Make(300_000)
	e := m.Fresh()
	type pending struct {
		at   int
		c    *matching.SnapshotCapture
		want []byte
	}
	var open []pending
	for i := range m.Flow {
		if i%40_000 == 39_999 { // NewDay falls every 250,000
			open = append(open, pending{i, e.CaptureSnapshot(), e.MarshalSnapshot()})
		}
		e.Apply(&m.Flow[i])
	}
	if len(open) < 5 {
		t.Fatalf("%d captures", len(open))
	}
	for _, p := range open {
		if got := p.c.Encode(); !bytes.Equal(got, p.want) {
			t.Fatalf("capture at command %d: encoded %d bytes differ from the %d of MarshalSnapshot then", p.at, len(got), len(p.want))
		}
		if again := p.c.Encode(); !bytes.Equal(again, p.want) {
			t.Fatalf("capture at command %d: a second Encode differs", p.at)
		}
	}
}
