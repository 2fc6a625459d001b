package sequencer

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"venue/journal"
	"venue/journal/faultfs"
	"venue/matching"
)

// submitLoad submits commands from..to of the generated load, pipelined,
// and waits for all of them.
func submitLoad(t testing.TB, s *Sequencer, l load, from, to uint64) {
	t.Helper()
	errs := make(chan error, to-from+1)
	for i := from; i <= to; i++ {
		c := l.command(i)
		for {
			err := s.SubmitAsync(&c, func(r Result) {
				if r.Err == nil && r.Seq != i {
					t.Errorf("command %d got seq %d", i, r.Seq)
				}
				errs <- r.Err
			})
			if err == ErrQueueFull {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	for i := from; i <= to; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// cleanReplay applies every record of the journal to a fresh engine.
func cleanReplay(t testing.TB, fsys journal.FS, dir string) (*matching.Engine, uint64) {
	t.Helper()
	eng := matching.New()
	var c matching.Command
	rep, err := journal.Replay(fsys, dir, 1, func(seq uint64, p []byte) error {
		if err := journal.DecodeCommand(p, &c); err != nil {
			return err
		}
		eng.Apply(&c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return eng, rep.LastSeq
}

// Replay from scratch and replay from a snapshot give the same state hash,
// and both equal the state the running sequencer had.
func TestSnapshotAndReplayAgree(t *testing.T) {
	fsys := faultfs.New()
	l := load{seed: 7, accounts: 6}
	cfg := Config{FS: fsys, SegmentSize: 64 << 10, SnapshotEvery: 1500, Logger: quiet}
	eng := matching.New()
	s, _ := openT(t, eng, cfg)
	submitLoad(t, s, l, 1, 4000)
	seq, err := s.Snapshot(context.Background())
	if err != nil || seq != 4000 {
		t.Fatalf("snapshot: %d %v", seq, err)
	}
	submitLoad(t, s, l, 4001, 5234)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	live := eng.StateHash()
	st := s.Stats()
	if st.Snapshots < 2 || st.LastSnapshotSeq < 4000 {
		t.Fatalf("stats %+v", st)
	}

	_, rec := openT(t, matching.New(), cfg)
	if rec.SnapshotSeq < 4000 || rec.LastSeq != 5234 || rec.StateHash != live || !rec.Verified {
		t.Fatalf("from snapshot: %+v", rec)
	}
	clean, last := cleanReplay(t, fsys, testDir)
	if last != 5234 || clean.StateHash() != live {
		t.Fatalf("clean replay differs")
	}

	// Damage the newest snapshot: the next older one is used, same state.
	names, _ := fsys.ReadDir(testDir)
	var snaps []string
	for _, n := range names {
		if strings.HasPrefix(n, "snapshot-") {
			snaps = append(snaps, n)
		}
	}
	fsys.FlipBit(filepath.Join(testDir, snaps[len(snaps)-1]), 100, 4)
	s2, rec2 := openT(t, matching.New(), cfg)
	if len(rec2.SkippedSnapshots) != 1 || rec2.SnapshotSeq >= rec.SnapshotSeq || rec2.StateHash != live {
		t.Fatalf("with a damaged snapshot: %+v", rec2)
	}
	s2.Close()

	// A flipped bit inside committed records stops recovery and names it.
	segs := []string{}
	for _, n := range names {
		if strings.HasSuffix(n, ".seg") {
			segs = append(segs, n)
		}
	}
	fsys.FlipBit(filepath.Join(testDir, segs[0]), 200, 0)
	_, _, err = Open(testDir, matching.New(), cfg)
	if err == nil || !strings.Contains(err.Error(), segs[0]) || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("open over a flipped bit: %v", err)
	}
}

// Replay rebuilds the state read-only, from a snapshot or from scratch.
func TestReplayReadOnly(t *testing.T) {
	fsys := faultfs.New()
	l := load{seed: 3, accounts: 4}
	cfg := Config{FS: fsys, SnapshotEvery: 700, Logger: quiet}
	eng := matching.New()
	s, _ := openT(t, eng, cfg)
	submitLoad(t, s, l, 1, 2000)
	s.Close()
	live := eng.StateHash()
	for _, useSnapshot := range []bool{true, false} {
		rec, err := Replay(fsys, testDir, matching.New(), useSnapshot)
		if err != nil || rec.StateHash != live || rec.LastSeq != 2000 || (rec.SnapshotSeq != 0) != useSnapshot {
			t.Fatalf("replay (snapshot %v): %+v %v", useSnapshot, rec, err)
		}
	}
	// A torn tail is left in place and not replayed.
	segs, _ := fsys.ReadDir(testDir)
	seg := filepath.Join(testDir, segs[len(segs)-1])
	for _, n := range segs {
		if strings.HasSuffix(n, ".seg") {
			seg = filepath.Join(testDir, n)
		}
	}
	b, _ := fsys.ReadFile(seg)
	fsys.WriteFile(seg, b[:len(b)-3])
	rec, err := Replay(fsys, testDir, matching.New(), false)
	if err != nil || rec.LastSeq != 1999 || rec.Journal.Torn == nil {
		t.Fatalf("replay over a torn tail: %+v %v", rec, err)
	}
	if b2, _ := fsys.ReadFile(seg); len(b2) != len(b)-3 {
		t.Fatal("replay changed the journal")
	}
}
