package journal_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"venue/journal"
	"venue/journal/faultfs"
)

const dir = "/venue/journal"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func payload(seq uint64) []byte {
	return []byte(fmt.Sprintf("command %d %s", seq, strings.Repeat("x", int(seq%37))))
}

func open(t *testing.T, fsys journal.FS, segSize int64) (*journal.Writer, journal.Report) {
	t.Helper()
	w, rep, err := journal.Open(fsys, dir, journal.Options{SegmentSize: segSize, Logger: quiet})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return w, rep
}

func appendN(t *testing.T, w *journal.Writer, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		seq := w.NextSeq()
		if err := w.Append(seq, payload(seq)); err != nil {
			t.Fatalf("append %d: %v", seq, err)
		}
	}
}

// replayAll checks that the journal holds exactly seqs from..last with
// their payloads.
func replayAll(t *testing.T, fsys journal.FS, from, last uint64) journal.Report {
	t.Helper()
	next := from
	rep, err := journal.Replay(fsys, dir, from, func(seq uint64, p []byte) error {
		if seq != next {
			return fmt.Errorf("seq %d, want %d", seq, next)
		}
		if !bytes.Equal(p, payload(seq)) {
			return fmt.Errorf("seq %d: payload %q", seq, p)
		}
		next++
		return nil
	})
	if err != nil {
		t.Fatalf("replay: %v", err)
	}
	if next-1 != last {
		t.Fatalf("replay ended at %d, want %d", next-1, last)
	}
	return rep
}

func segments(t *testing.T, fsys journal.FS) []string {
	t.Helper()
	names, err := fsys.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var segs []string
	for _, n := range names {
		if strings.HasSuffix(n, ".seg") {
			segs = append(segs, n)
		}
	}
	return segs
}

func TestAppendReplayRotate(t *testing.T) {
	for _, fsys := range []journal.FS{faultfs.New(), journal.OSFS{}} {
		t.Run(fmt.Sprintf("%T", fsys), func(t *testing.T) {
			d := dir
			if _, ok := fsys.(journal.OSFS); ok {
				d = t.TempDir()
			}
			w, rep, err := journal.Open(fsys, d, journal.Options{SegmentSize: 4 << 10, Logger: quiet})
			if err != nil || rep.LastSeq != 0 || rep.Segments != 0 {
				t.Fatalf("open empty: %+v %v", rep, err)
			}
			if err := w.Append(2, nil); err == nil {
				t.Fatal("append of seq 2 to an empty journal accepted")
			}
			appendN(t, w, 1000)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			rep, err = journal.Verify(fsys, d)
			if err != nil || rep.FirstSeq != 1 || rep.LastSeq != 1000 || rep.Records != 1000 || rep.Segments < 10 {
				t.Fatalf("verify: %+v %v", rep, err)
			}
			names, _ := fsys.ReadDir(d)
			if names[0] != "journal-00000000000000000001.seg" {
				t.Fatalf("first segment %s", names[0])
			}
			for _, from := range []uint64{1, 2, 500, 999, 1000, 1001} {
				next := from
				_, err := journal.Replay(fsys, d, from, func(seq uint64, p []byte) error {
					if seq != next || !bytes.Equal(p, payload(seq)) {
						return fmt.Errorf("seq %d", seq)
					}
					next++
					return nil
				})
				if err != nil || next != 1001 {
					t.Fatalf("replay from %d: next %d %v", from, next, err)
				}
			}
			// Reopen and go on.
			w, rep, err = journal.Open(fsys, d, journal.Options{SegmentSize: 4 << 10, Logger: quiet})
			if err != nil || rep.LastSeq != 1000 || rep.Torn != nil {
				t.Fatalf("reopen: %+v %v", rep, err)
			}
			appendN(t, w, 10)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if rep, err := journal.Verify(fsys, d); err != nil || rep.LastSeq != 1010 {
				t.Fatalf("verify: %+v %v", rep, err)
			}
		})
	}
}

