package sequencer

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"venue/journal"
	"venue/journal/faultfs"
	"venue/matching"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeEngine chains a hash over every command it applies and answers each
// with one event; gate, when set, holds Apply until it is closed.
type fakeEngine struct {
	n      uint64
	h      [32]byte
	events []matching.Event
	gate   chan struct{}
}

func (e *fakeEngine) Apply(c *matching.Command) []matching.Event {
	if e.gate != nil {
		<-e.gate
	}
	e.n++
	e.h = sha256.Sum256(journal.AppendCommand(e.h[:], c))
	e.events = append(e.events[:0], matching.Event{Seq: c.Seq, Time: c.Time, Kind: matching.EvClock, Ref: c.Kind})
	return e.events
}

func (e *fakeEngine) MarshalSnapshot() []byte {
	return append(binary.LittleEndian.AppendUint64(nil, e.n), e.h[:]...)
}

func (e *fakeEngine) RestoreSnapshot(b []byte) error {
	if len(b) != 40 {
		return errors.New("fake: bad snapshot")
	}
	e.n = binary.LittleEndian.Uint64(b)
	copy(e.h[:], b[8:])
	return nil
}

func (e *fakeEngine) StateHash() [32]byte { return e.h }

const testDir = "/venue/data"

func openT(t *testing.T, eng Engine, cfg Config) (*Sequencer, Recovery) {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = quiet
	}
	s, rec, err := Open(testDir, eng, cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s, rec
}

