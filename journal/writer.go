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
}

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
	buf      []byte
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
	if opts.SegmentSize > MaxSegmentSize {
		return nil, Report{Dir: dir}, fmt.Errorf("journal: segment size %d is over the %d the journal reads back", opts.SegmentSize, int64(MaxSegmentSize))
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	w := &Writer{fs: fsys, dir: dir, segSize: opts.SegmentSize, log: opts.Logger.With("subsystem", "journal"), nextSeq: 1}
	rep := Report{Dir: dir}
	if err := fsys.MkdirAll(dir); err != nil {
		return nil, rep, fmt.Errorf("journal: create %s: %w", dir, err)
	}
	// A directory made just now must itself survive a power cut.
	if err := fsys.SyncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
		return nil, rep, fmt.Errorf("journal: sync dir %s: %w", filepath.Dir(dir), err)
	}
	segs, err := listSegments(fsys, dir)
	if err != nil {
		return nil, rep, err
	}
	for len(segs) > 0 {
		last := segs[len(segs)-1]
		path := join(dir, last.name)
		data, err := readFile(fsys, path, MaxSegmentFile)
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
		f, err := fsys.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return nil, rep, fmt.Errorf("journal: open %s: %w", path, err)
		}
		if s.torn != nil {
			err := f.Truncate(s.validEnd)
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
		w.nextSeq = s.lastSeq + 1
		rep.Records = s.records
		break
	}
	rep.Segments = len(segs)
	if len(segs) > 0 {
		rep.FirstSeq = segs[0].firstSeq
		rep.LastSeq = w.nextSeq - 1
	}
	return w, rep, nil
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

// Close syncs and closes the journal.
func (w *Writer) Close() error {
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
	if _, err := w.f.Write(w.buf); err != nil {
		return w.fail(fmt.Errorf("journal: write %s: %w", w.fileName, err))
	}
	w.buf = w.buf[:0]
	return nil
}

// rotate ends the current segment and begins one whose first record is
// firstSeq. The old segment is synced before the new one exists, so only
// the last segment can ever hold a torn tail.
func (w *Writer) rotate(firstSeq uint64) error {
	if w.f != nil {
		if err := w.Sync(); err != nil {
			return err
		}
		if err := w.f.Close(); err != nil {
			return fmt.Errorf("journal: close %s: %w", w.fileName, err)
		}
		w.f = nil
	}
	name := segName(firstSeq)
	path := join(w.dir, name)
	f, err := w.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("journal: create %s: %w", path, err)
	}
	hdr := appendSegHeader(nil, firstSeq)
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return fmt.Errorf("journal: write header %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("journal: sync %s: %w", path, err)
	}
	if err := w.fs.SyncDir(w.dir); err != nil {
		f.Close()
		return fmt.Errorf("journal: sync dir %s: %w", w.dir, err)
	}
	w.f, w.fileName, w.fileSize, w.fileRecs = f, name, segHeaderLen, 0
	return nil
}