func TestAppendLimits(t *testing.T) {
	w, _ := open(t, faultfs.New(), 0)
	if err := w.Append(1, make([]byte, journal.MaxRecordLen+1)); err == nil {
		t.Fatal("oversized record accepted")
	}
	if err := w.Append(1, make([]byte, journal.MaxRecordLen)); err != nil {
		t.Fatal(err)
	}
	if err := w.Append(3, nil); err == nil {
		t.Fatal("gap accepted")
	}
	if err := w.Append(1, nil); err == nil {
		t.Fatal("repeat accepted")
	}
}

// A power cut loses what was not synced, and nothing else.
func TestPowerCutLosesOnlyUnsynced(t *testing.T) {
	fsys := faultfs.New()
	w, _ := open(t, fsys, 2<<10)
	appendN(t, w, 100)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	appendN(t, w, 57) // buffered, some written, some rotated into new segments
	fsys.PowerCut()
	w, rep := open(t, fsys, 2<<10)
	if rep.LastSeq < 100 {
		t.Fatalf("synced records lost: last %d", rep.LastSeq)
	}
	last := rep.LastSeq
	replayAll(t, fsys, 1, last)
	appendN(t, w, 5)
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	fsys.PowerCut()
	_, rep = open(t, fsys, 2<<10)
	if rep.LastSeq != last+5 {
		t.Fatalf("last %d, want %d", rep.LastSeq, last+5)
	}
	replayAll(t, fsys, 1, last+5)
}

// A power cut right after a rotation, before anything in the new segment
// was synced, loses the new segment but none of the old one.
func TestPowerCutAtEveryStep(t *testing.T) {
	for cut := 1; cut <= 60; cut++ {
		fsys := faultfs.New()
		w, _ := open(t, fsys, 1<<10)
		synced := uint64(0)
		for i := 1; i <= 60; i++ {
			appendN(t, w, 1)
			if i%7 == 0 {
				if err := w.Sync(); err != nil {
					t.Fatal(err)
				}
				synced = w.LastSeq()
			}
			if i == cut {
				break
			}
		}
		fsys.PowerCut()
		_, rep := open(t, fsys, 1<<10)
		if rep.LastSeq < synced {
			t.Fatalf("cut %d: last %d < synced %d", cut, rep.LastSeq, synced)
		}
		replayAll(t, fsys, 1, rep.LastSeq)
		if _, err := journal.Verify(fsys, dir); err != nil {
			t.Fatalf("cut %d: verify: %v", cut, err)
		}
	}
}

// A write torn at any byte is truncated back to the last whole record.
func TestTornLastWrite(t *testing.T) {
	recLen := 16 + len(payload(11))
	for keep := 0; keep < recLen; keep++ {
		fsys := faultfs.New()
		w, _ := open(t, fsys, 0)
		appendN(t, w, 10)
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		appendN(t, w, 1)
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		name, err := fsys.TearLastWrite(keep)
		if err != nil {
			t.Fatal(err)
		}
		w, rep := open(t, fsys, 0)
		if rep.LastSeq != 10 {
			t.Fatalf("keep %d: last %d", keep, rep.LastSeq)
		}
		if keep == 0 {
			if rep.Torn != nil {
				t.Fatalf("keep 0: torn %v", rep.Torn)
			}
		} else if rep.Torn == nil || rep.Torn.Seq != 11 || rep.Torn.Bytes != int64(keep) || rep.Torn.File != filepath.Base(name) {
			t.Fatalf("keep %d: torn %+v", keep, rep.Torn)
		}
		appendN(t, w, 3)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		replayAll(t, fsys, 1, 13)
	}
}

