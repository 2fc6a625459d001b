package matching_test

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"venue/matching"
	"venue/matching/benchmix"
)

// TestPrefetchChangesNothing applies the benchmark flow twice: once bare,
// once announcing with Prefetch the next command, a random other one and
// commands that name nothing that exists; the events and the final state
// must be the same, byte for byte.
func TestPrefetchChangesNothing(t *testing.T) {
	m := benchmix.Make(100_000)
	r := rand.New(rand.NewPCG(5, 6))
	junk := []matching.Command{
		{Kind: matching.CmdCancel, OrderID: 1 << 62, Account: 1 << 30, ClOrdID: "nope"},
		{Kind: matching.CmdReplace, OrderID: 3},
		{Kind: matching.CmdNewOrder, Account: 4_000_000_000, ClOrdID: "x"},
		{},
	}
	run := func(prefetch bool) ([32]byte, [32]byte) {
		e := m.Fresh()
		h := sha256.New()
		for i := range m.Flow {
			if prefetch {
				if i+1 < len(m.Flow) {
					e.Prefetch(&m.Flow[i+1])
				}
				e.Prefetch(&m.Flow[r.IntN(len(m.Flow))])
				e.Prefetch(&junk[r.IntN(len(junk))])
				matching.PrefetchClOrdID(&m.Flow[r.IntN(len(m.Flow))])
				matching.PrefetchClOrdID(&junk[r.IntN(len(junk))])
			}
			for _, ev := range e.Apply(&m.Flow[i]) {
				fmt.Fprintf(h, "%+v\n", ev)
			}
		}
		var evs [32]byte
		copy(evs[:], h.Sum(nil))
		return evs, e.StateHash()
	}
	ev1, st1 := run(false)
	ev2, st2 := run(true)
	if ev1 != ev2 {
		t.Errorf("events differ with Prefetch: %x vs %x", ev1, ev2)
	}
	if st1 != st2 {
		t.Errorf("state differs with Prefetch: %x vs %x", st1, st2)
	}
}
