package journal

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
)

// DefaultSegmentSize is the size at which a segment is closed and the next
// one begun.
const DefaultSegmentSize = 64 << 20

// writeBufferLen is how many framed bytes Append gathers before it hands
// them to the file; Sync hands over the rest.
const writeBufferLen = 1 << 20

// Options configure a Writer.
type Options struct {
	// SegmentSize is the size past which a new segment is begun (default
	// DefaultSegmentSize). A segment holds at least one record, so one can
	// exceed it by a record.
	SegmentSize int64
	// Logger receives what recovery did (default: slog.Default()).
	Logger *slog.Logger
	// Preallocate makes every new segment a file of SegmentSize bytes of
	// zeros, written and synced in the background while the segment before
	// it fills (journal-spare.tmp, begun when that one is half full: the
	// first segment of a new journal grows as it is written), so that
	// appending overwrites the file in place
	// and a sync writes the records and nothing else: no size change, no
	// new block to allocate. On the dev machine's ext4 that made a sync
	// 130 us and 53 us of CPU, against 207 us and 80 us appending
	// (BENCHMARKS.md, fifth session). The zeros after the last record are
	// the end of the journal, not a torn tail. A finished segment is cut
	// back to its records when the next one begins.
	Preallocate bool
}

// inlineSpares (tests on faultfs) makes spares on the writer's goroutine,
// so the test knows when they are written.
var inlineSpares bool

// spareName is the preallocated file the next segment is made from. It is
// not a segment (the name does not parse as one) and Open removes it.
const spareName = "journal-spare.tmp"

// Report says what a pass over a journal found: by Open (recovery), Replay
// or Verify.
type Report struct {
	Dir      string
	Segments int
	Records  int64  // records seen (Open: in the last segment only)
	FirstSeq uint64 // of the first segment (0: empty journal)
	LastSeq  uint64 // of the last valid record (0: empty journal)
	// Torn is the torn tail found at the end of the last segment: Open
	// truncated it; Replay and Verify leave it in place.
	Torn *TornTail
	// Removed lists segment files Open deleted because they held nothing
	// but an incomplete header.
	Removed []string
}

// Writer appends records to a journal directory. It is not safe for
// concurrent use: the sequencer's goroutine owns it.
type Writer struct {
	fs      FS
	dir     string
	segSize int64
	log     *slog.Logger

	f        File
	fileName string
	fileSize int64 // bytes in the file plus bytes in buf
	fileRecs int64
	written  int64 // bytes of the segment in the file: buf goes at this offset
	fileLen  int64 // the file's length: more than written when preallocated
	buf      []byte

	prealloc bool
	spare    chan error // the spare being made, or made (its result), nil: none
	nextSeq  uint64
	err      error // sticky: after a failed write or sync nothing more is trusted
}

// Open recovers the journal in dir and opens it for appending. A torn tail
// at the end of the last segment is truncated and reported; damage inside
// committed records is a *CorruptionError and nothing is changed. Only the
// last segment is read here: Replay and Verify check the others.
func Open(fsys FS, dir string, opts Options) (*Writer, Report, error) {
	if opts.SegmentSize <= 0 {
		opts.SegmentSize = DefaultSegmentSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w := &Writer{fs: fsys, dir: dir, segSize: opts.SegmentSize, log: opts.Logger.With("subsystem", "journal"), nextSeq: 1,
		prealloc: opts.Preallocate}
	rep := Report{Dir: dir}
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, rep, fmt.Errorf("journal: create %s: %w", dir, err)
	}
	// A directory made just now must itself survive a power cut.
	if err := fsys.SyncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		return nil, rep, fmt.Errorf("journal: sync dir %s: %w", filepath.Dir(dir), err)
	}
	// A spare left by the last run may be half made: make it again.
	if err := fsys.Remove(join(dir, spareName)); err != nil && !isNotExist(err) {
		return nil, rep, fmt.Errorf("journal: remove %s: %w", spareName, err)
	}
	segs, err := listSegments(fsys, dir)
	if err != nil {
		return nil, rep, err
	}
	for len(segs) > 0 {
		last := segs[len(segs)-1]
		path := join(dir, last.name)
		data, err := readFile(fsys, path, maxSegmentFile)
		if err != nil {
			return nil, rep, fmt.Errorf("journal: read %s: %w", path, err)
		}
		s, err := scanSegment(last.name, data, last.firstSeq, 0, true, 0, 0, nil)
		if err != nil {
			return nil, rep, err
		}
		if s.torn != nil && s.torn.Offset == 0 {
			// Nothing but the start of a header: the segment was being
			// created. Remove it and recover the one before.
			if err := fsys.Remove(path); err != nil {
				return nil, rep, fmt.Errorf("journal: remove %s: %w", path, err)
			}
			if err := fsys.SyncDir(dir); err != nil {
				return nil, rep, fmt.Errorf("journal: sync dir %s: %w", dir, err)
			}
			w.log.Warn("removed incomplete segment", "file", last.name, "bytes", len(data))
			rep.Removed = append(rep.Removed, last.name)
			rep.Torn = s.torn
			segs = segs[:len(segs)-1]
			continue
		}
		f, err := fsys.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, rep, fmt.Errorf("journal: open %s: %w", path, err)
		}
		if s.torn != nil {
			var err error
			if s.preallocated {
				// Zero the torn bytes: the segment keeps its space.
				if _, err = f.WriteAt(make([]byte, s.torn.Bytes), s.validEnd); err == nil {
					clear(data[s.validEnd : s.validEnd+s.torn.Bytes])
				}
			} else if err = f.Truncate(s.validEnd); err == nil {
				data = data[:s.validEnd]
			}
			if err == nil {
				err = f.Sync()
			}
			if err != nil {
				f.Close()
				return nil, rep, fmt.Errorf("journal: truncate torn tail of %s: %w", path, err)
			}
			w.log.Warn("truncated torn tail", "file", s.torn.File, "offset", s.torn.Offset,
				"bytes", s.torn.Bytes, "seq", s.torn.Seq, "reason", s.torn.Reason)
			rep.Torn = s.torn
		}
		w.f, w.fileName, w.fileSize, w.fileRecs = f, last.name, s.validEnd, s.records
		w.written, w.fileLen = s.validEnd, int64(len(data))
		w.nextSeq = s.lastSeq + 1
		rep.Records = s.records
		break
	}
	rep.Segments = len(segs)
	if len(segs) > 0 {
		rep.FirstSeq = segs[0].firstSeq
		rep.LastSeq = w.nextSeq - 1
	}
	w.maybeStartSpare()
	return w, rep, nil
}