// The last record of the journal: a crash leaves it short, or ending in
// zero-filled sectors (a file system that extends the size before the data
// lands); Open truncates that. A record written whole that fails its
// checksum, or whose length field alone is damaged, is committed data gone
// bad (it may have been acknowledged): Open refuses and names it.
func TestLastRecordTornOrDamaged(t *testing.T) {
	big := bytes.Repeat([]byte("y"), 1500) // the last record spans sectors
	tests := []struct {
		name   string
		damage func(data []byte, off int64) []byte
		torn   bool
	}{
		{"cut short", func(d []byte, off int64) []byte { return d[:len(d)-100] }, true},
		{"header cut short", func(d []byte, off int64) []byte { return d[:off+9] }, true},
		{"zeros from a sector boundary on", func(d []byte, off int64) []byte {
			clear(d[(off+16+511)/512*512:])
			return d
		}, true},
		{"zeros in the last partial sector", func(d []byte, off int64) []byte {
			clear(d[int64(len(d))/512*512:])
			return d
		}, true},
		{"the whole record zeros", func(d []byte, off int64) []byte { clear(d[off:]); return d }, true},
		{"last byte flipped", func(d []byte, off int64) []byte { d[len(d)-1] ^= 8; return d }, false},
		{"payload bit flipped", func(d []byte, off int64) []byte { d[off+16+100] ^= 1; return d }, false},
		{"seq bit flipped", func(d []byte, off int64) []byte { d[off+8] ^= 1; return d }, false},
		{"checksum bit flipped", func(d []byte, off int64) []byte { d[off+4] ^= 1; return d }, false},
		{"length grown past the end", func(d []byte, off int64) []byte { d[off+1] ^= 0x10; return d }, false},
		{"length beyond the limit", func(d []byte, off int64) []byte { d[off+3] ^= 0x80; return d }, false},
		{"length shrunk", func(d []byte, off int64) []byte { d[off] ^= 0x04; return d }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultfs.New()
			w, _ := open(t, fsys, 0)
			appendN(t, w, 19)
			if err := w.Append(20, big); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			seg := segments(t, fsys)[0]
			name := filepath.Join(dir, seg)
			data, _ := fsys.ReadFile(name)
			off := int64(len(data)) - 16 - int64(len(big))
			damaged := tt.damage(bytes.Clone(data), off)
			if err := fsys.WriteFile(name, damaged); err != nil {
				t.Fatal(err)
			}
			rep, err := journal.Verify(fsys, dir)
			if tt.torn {
				if err != nil || rep.LastSeq != 19 || rep.Torn == nil || rep.Torn.Seq != 20 || rep.Torn.Offset != off {
					t.Fatalf("verify: %v, report %+v torn %+v", err, rep, rep.Torn)
				}
				w, rep := open(t, fsys, 0)
				if rep.LastSeq != 19 || rep.Torn == nil {
					t.Fatalf("open: %+v", rep)
				}
				appendN(t, w, 2)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				replayAll(t, fsys, 1, 21)
				return
			}
			var ce *journal.CorruptionError
			if !errors.As(err, &ce) || ce.File != seg || ce.Offset != off || ce.Seq != 20 {
				t.Fatalf("verify: %v (report %+v torn %+v), want damage at offset %d seq 20", err, rep, rep.Torn, off)
			}
			if _, _, err := journal.Open(fsys, dir, journal.Options{Logger: quiet}); !errors.As(err, &ce) {
				t.Fatalf("open: %v", err)
			}
			if after, _ := fsys.ReadFile(name); !bytes.Equal(after, damaged) {
				t.Fatal("open changed a damaged segment")
			}
		})
	}
}

