package journal

import (
	"errors"
	"fmt"
	"os"
)

// Replay calls fn for every record with seq >= fromSeq, in seq order, and
// checks on the way that every record it reads is intact and that the seqs
// are contiguous, across segments too. payload is valid only during the
// call. A torn tail at the end ends the replay quietly (it is reported):
// those records were never acknowledged. Replay reads only; Open is what
// truncates. An error from fn stops the replay and is returned as is.
func Replay(fsys FS, dir string, fromSeq uint64, fn func(seq uint64, payload []byte) error) (Report, error) {
	return walk(fsys, dir, fromSeq, fn)
}

// Verify reads the whole journal and checks every record. It changes
// nothing: a torn tail is reported in Report.Torn; damage inside committed
// records is a *CorruptionError naming the segment, offset and seq.
func Verify(fsys FS, dir string) (Report, error) {
	return walk(fsys, dir, 0, nil)
}

func walk(fsys FS, dir string, fromSeq uint64, fn func(seq uint64, payload []byte) error) (Report, error) {
	rep := Report{Dir: dir}
	segs, err := listSegments(fsys, dir)
	if err != nil {
		return rep, err
	}
	rep.Segments = len(segs)
	if len(segs) == 0 {
		return rep, nil
	}
	rep.FirstSeq = segs[0].firstSeq
	if fromSeq != 0 && fromSeq < rep.FirstSeq {
		return rep, &CorruptionError{File: segs[0].name, Seq: fromSeq,
			Reason: fmt.Sprintf("journal starts at seq %d, want from %d", rep.FirstSeq, fromSeq)}
	}
	// Skip the segments that end before fromSeq: the next one starts at or
	// before it.
	start := 0
	for start+1 < len(segs) && segs[start+1].firstSeq <= fromSeq {
		start++
	}
	var want uint64
	var data []byte
	for i := start; i < len(segs); i++ {
		seg := segs[i]
		path := join(dir, seg.name)
		data, err = readInto(fsys, path, data)
		if err != nil {
			return rep, fmt.Errorf("journal: read %s: %w", path, err)
		}
		last := i == len(segs)-1
		s, err := scanSegment(seg.name, data, seg.firstSeq, want, last, fromSeq, 0, fn)
		rep.Records += s.records
		if s.records > 0 {
			rep.LastSeq = s.lastSeq
		}
		if err != nil {
			return rep, err
		}
		if s.torn != nil {
			rep.Torn = s.torn
		}
		want = s.lastSeq + 1
	}
	return rep, nil
}

// readInto reads a whole file into buf's storage when it is large enough.
func readInto(fsys FS, path string, buf []byte) ([]byte, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return nil, err
	}
	if size > MaxSegmentFile {
		return nil, fmt.Errorf("%d bytes is more than a segment may hold", size)
	}
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	n, err := f.ReadAt(buf, 0)
	if err != nil && n < len(buf) {
		return nil, err
	}
	return buf[:n], nil
}

// RepairReport says what RepairTruncateAfter changed.
type RepairReport struct {
	Seq       uint64   // the last seq kept
	Truncated string   // segment truncated after Seq ("" if none was cut)
	Offset    int64    // its new size
	Removed   []string // segment and snapshot files deleted
}

// RepairTruncateAfter cuts the journal after seq: the segment holding seq is
// truncated just after it and every later segment is deleted, as is every
// snapshot of a later seq (it holds state the journal no longer has). seq 0
// empties the journal. It refuses a seq beyond the end of the journal and
// damage before seq; damage after seq is what it is for. This is an
// operator's tool: whatever was acknowledged after seq is gone.
func RepairTruncateAfter(fsys FS, dir string, seq uint64) (RepairReport, error) {
	rep := RepairReport{Seq: seq}
	segs, err := listSegments(fsys, dir)
	if err != nil {
		return rep, err
	}
	// k: the last segment starting at or before seq.
	k := -1
	for i, s := range segs {
		if s.firstSeq <= seq {
			k = i
		}
	}
	if seq != 0 && k < 0 {
		if len(segs) == 0 {
			return rep, fmt.Errorf("journal: repair: seq %d is beyond the end of the empty journal", seq)
		}
		return rep, fmt.Errorf("journal: repair: seq %d is before the journal's start %d", seq, segs[0].firstSeq)
	}
	// Check everything before changing anything: the segments before k
	// must be intact and contiguous.
	var want uint64
	for i := 0; i < k; i++ {
		path := join(dir, segs[i].name)
		data, err := readFile(fsys, path, MaxSegmentFile)
		if err != nil {
			return rep, fmt.Errorf("journal: read %s: %w", path, err)
		}
		s, err := scanSegment(segs[i].name, data, segs[i].firstSeq, want, false, 0, 0, nil)
		if err != nil {
			return rep, fmt.Errorf("journal: repair: %w", err)
		}
		want = s.lastSeq + 1
	}
	var cut *scan
	if k >= 0 {
		seg := segs[k]
		path := join(dir, seg.name)
		data, err := readFile(fsys, path, MaxSegmentFile)
		if err != nil {
			return rep, fmt.Errorf("journal: read %s: %w", path, err)
		}
		// Damage past seq is allowed, so scan as if this were the last
		// segment; the walk stops after seq.
		s, err := scanSegment(seg.name, data, seg.firstSeq, want, true, 0, seq, nil)
		if err != nil {
			var ce *CorruptionError
			if !errors.As(err, &ce) || ce.Seq <= seq {
				return rep, fmt.Errorf("journal: repair: %w", err)
			}
		}
		if s.lastSeq < seq {
			if k == len(segs)-1 {
				return rep, fmt.Errorf("journal: repair: seq %d is beyond the end of the journal (last %d)", seq, s.lastSeq)
			}
			return rep, &CorruptionError{File: seg.name, Offset: s.validEnd, Seq: s.lastSeq + 1,
				Reason: fmt.Sprintf("segment ends at seq %d before seq %d", s.lastSeq, seq)}
		}
		if s.validEnd < int64(len(data)) {
			cut = &s
		}
	}
	// Snapshots first: one beyond the journal's end would stop recovery.
	snaps, err := listSnapshots(fsys, dir)
	if err != nil {
		return rep, err
	}
	for _, s := range snaps {
		if s.seq > seq {
			if err := fsys.Remove(join(dir, s.name)); err != nil {
				return rep, fmt.Errorf("journal: remove %s: %w", s.name, err)
			}
			rep.Removed = append(rep.Removed, s.name)
		}
	}
	if err := fsys.SyncDir(dir); err != nil {
		return rep, fmt.Errorf("journal: sync dir %s: %w", dir, err)
	}
	// Segments from the end, so a crash part way leaves a prefix.
	for i := len(segs) - 1; i > k; i-- {
		if err := fsys.Remove(join(dir, segs[i].name)); err != nil {
			return rep, fmt.Errorf("journal: remove %s: %w", segs[i].name, err)
		}
		rep.Removed = append(rep.Removed, segs[i].name)
	}
	if cut != nil {
		path := join(dir, segs[k].name)
		f, err := fsys.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return rep, fmt.Errorf("journal: open %s: %w", path, err)
		}
		err = f.Truncate(cut.validEnd)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return rep, fmt.Errorf("journal: truncate %s: %w", path, err)
		}
		rep.Truncated, rep.Offset = segs[k].name, cut.validEnd
	}
	if err := fsys.SyncDir(dir); err != nil {
		return rep, fmt.Errorf("journal: sync dir %s: %w", dir, err)
	}
	return rep, nil
}
