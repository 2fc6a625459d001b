package matching_test

import (
	"bytes"
	"fmt"
	"testing"

	"venue/matching"
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