// A flipped bit inside committed records stops recovery and names the
// segment, the offset and the seq; nothing is truncated.
func TestFlippedBitInCommittedRecords(t *testing.T) {
	tests := []struct {
		name    string
		segment int   // which segment (-1: the last)
		offset  int64 // in the segment (negative: from its end)
		seq     uint64
	}{
		{name: "first record of first segment, payload", segment: 0, offset: 32 + 16 + 2, seq: 1},
		{name: "first record length", segment: 0, offset: 32, seq: 1},
		{name: "first record seq", segment: 0, offset: 32 + 8, seq: 1},
		{name: "first record crc", segment: 0, offset: 32 + 5, seq: 1},
		{name: "segment header", segment: 1, offset: 3},
		{name: "last record of a middle segment", segment: 1, offset: -1},
		{name: "middle of the last segment", segment: -1, offset: 32 + 16 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := faultfs.New()
			w, _ := open(t, fsys, 2<<10)
			appendN(t, w, 200)
			w.Close()
			segs := segments(t, fsys)
			i := tt.segment
			if i < 0 {
				i = len(segs) - 1
			}
			name := filepath.Join(dir, segs[i])
			data, _ := fsys.ReadFile(name)
			off := tt.offset
			if off < 0 {
				off += int64(len(data))
			}
			if err := fsys.FlipBit(name, off, 1); err != nil {
				t.Fatal(err)
			}
			var ce *journal.CorruptionError
			_, err := journal.Verify(fsys, dir)
			if !errors.As(err, &ce) || ce.File != segs[i] {
				t.Fatalf("verify: %v", err)
			}
			if tt.seq != 0 && (ce.Seq != tt.seq || ce.Offset != 32) {
				t.Fatalf("verify: %v, want seq %d at offset 32", err, tt.seq)
			}
			if !strings.Contains(err.Error(), segs[i]) || !strings.Contains(err.Error(), "offset") {
				t.Fatalf("error does not name the place: %v", err)
			}
			_, err = journal.Replay(fsys, dir, 1, func(uint64, []byte) error { return nil })
			if !errors.As(err, &ce) {
				t.Fatalf("replay: %v", err)
			}
			before, _ := fsys.ReadFile(name)
			_, _, err = journal.Open(fsys, dir, journal.Options{SegmentSize: 2 << 10, Logger: quiet})
			if i == len(segs)-1 {
				if !errors.As(err, &ce) {
					t.Fatalf("open: %v", err)
				}
			}
			after, _ := fsys.ReadFile(name)
			if !bytes.Equal(before, after) {
				t.Fatal("open changed a damaged segment")
			}
		})
	}
}

func TestGapBetweenSegments(t *testing.T) {
	fsys := faultfs.New()
	w, _ := open(t, fsys, 1<<10)
	appendN(t, w, 100)
	w.Close()
	segs := segments(t, fsys)
	if err := fsys.Remove(filepath.Join(dir, segs[2])); err != nil {
		t.Fatal(err)
	}
	_, err := journal.Verify(fsys, dir)
	var ce *journal.CorruptionError
	if !errors.As(err, &ce) || ce.File != segs[3] || !strings.Contains(ce.Reason, "gap") {
		t.Fatalf("verify: %v", err)
	}
	// Replay from after the gap does not need the missing segment.
	w2, rep := open(t, fsys, 1<<10)
	_ = w2
	first, _ := parseFirst(segs[3])
	replayAll(t, fsys, first, rep.LastSeq)
	if _, err := journal.Replay(fsys, dir, first-1, func(uint64, []byte) error { return nil }); !errors.As(err, &ce) {
		t.Fatalf("replay across the gap: %v", err)
	}
}

func parseFirst(name string) (uint64, error) {
	var v uint64
	_, err := fmt.Sscanf(name, "journal-%020d.seg", &v)
	return v, err
}

