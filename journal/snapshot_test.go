package journal_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"venue/journal"
	"venue/journal/faultfs"
)

func state(seq uint64) []byte { return []byte(fmt.Sprintf("state after %d", seq)) }

func snapshotNames(t *testing.T, fsys journal.FS) []string {
	t.Helper()
	names, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var snaps []string
	for _, n := range names {
		if strings.HasPrefix(n, "snapshot-") {
			snaps = append(snaps, n)
		}
	}
	return snaps
}

func TestSnapshotKeepsNewestThree(t *testing.T) {
	fsys := faultfs.New()
	fsys.MkdirAll(dir)
	if s, skipped, err := journal.LatestSnapshot(fsys, dir); s != nil || skipped != nil || err != nil {
		t.Fatalf("empty: %v %v %v", s, skipped, err)
	}
	for seq := uint64(10); seq <= 50; seq += 10 {
		if err := journal.WriteSnapshot(fsys, dir, seq, state(seq)); err != nil {
			t.Fatal(err)
		}
	}
	got := snapshotNames(t, fsys)
	want := []string{"snapshot-00000000000000000030.snap", "snapshot-00000000000000000040.snap", "snapshot-00000000000000000050.snap"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("kept %v", got)
	}
	s, skipped, err := journal.LatestSnapshot(fsys, dir)
	if err != nil || s.Seq != 50 || !bytes.Equal(s.State, state(50)) || len(skipped) != 0 {
		t.Fatalf("latest: %+v %v %v", s, skipped, err)
	}
	// A snapshot of the same seq again replaces it.
	if err := journal.WriteSnapshot(fsys, dir, 50, []byte("again")); err != nil {
		t.Fatal(err)
	}
	if s, _, _ := journal.LatestSnapshot(fsys, dir); string(s.State) != "again" {
		t.Fatalf("rewrite: %q", s.State)
	}
}

// Damaged snapshots are skipped and reported; the newest intact one wins.
func TestSnapshotDamageSkipped(t *testing.T) {
	tests := []struct {
		name   string
		damage func(fsys *faultfs.FS, path string)
	}{
		{"bit in state", func(fsys *faultfs.FS, path string) { fsys.FlipBit(path, 45, 2) }},
		{"bit in header", func(fsys *faultfs.FS, path string) { fsys.FlipBit(path, 20, 0) }},
		{"truncated", func(fsys *faultfs.FS, path string) {
			b, _ := fsys.ReadFile(path)
			fsys.WriteFile(path, b[:len(b)-1])
		}},
		{"empty", func(fsys *faultfs.FS, path string) { fsys.WriteFile(path, nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultfs.New()
			fsys.MkdirAll(dir)
			for _, seq := range []uint64{100, 200} {
				if err := journal.WriteSnapshot(fsys, dir, seq, state(seq)); err != nil {
					t.Fatal(err)
				}
			}
			newest := filepath.Join(dir, "snapshot-00000000000000000200.snap")
			tt.damage(fsys, newest)
			s, skipped, err := journal.LatestSnapshot(fsys, dir)
			if err != nil || s == nil || s.Seq != 100 || !bytes.Equal(s.State, state(100)) {
				t.Fatalf("latest: %+v %v", s, err)
			}
			if len(skipped) != 1 || skipped[0].File != filepath.Base(newest) || skipped[0].Reason == "" {
				t.Fatalf("skipped: %+v", skipped)
			}
		})
	}
}

// A power cut while a snapshot is written leaves the previous one, never a
// partial file under a snapshot's name.
func TestSnapshotPowerCut(t *testing.T) {
	fsys := faultfs.New()
	fsys.MkdirAll(dir)
	if err := journal.WriteSnapshot(fsys, dir, 1, state(1)); err != nil {
		t.Fatal(err)
	}
	// The rename of snapshot 2 is not durable until the directory is
	// synced: make that sync fail, then cut the power.
	boom := fmt.Errorf("no")
	fsys.FailSyncs(boom)
	if err := journal.WriteSnapshot(fsys, dir, 2, state(2)); err == nil {
		t.Fatal("write with failing syncs succeeded")
	}
	fsys.FailSyncs(nil)
	fsys.PowerCut()
	s, skipped, err := journal.LatestSnapshot(fsys, dir)
	if err != nil || s.Seq != 1 || len(skipped) != 0 {
		t.Fatalf("after power cut: %+v %v %v", s, skipped, err)
	}
	// A leftover temporary file is ignored, and the next write removes it.
	fsys.WriteFile(filepath.Join(dir, "snapshot-00000000000000000003.snap.tmp"), []byte("half"))
	if s, _, _ := journal.LatestSnapshot(fsys, dir); s.Seq != 1 {
		t.Fatalf("tmp used: %d", s.Seq)
	}
	if err := journal.WriteSnapshot(fsys, dir, 4, state(4)); err != nil {
		t.Fatal(err)
	}
	fsys.PowerCut()
	if got := snapshotNames(t, fsys); fmt.Sprint(got) != "[snapshot-00000000000000000001.snap snapshot-00000000000000000004.snap]" {
		t.Fatalf("files %v", got)
	}
}

// Recovery is the newest valid snapshot plus the records after it.
func TestRecoverFromSnapshotAndReplay(t *testing.T) {
	fsys := faultfs.New()
	w, _ := open(t, fsys, 1<<10)
	sum := func(from, to uint64, base uint64) uint64 {
		for s := from; s <= to; s++ {
			base = base*31 + s
		}
		return base
	}
	appendN(t, w, 300)
	w.Sync()
	if err := journal.WriteSnapshot(fsys, dir, 300, []byte(fmt.Sprint(sum(1, 300, 0)))); err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 77)
	w.Sync()
	fsys.PowerCut()

	snap, _, err := journal.LatestSnapshot(fsys, dir)
	if err != nil || snap == nil {
		t.Fatal(snap, err)
	}
	var acc uint64
	fmt.Sscan(string(snap.State), &acc)
	_, err = journal.Replay(fsys, dir, snap.Seq+1, func(seq uint64, p []byte) error {
		acc = acc*31 + seq
		return nil
	})
	if err != nil || acc != sum(1, 377, 0) {
		t.Fatalf("recovered %d, want %d (%v)", acc, sum(1, 377, 0), err)
	}
}
