package journal_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"venue/journal"
	"venue/journal/faultfs"
)

// Preallocated segments (Options.Preallocate), on faultfs with the spares
// made inline so each test knows when they are written.

const preSeg = 2 << 10

func openPre(t *testing.T, fsys journal.FS, segSize int64) (*journal.Writer, journal.Report) {
	t.Helper()
	journal.InlineSpares(true)
	t.Cleanup(func() { journal.InlineSpares(false) })
	w, rep, err := journal.Open(fsys, dir, journal.Options{SegmentSize: segSize, Logger: quiet, Preallocate: true})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return w, rep
}

// segFlags reads a segment's header flags and its size.
func segFlags(t *testing.T, fsys *faultfs.FS, name string) (flags uint32, size int) {
	t.Helper()
	data, err := fsys.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return binary.LittleEndian.Uint32(data[12:16]), len(data)
}

// Every segment after the first is made from a spare: preallocated, cut
// back to its records once the next begins; the last keeps its zeros,
// which are the journal's end (no torn tail), and a reopened journal
// writes over them.
func TestPreallocatedSegments(t *testing.T) {
	fsys := faultfs.New()
	w, _ := openPre(t, fsys, preSeg)
	for i := 0; i < 400; i++ {
		appendN(t, w, 1)
		if i%3 == 0 {
			if err := w.Sync(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	segs := segments(t, fsys)
	if len(segs) < 5 {
		t.Fatalf("%d segments", len(segs))
	}
	for i, name := range segs {
		flags, size := segFlags(t, fsys, name)
		switch {
		case i == 0 && flags != 0:
			t.Fatalf("the first segment of a new journal is flagged %d", flags)
		case i > 0 && flags != 1:
			t.Fatalf("segment %d (%s) is not preallocated: flags %d", i, name, flags)
		case i == len(segs)-1 && size != preSeg:
			t.Fatalf("the last segment is %d bytes, want its preallocated %d", size, preSeg)
		case i < len(segs)-1 && size > preSeg:
			t.Fatalf("segment %s is %d bytes", name, size)
		}
	}
	rep, err := journal.Verify(fsys, dir)
	if err != nil || rep.LastSeq != 400 || rep.Torn != nil {
		t.Fatalf("verify: %+v %v", rep, err)
	}
	w, rep = openPre(t, fsys, preSeg)
	if rep.LastSeq != 400 || rep.Torn != nil {
		t.Fatalf("reopen: %+v", rep)
	}
	if names, _ := fsys.ReadDir(dir); contains(names, "journal-spare.tmp") {
		t.Fatal("Open kept the last run's spare")
	}
	appendN(t, w, 50)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	replayAll(t, fsys, 1, 450)
}

func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name {
			return true
		}
	}
	return false
}

// A power cut at any point, spares being made and taken included, loses
// nothing that was synced, and what is left replays and verifies.
func TestPreallocatedPowerCutAtEveryStep(t *testing.T) {
	for cut := 1; cut <= 120; cut++ {
		fsys := faultfs.New()
		w, _ := openPre(t, fsys, 1<<10)
		synced := uint64(0)
		for i := 1; i <= cut; i++ {
			appendN(t, w, 1)
			if i%5 == 0 {
				if err := w.Sync(); err != nil {
					t.Fatal(err)
				}
				synced = w.LastSeq()
			}
		}
		fsys.PowerCut()
		w, rep := openPre(t, fsys, 1<<10)
		if rep.LastSeq < synced {
			t.Fatalf("cut %d: last %d < synced %d", cut, rep.LastSeq, synced)
		}
		replayAll(t, fsys, 1, rep.LastSeq)
		if _, err := journal.Verify(fsys, dir); err != nil {
			t.Fatalf("cut %d: verify: %v", cut, err)
		}
		// And it goes on from there.
		last := rep.LastSeq
		appendN(t, w, 30)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		replayAll(t, fsys, 1, last+30)
	}
}

// A write torn inside a preallocated segment is a torn tail: Open zeroes
// it, keeps the space, and the journal goes on in the same file. A disk
// writes a sector whole or not at all, so the write is torn at a sector
// boundary: the sectors it did not reach still hold their zeros.
func TestPreallocatedTornWrite(t *testing.T) {
	const seg = 8 << 10
	rng := rand.New(rand.NewPCG(7, 8))
	for round := 0; round < 60; round++ {
		fsys := faultfs.New()
		w, _ := openPre(t, fsys, seg)
		appendN(t, w, 250) // the second segment, preallocated, is current
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		good := w.LastSeq()
		appendN(t, w, 20)
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		name, off, n := fsys.LastWrite()
		base := filepath.Base(name)
		if flags, _ := segFlags(t, fsys, base); flags != 1 {
			t.Fatalf("round %d: the last write went to %s, not a preallocated segment", round, base)
		}
		var cuts []int64
		for b := (off/512 + 1) * 512; b < off+int64(n); b += 512 {
			cuts = append(cuts, b)
		}
		if len(cuts) == 0 {
			t.Fatalf("round %d: the write of %d bytes at %d spans no sector boundary", round, n, off)
		}
		cut := cuts[rng.IntN(len(cuts))]
		if _, err := fsys.TearLastWrite(int(cut - off)); err != nil {
			t.Fatal(err)
		}
		w, rep := openPre(t, fsys, seg)
		if rep.LastSeq < good || rep.LastSeq >= good+20 {
			t.Fatalf("round %d (write of %d at %d cut at %d): last %d, want %d..%d", round, n, off, cut, rep.LastSeq, good, good+19)
		}
		if rep.Torn == nil || rep.Torn.Seq != rep.LastSeq+1 || rep.Torn.Offset+rep.Torn.Bytes > cut {
			t.Fatalf("round %d: torn %+v, write of %d at %d cut at %d", round, rep.Torn, n, off, cut)
		}
		if _, size := segFlags(t, fsys, base); size != seg {
			t.Fatalf("round %d: recovery cut the preallocated segment to %d bytes", round, size)
		}
		last := rep.LastSeq
		appendN(t, w, 40)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		replayAll(t, fsys, 1, last+40)
		if rep, err := journal.Verify(fsys, dir); err != nil || rep.Torn != nil {
			t.Fatalf("round %d: verify after: %+v %v", round, rep, err)
		}
	}
}

// failSpareFS refuses to create the spare.
type failSpareFS struct{ *faultfs.FS }

func (f failSpareFS) OpenFile(name string, flag int, perm os.FileMode) (journal.File, error) {
	if filepath.Base(name) == "journal-spare.tmp" && flag&os.O_CREATE != 0 {
		return nil, errors.New("ENOSPC")
	}
	return f.FS.OpenFile(name, flag, perm)
}

// A spare that cannot be made costs only the preallocation: segments are
// created as they are without it, and nothing is lost.
func TestPreallocationFailureIsNotFatal(t *testing.T) {
	fsys := failSpareFS{faultfs.New()}
	w, _ := openPre(t, fsys, preSeg)
	appendN(t, w, 300)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range segments(t, fsys) {
		if flags, _ := segFlags(t, fsys.FS, name); flags != 0 {
			t.Fatalf("segment %s flagged preallocated without a spare", name)
		}
	}
	replayAll(t, fsys, 1, 300)
}

// On the real file system, with the spare made in the background.
func TestPreallocatedOSFS(t *testing.T) {
	d := t.TempDir()
	const seg = 256 << 10
	open := func() (*journal.Writer, journal.Report) {
		w, rep, err := journal.Open(journal.OSFS{}, d, journal.Options{SegmentSize: seg, Logger: quiet, Preallocate: true})
		if err != nil {
			t.Fatal(err)
		}
		return w, rep
	}
	w, _ := open()
	big := []byte(strings.Repeat("z", 3000))
	for seq := uint64(1); seq <= 400; seq++ {
		if seq%100 == 0 {
			journal.SpareMade(w) // so that later segments are preallocated
		}
		if err := w.Append(seq, big); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	names, _ := os.ReadDir(d)
	var pre int
	for _, e := range names {
		if !strings.HasSuffix(e.Name(), ".seg") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(d, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if binary.LittleEndian.Uint32(data[12:16]) == 1 {
			pre++
		}
	}
	if pre < 2 {
		t.Fatalf("%d preallocated segments of %d files", pre, len(names))
	}
	w, rep := open()
	if rep.LastSeq != 400 || rep.Torn != nil {
		t.Fatalf("reopen: %+v", rep)
	}
	if err := w.Close(); err != nil { // waits for a spare being made
		t.Fatal(err)
	}
	n := uint64(0)
	if _, err := journal.Replay(journal.OSFS{}, d, 1, func(seq uint64, p []byte) error {
		n++
		if seq != n || string(p) != string(big) {
			return fmt.Errorf("seq %d", seq)
		}
		return nil
	}); err != nil || n != 400 {
		t.Fatalf("replay: %d records, %v", n, err)
	}
}