// A record with an intact checksum but the wrong seq is an ordering error.
func TestSeqGapInsideSegment(t *testing.T) {
	fsys := faultfs.New()
	w, _ := open(t, fsys, 0)
	appendN(t, w, 3)
	w.Close()
	name := filepath.Join(dir, segments(t, fsys)[0])
	data, _ := fsys.ReadFile(name)
	// Build a second journal with seq 1, 2, 4 by hand: copy record 3
	// renumbered.
	other := faultfs.New()
	w2, _, _ := journal.Open(other, "/x", journal.Options{Logger: quiet})
	w2.Append(1, payload(1))
	w2.Append(2, payload(2))
	w2.Close()
	recs, _ := other.ReadFile("/x/journal-00000000000000000001.seg")
	w3, _, _ := journal.Open(other, "/y", journal.Options{Logger: quiet})
	for s := uint64(1); s <= 4; s++ {
		w3.Append(s, payload(4))
	}
	w3.Close()
	y, _ := other.ReadFile("/y/journal-00000000000000000001.seg")
	rec4 := y[len(y)-(16+len(payload(4))):]
	bad := append(append([]byte(nil), recs...), rec4...)
	_ = data
	fsys.WriteFile(name, bad)
	_, err := journal.Verify(fsys, dir)
	var ce *journal.CorruptionError
	if !errors.As(err, &ce) || ce.Seq != 3 || !strings.Contains(ce.Reason, "seq gap") {
		t.Fatalf("verify: %v", err)
	}
	if _, _, err := journal.Open(fsys, dir, journal.Options{Logger: quiet}); !errors.As(err, &ce) {
		t.Fatalf("open: %v", err)
	}
}

// A segment whose creation was cut short (an empty or partial header) is
// removed, and the journal goes on from the one before.
func TestIncompleteSegmentHeader(t *testing.T) {
	for _, n := range []int{0, 1, 31} {
		fsys := faultfs.New()
		w, _ := open(t, fsys, 0)
		appendN(t, w, 5)
		w.Close()
		hdr := make([]byte, 32)
		copy(hdr, "VNJOURNL")
		fsys.WriteFile(filepath.Join(dir, "journal-00000000000000000006.seg"), hdr[:n])
		w, rep := open(t, fsys, 0)
		if rep.LastSeq != 5 || len(rep.Removed) != 1 || rep.Torn == nil {
			t.Fatalf("header %d bytes: %+v", n, rep)
		}
		appendN(t, w, 2)
		w.Close()
		replayAll(t, fsys, 1, 7)
	}
}

func TestWriteAndSyncFailuresAreSticky(t *testing.T) {
	fsys := faultfs.New()
	w, _ := open(t, fsys, 0)
	appendN(t, w, 3)
	boom := errors.New("disk on fire")
	fsys.FailSyncs(boom)
	if err := w.Sync(); !errors.Is(err, boom) {
		t.Fatalf("sync: %v", err)
	}
	fsys.FailSyncs(nil)
	if err := w.Sync(); !errors.Is(err, boom) {
		t.Fatalf("sync after a failed sync: %v", err)
	}
	if err := w.Append(4, nil); !errors.Is(err, boom) {
		t.Fatalf("append after a failed sync: %v", err)
	}
	fsys.PowerCut()
	_, rep := open(t, fsys, 0)
	if rep.LastSeq != 0 {
		t.Fatalf("unsynced records survived: %d", rep.LastSeq)
	}

	w, _ = open(t, fsys, 0)
	appendN(t, w, 3)
	fsys.FailWrites(boom)
	if err := w.Sync(); !errors.Is(err, boom) {
		t.Fatalf("sync with failing writes: %v", err)
	}
}

