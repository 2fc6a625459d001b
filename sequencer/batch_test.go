package sequencer

import (
	"sync/atomic"
	"testing"
	"time"

	"venue/journal/faultfs"
	"venue/matching"
)

// Group commit is bounded by count (MaxBatch) and by time (MaxDelay, looked
// at every 64 commands): commands queued while a batch is being applied go
// out together in the next fsyncs, never more than the bounds allow.
func TestGroupCommitBounds(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		queued  int
		batches uint64 // after the first, blocked one
	}{
		// MaxDelay of a second: only the count can bind, however slow the
		// machine (the race detector, a loaded CI box).
		{name: "all queued in one fsync", cfg: Config{MaxDelay: time.Second}, queued: 200, batches: 1},
		{name: "count bound", cfg: Config{MaxBatch: 8, MaxDelay: time.Second}, queued: 100, batches: 13},
		{name: "count bound exact", cfg: Config{MaxBatch: 50, MaxDelay: time.Second}, queued: 100, batches: 2},
		{name: "time bound cuts at 64", cfg: Config{MaxDelay: time.Nanosecond}, queued: 200, batches: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := &fakeEngine{gate: make(chan struct{})}
			cfg := tt.cfg
			cfg.FS = faultfs.New()
			s, _ := openT(t, eng, cfg)
			defer s.Close()
			var replies atomic.Int64
			reply := func(r Result) {
				if r.Err != nil {
					t.Error(r.Err)
				}
				replies.Add(1)
			}
			// The first command's batch blocks in Apply, after its fsync.
			if err := s.SubmitAsync(&matching.Command{Kind: matching.CmdClock}, reply); err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool { return s.Stats().QueueLen == 0 })
			for range tt.queued {
				if err := s.SubmitAsync(&matching.Command{Kind: matching.CmdClock}, reply); err != nil {
					t.Fatal(err)
				}
			}
			if n := s.Stats().QueueLen; n != tt.queued {
				t.Fatalf("%d queued, want %d", n, tt.queued)
			}
			close(eng.gate)
			waitFor(t, func() bool { return replies.Load() == int64(tt.queued+1) })
			st := s.Stats()
			if st.Commands != uint64(tt.queued+1) || st.Batches != 1+tt.batches || st.FsyncCount != st.Batches {
				t.Fatalf("commands %d, batches %d (want 1+%d), fsyncs %d", st.Commands, st.Batches, tt.batches, st.FsyncCount)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}
