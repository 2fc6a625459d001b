package fix

import (
	"math/rand/v2"
	"sync"
	"testing"
)

// TestQueueIsABoundedFIFO: producers putting (waiting when full) and
// trying (refused when full) against one taker taking random amounts:
// every item put arrives once, each producer's in order, never more than
// max are queued, and after close the rest can still be taken and
// nothing more is accepted.
func TestQueueIsABoundedFIFO(t *testing.T) {
	for _, max := range []int{1, 3, 64, 5000} {
		q := newQueue[[2]int](max)
		const producers, each = 4, 20_000
		var wg sync.WaitGroup
		var refusedMu sync.Mutex
		refused := map[[2]int]bool{}
		for p := range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(p), uint64(max)))
				for i := range each {
					v := [2]int{p, i}
					if rng.IntN(3) == 0 {
						if !q.tryPut(v) {
							refusedMu.Lock()
							refused[v] = true
							refusedMu.Unlock()
						}
						continue
					}
					if !q.put(v) {
						t.Errorf("put %v refused before close", v)
					}
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); q.close(); close(done) }()
		next := make([]int, producers)
		got := 0
		rng := rand.New(rand.NewPCG(99, uint64(max)))
		var batch [][2]int
		for {
			if n := q.len(); n > max {
				t.Fatalf("max %d: %d queued", max, n)
			}
			var ok bool
			batch, ok = q.take(batch[:0], 1+rng.IntN(300))
			if !ok {
				break
			}
			for _, v := range batch {
				refusedMu.Lock()
				for next[v[0]] < v[1] && refused[[2]int{v[0], next[v[0]]}] {
					next[v[0]]++
				}
				refusedMu.Unlock()
				if v[1] != next[v[0]] {
					t.Fatalf("max %d: producer %d item %d arrived, want %d", max, v[0], v[1], next[v[0]])
				}
				next[v[0]]++
				got++
			}
		}
		<-done
		if got+len(refused) != producers*each {
			t.Fatalf("max %d: %d taken + %d refused, want %d", max, got, len(refused), producers*each)
		}
		if q.tryPut([2]int{}) || q.put([2]int{}) {
			t.Fatalf("max %d: a closed queue took an item", max)
		}
	}
}

// TestQueueMemoryIsBounded: a queue that never empties reuses its buffer
// (it does not grow with everything that ever passed through), and one
// that empties gives a large buffer back.
func TestQueueMemoryIsBounded(t *testing.T) {
	const max = 100
	q := newQueue[int](max)
	for i := range 50 {
		q.tryPut(i)
	}
	var dst []int
	for i := range 100 * max {
		if !q.tryPut(i) {
			t.Fatalf("put %d refused with %d queued", i, q.len())
		}
		dst, _ = q.take(dst[:0], 1)
		if c := cap(q.buf); c > 2*max {
			t.Fatalf("after %d puts and takes the buffer holds %d, for at most %d queued", i, c, max)
		}
	}
	big := newQueue[int](10 * queueKeep)
	for i := range 5 * queueKeep {
		big.tryPut(i)
	}
	for big.len() > 0 {
		dst, _ = big.take(dst[:0], 1000)
	}
	if c := cap(big.buf); c > queueKeep {
		t.Fatalf("an empty queue keeps a buffer of %d (at most %d)", c, queueKeep)
	}
}