func TestRepairTruncateAfter(t *testing.T) {
	build := func() *faultfs.FS {
		fsys := faultfs.New()
		w, _ := open(t, fsys, 1<<10)
		appendN(t, w, 100)
		w.Close()
		for _, seq := range []uint64{10, 50, 90} {
			if err := journal.WriteSnapshot(fsys, dir, seq, []byte("state")); err != nil {
				t.Fatal(err)
			}
		}
		return fsys
	}
	for _, seq := range []uint64{100, 99, 60, 50, 1, 0} {
		fsys := build()
		rep, err := journal.RepairTruncateAfter(fsys, dir, seq)
		if err != nil {
			t.Fatalf("repair %d: %v", seq, err)
		}
		vr, err := journal.Verify(fsys, dir)
		if err != nil || vr.LastSeq != seq || vr.Torn != nil {
			t.Fatalf("repair %d: verify %+v %v (repair %+v)", seq, vr, err, rep)
		}
		snap, _, _ := journal.LatestSnapshot(fsys, dir)
		if snap != nil && snap.Seq > seq {
			t.Fatalf("repair %d: snapshot %d kept", seq, snap.Seq)
		}
		w, orep := open(t, fsys, 1<<10)
		if orep.LastSeq != seq {
			t.Fatalf("repair %d: open says %d", seq, orep.LastSeq)
		}
		appendN(t, w, 3)
		w.Close()
		replayAll(t, fsys, 1, seq+3)
	}
	fsys := build()
	if _, err := journal.RepairTruncateAfter(fsys, dir, 101); err == nil || !strings.Contains(err.Error(), "beyond the end") {
		t.Fatalf("repair beyond the end: %v", err)
	}
	if vr, err := journal.Verify(fsys, dir); err != nil || vr.LastSeq != 100 {
		t.Fatalf("refused repair changed the journal: %+v %v", vr, err)
	}

	// Repair cuts off damage after seq, and refuses damage before it.
	fsys = build()
	segs := segments(t, fsys)
	last := filepath.Join(dir, segs[len(segs)-2])
	fsys.FlipBit(last, 40, 0)
	var ce *journal.CorruptionError
	if _, err := journal.Verify(fsys, dir); !errors.As(err, &ce) {
		t.Fatalf("verify: %v", err)
	}
	if _, err := journal.RepairTruncateAfter(fsys, dir, 99); err == nil {
		t.Fatal("repair across damage accepted")
	}
	first, _ := parseFirst(segs[len(segs)-2])
	if _, err := journal.RepairTruncateAfter(fsys, dir, first-1); err != nil {
		t.Fatalf("repair before the damage: %v", err)
	}
	if vr, err := journal.Verify(fsys, dir); err != nil || vr.LastSeq != first-1 {
		t.Fatalf("after repair: %+v %v", vr, err)
	}
}

func TestOSFSTornTail(t *testing.T) {
	d := t.TempDir()
	w, _, err := journal.Open(journal.OSFS{}, d, journal.Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for s := uint64(1); s <= 10; s++ {
		w.Append(s, payload(s))
	}
	w.Close()
	seg := filepath.Join(d, "journal-00000000000000000001.seg")
	st, _ := os.Stat(seg)
	if err := os.Truncate(seg, st.Size()-3); err != nil {
		t.Fatal(err)
	}
	_, rep, err := journal.Open(journal.OSFS{}, d, journal.Options{Logger: quiet})
	if err != nil || rep.LastSeq != 9 || rep.Torn == nil {
		t.Fatalf("open: %+v %v", rep, err)
	}
}

// A torn tail that cannot be truncated stops Open rather than appending
// after garbage.
func TestTornTailTruncateFailure(t *testing.T) {
	fsys := faultfs.New()
	w, _ := open(t, fsys, 0)
	appendN(t, w, 5)
	w.Sync()
	appendN(t, w, 1)
	w.Sync()
	if _, err := fsys.TearLastWrite(7); err != nil {
		t.Fatal(err)
	}
	fsys.FailTruncates(errors.New("EIO"))
	if _, _, err := journal.Open(fsys, dir, journal.Options{Logger: quiet}); err == nil || !strings.Contains(err.Error(), "torn tail") {
		t.Fatalf("open although truncating the torn tail failed: %v", err)
	}
	fsys.FailTruncates(nil)
	if _, rep := open(t, fsys, 0); rep.LastSeq != 5 || rep.Torn == nil {
		t.Fatalf("%+v", rep)
	}
}