// maybeStartSpare begins making the next segment's file once the current
// one is half full: a journal that never fills its first segment (a test,
// a short run) writes no spare.
func (w *Writer) maybeStartSpare() {
	if w.prealloc && w.spare == nil && w.f != nil && w.written > w.segSize/2 {
		w.startSpare()
	}
}

// startSpare begins making the spare segment file in the background,
// unless one is made or being made.
func (w *Writer) startSpare() {
	if !w.prealloc || w.spare != nil {
		return
	}
	done := make(chan error, 1)
	w.spare = done
	fsys, path, size := w.fs, join(w.dir, spareName), w.segSize
	if inlineSpares {
		done <- makeSpare(fsys, path, size)
		return
	}
	go func() { done <- makeSpare(fsys, path, size) }()
}

// makeSpare writes a file of size zero bytes and syncs it.
func makeSpare(fsys FS, path string, size int64) error {
	f, err := fsys.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	zeros := make([]byte, min(size, 1<<20))
	for off := int64(0); off < size && err == nil; off += int64(len(zeros)) {
		_, err = f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// waitSpare waits until the spare being made is made, and returns whether
// it is there to take.
func (w *Writer) waitSpare() bool {
	if w.spare == nil {
		return false
	}
	err := <-w.spare
	w.spare <- err // keep the result for takeSpare
	return err == nil
}

// takeSpare makes the spare, if it is made, the segment whose first
// record is firstSeq: its header written and synced, then renamed to the
// segment's name. It reports false, and changes nothing, when no spare is
// ready (still being made, or its making failed: logged, and begun again
// for the next segment).
func (w *Writer) takeSpare(name string, firstSeq uint64) (File, bool, error) {
	if w.spare == nil {
		return nil, false, nil
	}
	select {
	case err := <-w.spare:
		w.spare = nil
		if err != nil {
			w.log.Warn("preallocating the next segment failed; this one grows as it is written", "error", err)
			return nil, false, nil
		}
	default:
		return nil, false, nil // not made yet: this segment is not preallocated
	}
	spare, path := join(w.dir, spareName), join(w.dir, name)
	f, err := w.fs.OpenFile(spare, os.O_WRONLY, 0)
	if err != nil {
		return nil, false, fmt.Errorf("journal: open %s: %w", spare, err)
	}
	_, err = f.WriteAt(appendSegHeader(nil, firstSeq, segPreallocated), 0)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, false, fmt.Errorf("journal: write header %s: %w", spare, err)
	}
	// A rename replaces what has the name: never a segment.
	if g, err := w.fs.OpenFile(path, os.O_RDONLY, 0); err == nil {
		g.Close()
		return nil, false, fmt.Errorf("journal: segment %s exists already", name)
	} else if !isNotExist(err) {
		return nil, false, fmt.Errorf("journal: open %s: %w", path, err)
	}
	if err := w.fs.Rename(spare, path); err != nil {
		return nil, false, fmt.Errorf("journal: rename %s to %s: %w", spare, name, err)
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		return nil, false, fmt.Errorf("journal: sync dir %s: %w", w.dir, err)
	}
	f, err = w.fs.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return nil, false, fmt.Errorf("journal: open %s: %w", path, err)
	}
	return f, true, nil
}