func TestSubmitStampsSeqAndTime(t *testing.T) {
	fsys := faultfs.New()
	// A clock that goes back: stamped times must not.
	var tick atomic.Int64
	clock := func() int64 {
		n := tick.Add(1)
		if n%3 == 0 {
			return 1000 - n
		}
		return 1000 + n
	}
	s, rec := openT(t, &fakeEngine{}, Config{FS: fsys, Clock: clock})
	if rec.LastSeq != 0 {
		t.Fatalf("fresh: %+v", rec)
	}
	ctx := context.Background()
	var lastTime int64
	for i := uint64(1); i <= 50; i++ {
		r, err := s.Submit(ctx, &matching.Command{Kind: matching.CmdClock})
		if err != nil {
			t.Fatal(err)
		}
		if r.Seq != i || r.Time < lastTime || len(r.Events) != 1 || r.Events[0].Seq != i {
			t.Fatalf("result %d: %+v", i, r)
		}
		lastTime = r.Time
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(ctx, &matching.Command{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit after close: %v", err)
	}
	// Reopen: seqs and times go on from the journal.
	s, rec = openT(t, &fakeEngine{}, Config{FS: fsys, Clock: func() int64 { return 0 }})
	if rec.LastSeq != 50 || rec.LastTime != lastTime || rec.Replayed != 50 {
		t.Fatalf("recovery %+v, want last 50 time %d", rec, lastTime)
	}
	r, err := s.Submit(ctx, &matching.Command{Kind: matching.CmdClock})
	if err != nil || r.Seq != 51 || r.Time != lastTime {
		t.Fatalf("after recovery: %+v %v", r, err)
	}
	s.Close()
	if st := s.Stats(); st.Commands != 1 || st.Batches != 1 || st.FsyncCount != 1 || st.LastSeq != 51 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSubmitRejects(t *testing.T) {
	gate := make(chan struct{})
	eng := &fakeEngine{gate: gate}
	s, _ := openT(t, eng, Config{FS: faultfs.New(), QueueDepth: 4, MaxBatch: 1})
	long := &matching.Command{ClOrdID: string(make([]byte, journal.MaxStringLen+1))}
	if err := s.SubmitAsync(long, nil); !errors.Is(err, journal.ErrCommandTooLong) {
		t.Fatalf("long: %v", err)
	}
	if err := s.SubmitAsync(nil, nil); err == nil {
		t.Fatal("nil accepted")
	}
	// One command is held in Apply, the queue takes 4 more, then full.
	var full error
	for i := 0; i < 10 && full == nil; i++ {
		full = s.SubmitAsync(&matching.Command{Kind: matching.CmdClock}, func(Result) {})
		if i == 0 {
			time.Sleep(20 * time.Millisecond) // let the loop take the first
		}
	}
	if !errors.Is(full, ErrQueueFull) {
		t.Fatalf("queue never full: %v", full)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := s.Submit(ctx, &matching.Command{Kind: matching.CmdClock}); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("submit to a full queue: %v", err)
	}
	close(gate)
	for {
		// The queue drains; a Submit with a deadline then gets through.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := s.Submit(ctx, &matching.Command{Kind: matching.CmdClock})
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, ErrQueueFull) {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// gatedFS holds every file Sync until the test lets it go.
type gatedFS struct {
	journal.FS
	syncing chan struct{}
	release chan struct{}
}

type gatedFile struct {
	journal.File
	fs *gatedFS
}

func (g *gatedFS) OpenFile(name string, flag int, perm os.FileMode) (journal.File, error) {
	f, err := g.FS.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return gatedFile{f, g}, nil
}

func (f gatedFile) Sync() error {
	f.fs.syncing <- struct{}{}
	<-f.fs.release
	return f.File.Sync()
}

// Nothing is published before the fsync that covers it has returned.
func TestNothingLeavesBeforeFsync(t *testing.T) {
	g := &gatedFS{FS: faultfs.New(), syncing: make(chan struct{}, 100), release: make(chan struct{})}
	// Segment creation syncs too: let those through.
	go func(syncing chan struct{}) {
		for range syncing {
		}
	}(g.syncing)
	close(g.release)
	s, _ := openT(t, &fakeEngine{}, Config{FS: g})
	s.Submit(context.Background(), &matching.Command{Kind: matching.CmdClock}) // creates the segment
	g.release = make(chan struct{})
	g2 := make(chan struct{}, 100)
	g.syncing = g2
	sub := s.Subscribe("md", 100)
	var replies atomic.Int32
	for i := 0; i < 20; i++ {
		if err := s.SubmitAsync(&matching.Command{Kind: matching.CmdClock}, func(Result) { replies.Add(1) }); err != nil {
			t.Fatal(err)
		}
	}
	<-g2 // the batch is in fsync
	time.Sleep(30 * time.Millisecond)
	if n := replies.Load(); n != 0 {
		t.Fatalf("%d results before the fsync returned", n)
	}
	if len(sub.C) != 0 {
		t.Fatal("subscriber got events before the fsync returned")
	}
	close(g.release)
	deadline := time.Now().Add(5 * time.Second)
	for replies.Load() < 20 && time.Now().Before(deadline) {
		select {
		case <-g2:
		default:
			time.Sleep(time.Millisecond)
		}
	}
	if replies.Load() != 20 {
		t.Fatalf("%d results", replies.Load())
	}
	go func() {
		for range g2 {
		}
	}()
	s.Close()
}

func TestSubscribers(t *testing.T) {
	s, _ := openT(t, &fakeEngine{}, Config{FS: faultfs.New()})
	fast := s.Subscribe("fast", 10_000)
	slow := s.Subscribe("slow", 10)
	if fast.FirstSeq != 1 {
		t.Fatalf("first seq %d", fast.FirstSeq)
	}
	var got []uint64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range fast.C {
			got = append(got, p.Seq)
			if len(p.Events) != 1 || p.Events[0].Seq != p.Seq {
				t.Errorf("published %+v", p)
			}
		}
	}()
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 250; i++ {
				if _, err := s.Submit(ctx, &matching.Command{Kind: matching.CmdClock}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// The slow one never read: it was dropped, with a reason.
	n := 0
	for range slow.C {
		n++
	}
	if n > 10 || slow.Reason() == "" {
		t.Fatalf("slow: %d delivered, reason %q", n, slow.Reason())
	}
	if st := s.Stats(); st.SubscribersDropped != 1 || st.Subscribers != 1 {
		t.Fatalf("stats %+v", st)
	}
	if s.Drops("slow") != 1 || s.Drops("fast") != 0 {
		t.Fatalf("drops by name: slow %d, fast %d", s.Drops("slow"), s.Drops("fast"))
	}
	// A Submit returns when its reply is sent, a moment before its batch
	// is published to subscribers: wait for the publish of the last one.
	late := s.Subscribe("late", 0)
	for deadline := time.Now().Add(5 * time.Second); late.FirstSeq != 1001 && time.Now().Before(deadline); {
		late.Close()
		time.Sleep(time.Millisecond)
		late = s.Subscribe("late", 0)
	}
	if late.FirstSeq != 1001 {
		t.Fatalf("late first seq %d", late.FirstSeq)
	}
	late.Close()
	if _, ok := <-late.C; ok || late.Reason() != "closed by subscriber" {
		t.Fatalf("late close: %q", late.Reason())
	}
	s.Close()
	<-done
	if len(got) != 1000 {
		t.Fatalf("fast got %d", len(got))
	}
	for i, seq := range got {
		if seq != uint64(i+1) {
			t.Fatalf("fast got seq %d at %d", seq, i)
		}
	}
	if fast.Reason() != ErrClosed.Error() {
		t.Fatalf("fast reason %q", fast.Reason())
	}
}

// A failed fsync stops the sequencer: the batch gets errors, nothing of it
// is applied, and recovery decides what survived.
func TestFsyncFailureStops(t *testing.T) {
	fsys := faultfs.New()
	eng := &fakeEngine{}
	s, _ := openT(t, eng, Config{FS: fsys})
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		if _, err := s.Submit(ctx, &matching.Command{Kind: matching.CmdClock}); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("EIO")
	fsys.FailSyncs(boom)
	if _, err := s.Submit(ctx, &matching.Command{Kind: matching.CmdClock}); !errors.Is(err, boom) {
		t.Fatalf("submit during a failing fsync: %v", err)
	}
	<-s.Done()
	if !errors.Is(s.Err(), boom) || eng.n != 10 {
		t.Fatalf("err %v, applied %d", s.Err(), eng.n)
	}
	if _, err := s.Submit(ctx, &matching.Command{Kind: matching.CmdClock}); !errors.Is(err, ErrClosed) {
		t.Fatalf("submit after failure: %v", err)
	}
	if _, err := s.Snapshot(ctx); err == nil {
		t.Fatal("snapshot after failure")
	}
	if err := s.Close(); !errors.Is(err, boom) {
		t.Fatalf("close: %v", err)
	}
	fsys.FailSyncs(nil)
	fsys.PowerCut()
	_, rec := openT(t, &fakeEngine{}, Config{FS: fsys})
	if rec.LastSeq != 10 || rec.StateHash != eng.h {
		t.Fatalf("recovered %+v", rec)
	}
}

// Acknowledged commands survive a power cut at any moment.
func TestPowerCutKeepsAcknowledged(t *testing.T) {
	for round := 0; round < 20; round++ {
		fsys := faultfs.New()
		s, _ := openT(t, &fakeEngine{}, Config{FS: fsys, SegmentSize: 4 << 10, SnapshotEvery: 97})
		var mu sync.Mutex
		acked := map[uint64][32]byte{}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					c := matching.Command{Kind: matching.CmdDeposit, Amount: int64(w*1_000_000 + i)}
					r, err := s.Submit(context.Background(), &c)
					if err != nil {
						return
					}
					c.Seq, c.Time = r.Seq, r.Time
					mu.Lock()
					acked[r.Seq] = sha256.Sum256(journal.AppendCommand(nil, &c))
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(5+round) * time.Millisecond)
		mu.Lock()
		fsys.PowerCut() // the running sequencer's handles go stale: it stops
		snapshotOfAcks := make(map[uint64][32]byte, len(acked))
		for k, v := range acked {
			snapshotOfAcks[k] = v
		}
		mu.Unlock()
		close(stop)
		wg.Wait()
		s.Close() // fails: its files went stale with the power

		var last uint64
		_, err := journal.Replay(fsys, testDir, 1, func(seq uint64, p []byte) error {
			if h, ok := snapshotOfAcks[seq]; ok && h != sha256.Sum256(p) {
				t.Errorf("round %d: seq %d differs from its ack", round, seq)
			}
			last = seq
			return nil
		})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		for seq := range snapshotOfAcks {
			if seq > last {
				t.Fatalf("round %d: acknowledged seq %d lost (journal ends at %d)", round, seq, last)
			}
		}
		s, rec := openT(t, &fakeEngine{}, Config{FS: fsys, SegmentSize: 4 << 10})
		if rec.LastSeq != last {
			t.Fatalf("round %d: recovered %d, journal %d", round, rec.LastSeq, last)
		}
		s.Close()
	}
}