// NextSeq is the seq the next Append must carry.
func (w *Writer) NextSeq() uint64 { return w.nextSeq }

// LastSeq is the seq of the last appended record (0: none).
func (w *Writer) LastSeq() uint64 { return w.nextSeq - 1 }

// Append frames a record and buffers it. seq must be NextSeq(): the journal
// holds a contiguous run of seqs. The record is durable only after Sync.
func (w *Writer) Append(seq uint64, payload []byte) error {
	if w.err != nil {
		return w.err
	}
	if seq != w.nextSeq {
		return fmt.Errorf("journal: append seq %d, want %d", seq, w.nextSeq)
	}
	if len(payload) > MaxRecordLen {
		return fmt.Errorf("journal: record of %d bytes is longer than %d", len(payload), MaxRecordLen)
	}
	n := int64(recHeaderLen + len(payload))
	if w.f == nil || (w.fileRecs > 0 && w.fileSize+n > w.segSize) {
		if err := w.rotate(seq); err != nil {
			return w.fail(err)
		}
	}
	w.buf = appendRecord(w.buf, seq, payload)
	w.fileSize += n
	w.fileRecs++
	w.nextSeq++
	if len(w.buf) >= writeBufferLen {
		return w.flush()
	}
	return nil
}

// Sync writes what is buffered and fsyncs the segment: every record
// appended so far is durable when it returns nil. After an error the
// Writer refuses everything: the file's state is unknown and only a
// recovery (Open) may decide what survived.
func (w *Writer) Sync() error {
	if err := w.flush(); err != nil {
		return err
	}
	if w.f == nil {
		return nil
	}
	if err := w.f.Sync(); err != nil {
		return w.fail(fmt.Errorf("journal: sync %s: %w", w.fileName, err))
	}
	return nil
}

// Close syncs and closes the journal. It waits for a spare segment being
// made.
func (w *Writer) Close() error {
	w.waitSpare()
	err := w.Sync()
	if w.f != nil {
		if cerr := w.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("journal: close %s: %w", w.fileName, cerr)
		}
		w.f = nil
	}
	if w.err == nil {
		w.err = errors.New("journal: writer closed")
	}
	return err
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return w.err
}

func (w *Writer) flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	if _, err := w.f.WriteAt(w.buf, w.written); err != nil {
		return w.fail(fmt.Errorf("journal: write %s: %w", w.fileName, err))
	}
	w.written += int64(len(w.buf))
	w.fileLen = max(w.fileLen, w.written)
	w.buf = w.buf[:0]
	w.maybeStartSpare()
	return nil
}

// rotate ends the current segment and begins one whose first record is
// firstSeq. The old segment is synced (and cut back to its records, when
// preallocated) before the new one exists, so only the last segment can
// ever hold a torn tail or unused space.
func (w *Writer) rotate(firstSeq uint64) error {
	if w.f != nil {
		if err := w.Sync(); err != nil {
			return err
		}
		if w.fileLen > w.written {
			err := w.f.Truncate(w.written)
			if err == nil {
				err = w.f.Sync()
			}
			if err != nil {
				return fmt.Errorf("journal: cut %s back to its records: %w", w.fileName, err)
			}
		}
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("journal: close %s: %w", w.fileName, err)
		}
		w.f = nil
	}
	name := segName(firstSeq)
	f, ok, err := w.takeSpare(name, firstSeq)
	if err != nil {
		return err
	}
	fileLen := w.segSize
	if !ok {
		if f, err = w.createSegment(name, firstSeq); err != nil {
			return err
		}
		fileLen = segHeaderLen
	}
	w.f, w.fileName, w.fileSize, w.fileRecs = f, name, segHeaderLen, 0
	w.written, w.fileLen = segHeaderLen, fileLen
	return nil
}

// createSegment creates a segment file holding its header, synced.
func (w *Writer) createSegment(name string, firstSeq uint64) (File, error) {
	path := join(w.dir, name)
	f, err := w.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: create %s: %w", path, err)
	}
	hdr := appendSegHeader(nil, firstSeq, 0)
	if _, err := f.WriteAt(hdr, 0); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: write header %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: sync %s: %w", path, err)
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		f.Close()
		return nil, fmt.Errorf("journal: sync dir %s: %w", w.dir, err)
	}
	return f, nil
}
