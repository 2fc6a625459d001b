package journal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"sort"
	"strconv"
	"strings"
)

// On-disk layout of a segment, all integers little-endian:
//
//	header (32 bytes): magic "VNJOURNL" | version u32 | 0 u32 | firstSeq u64 | 0 u32 | CRC32C of bytes 0..27
//	record:            length u32 | CRC32C(seq | payload) u32 | seq u64 | payload (length bytes)
//
// The file name carries the first seq too, zero-padded so that names sort
// in seq order: journal-00000000000000000001.seg.
const (
	segMagic      = "VNJOURNL"
	segVersion    = 1
	segHeaderLen  = 32
	recHeaderLen  = 16
	segNamePrefix = "journal-"
	segNameSuffix = ".seg"

	// MaxRecordLen bounds a record's payload. A command is far smaller;
	// anything larger in a length field is damage, not data.
	MaxRecordLen = 1 << 20

	// MaxSegmentFile bounds what a reader loads of one segment: a larger
	// file is refused.
	MaxSegmentFile = 1 << 31

	// MaxSegmentSize is the largest Options.SegmentSize. A segment is
	// closed before a record would take it past its size, unless that
	// record is its first (at most MaxRecordLen), so no segment of a
	// journal opened with it grows past MaxSegmentFile.
	MaxSegmentSize = MaxSegmentFile
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CorruptionError says committed journal data is damaged or out of order.
// It names the place so an operator can look, repair or restore.
type CorruptionError struct {
	File   string // segment file name
	Offset int64  // byte offset of the damaged record or header
	Seq    uint64 // seq the record at Offset should carry (0: not known)
	Reason string
}

func (e *CorruptionError) Error() string {
	return fmt.Sprintf("journal: segment %s: offset %d: seq %d: %s", e.File, e.Offset, e.Seq, e.Reason)
}

// TornTail describes a damaged end of the last segment with nothing valid
// after it: the trace of a write cut short by a crash. Open truncates it.
type TornTail struct {
	File   string
	Offset int64  // where the valid data ends
	Bytes  int64  // how many bytes follow and are dropped
	Seq    uint64 // the seq the first dropped record would have had
	Reason string
}

func (t *TornTail) String() string {
	return fmt.Sprintf("segment %s: %d bytes from offset %d (seq %d): %s", t.File, t.Bytes, t.Offset, t.Seq, t.Reason)
}

func segName(firstSeq uint64) string {
	return fmt.Sprintf("%s%020d%s", segNamePrefix, firstSeq, segNameSuffix)
}

// parseSegName returns the first seq a segment file name carries.
func parseSegName(name string) (uint64, bool) {
	if !strings.HasPrefix(name, segNamePrefix) || !strings.HasSuffix(name, segNameSuffix) {
		return 0, false
	}
	digits := name[len(segNamePrefix) : len(name)-len(segNameSuffix)]
	if len(digits) != 20 {
		return 0, false
	}
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return v, true
}

type segFile struct {
	name     string
	firstSeq uint64
}

// listSegments returns the segment files of dir in seq order.
func listSegments(fsys FS, dir string) ([]segFile, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: list %s: %w", dir, err)
	}
	var segs []segFile
	for _, n := range names {
		if seq, ok := parseSegName(n); ok {
			segs = append(segs, segFile{name: n, firstSeq: seq})
		}
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].firstSeq < segs[j].firstSeq })
	return segs, nil
}

func appendSegHeader(dst []byte, firstSeq uint64) []byte {
	start := len(dst)
	dst = append(dst, segMagic...)
	dst = binary.LittleEndian.AppendUint32(dst, segVersion)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	dst = binary.LittleEndian.AppendUint64(dst, firstSeq)
	dst = binary.LittleEndian.AppendUint32(dst, 0)
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

func recordCRC(seq uint64, payload []byte) uint32 {
	var s [8]byte
	binary.LittleEndian.PutUint64(s[:], seq)
	return crc32.Update(crc32.Checksum(s[:], castagnoli), castagnoli, payload)
}

func appendRecord(dst []byte, seq uint64, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload)))
	dst = binary.LittleEndian.AppendUint32(dst, recordCRC(seq, payload))
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	return append(dst, payload...)
}

// scan is what one pass over a segment found.
type scan struct {
	firstSeq uint64 // from the header
	lastSeq  uint64 // of the last valid record; firstSeq-1 when none
	records  int64
	validEnd int64     // offset just after the last valid record (or the header)
	torn     *TornTail // a damaged end with nothing valid after it (last segment only)
}

// scanSegment checks a segment's header and walks its records, calling fn
// (when not nil) for each one with seq >= from. wantFirst, when not 0, is
// the seq the segment must start with. upTo, when not 0, ends the walk
// after the record with that seq. Damage is a *CorruptionError, except at
// the end of the last segment when no valid record follows it: that is a
// torn tail, returned in scan.torn.
func scanSegment(name string, data []byte, firstFromName, wantFirst uint64, last bool, from, upTo uint64,
	fn func(seq uint64, payload []byte) error) (scan, error) {
	corrupt := func(off int64, seq uint64, format string, args ...any) error {
		return &CorruptionError{File: name, Offset: off, Seq: seq, Reason: fmt.Sprintf(format, args...)}
	}
	size := int64(len(data))
	if size < segHeaderLen || string(data[:8]) != segMagic ||
		binary.LittleEndian.Uint32(data[28:32]) != crc32.Checksum(data[:28], castagnoli) {
		// A segment is created, its header written and synced before any
		// record, so a bad header with nothing after it is a creation cut
		// short; with more after it, it is damage.
		if last && size <= segHeaderLen {
			return scan{firstSeq: firstFromName, lastSeq: firstFromName - 1, torn: &TornTail{
				File: name, Offset: 0, Bytes: size, Seq: firstFromName, Reason: "incomplete segment header"}}, nil
		}
		return scan{}, corrupt(0, firstFromName, "bad segment header")
	}
	if v := binary.LittleEndian.Uint32(data[8:12]); v != segVersion {
		return scan{}, corrupt(0, firstFromName, "unsupported format version %d", v)
	}
	first := binary.LittleEndian.Uint64(data[16:24])
	if first != firstFromName {
		return scan{}, corrupt(0, firstFromName, "header first seq %d differs from the file name", first)
	}
	if first == 0 {
		return scan{}, corrupt(0, 0, "first seq 0")
	}
	if wantFirst != 0 && first != wantFirst {
		return scan{}, corrupt(0, wantFirst, "seq gap: segment starts at %d, want %d", first, wantFirst)
	}
	s := scan{firstSeq: first, lastSeq: first - 1, validEnd: segHeaderLen}
	off := int64(segHeaderLen)
	for off < size {
		want := s.lastSeq + 1
		if upTo != 0 && s.lastSeq >= upTo {
			break
		}
		reason := ""
		var length int64
		switch {
		case size-off < recHeaderLen:
			reason = "partial record header"
		default:
			length = int64(binary.LittleEndian.Uint32(data[off:]))
			switch {
			case length > MaxRecordLen:
				reason = fmt.Sprintf("record length %d beyond the limit", length)
			case off+recHeaderLen+length > size:
				reason = "partial record"
			default:
				seq := binary.LittleEndian.Uint64(data[off+8:])
				payload := data[off+recHeaderLen : off+recHeaderLen+length]
				if binary.LittleEndian.Uint32(data[off+4:]) != recordCRC(seq, payload) {
					reason = "checksum mismatch"
					break
				}
				if seq != want {
					// A valid checksum over the wrong seq is not a torn
					// write: the log itself is out of order.
					return s, corrupt(off, want, "seq gap: record has seq %d", seq)
				}
				if fn != nil && seq >= from {
					if err := fn(seq, payload); err != nil {
						return s, err
					}
				}
				s.lastSeq = seq
				s.records++
				off += recHeaderLen + length
				s.validEnd = off
				continue
			}
		}
		if !last {
			return s, corrupt(off, want, "%s", reason)
		}
		if at, seq, ok := validRecordAfter(data, off+1, want); ok {
			return s, corrupt(off, want, "%s; a valid record (seq %d) follows at offset %d", reason, seq, at)
		}
		if why := damagedNotTorn(data, off, length, reason); why != "" {
			return s, corrupt(off, want, "%s", why)
		}
		s.torn = &TornTail{File: name, Offset: off, Bytes: size - off, Seq: want, Reason: reason}
		break
	}
	return s, nil
}

// sectorSize is the unit in which a crash can leave a file's appended
// bytes unwritten: such sectors read back as zeros.
const sectorSize = 512

// damagedNotTorn tells a damaged last record that was written whole (and
// so possibly synced and acknowledged) from the trace of a write cut short
// by a crash, which is all Open may truncate. It returns why the record is
// committed data gone bad, or "" for a torn write.
//
// A crash while appending leaves a file that ends early (a partial record)
// or, on file systems that extend the size before the data lands, whole
// sectors of zeros at the end. So:
//   - a record that is all there but fails its checksum is torn only when
//     it ends in zero-filled sectors: a flipped bit in a record written
//     whole is damage;
//   - a record whose length field points past the end of the file, while
//     the bytes up to the end carry a valid checksum, is a whole record
//     with a damaged length, not a short write.
func damagedNotTorn(data []byte, off, length int64, reason string) string {
	size := int64(len(data))
	if size-off < recHeaderLen {
		return ""
	}
	switch reason {
	case "checksum mismatch":
		// z: where the trailing zeros begin.
		z := size
		for z > off && data[z-1] == 0 {
			z--
		}
		if z == off || (z+sectorSize-1)/sectorSize*sectorSize < size {
			return "" // ends in unwritten (zero) sectors: torn
		}
		return "checksum mismatch on the last record, which is written whole (a flipped bit, not a torn write)"
	default: // the length is beyond the limit or beyond the end of the file
		end := size
		if end-off-recHeaderLen > MaxRecordLen {
			return ""
		}
		seq := binary.LittleEndian.Uint64(data[off+8:])
		if binary.LittleEndian.Uint32(data[off+4:]) == recordCRC(seq, data[off+recHeaderLen:end]) {
			return fmt.Sprintf("the last record's length field says %d bytes, but the %d bytes to the end of the file are an intact record (a damaged length, not a torn write)",
				length, end-off-recHeaderLen)
		}
		return ""
	}
}

// validRecordAfter looks for any intact record at or after offset from
// whose seq is not below want. Finding one means the damage before it is
// inside committed data, not a torn tail.
func validRecordAfter(data []byte, from int64, want uint64) (int64, uint64, bool) {
	size := int64(len(data))
	for p := from; p+recHeaderLen <= size; p++ {
		seq := binary.LittleEndian.Uint64(data[p+8:])
		if seq-want > 1<<32 { // seq < want wraps to a huge difference
			continue
		}
		length := int64(binary.LittleEndian.Uint32(data[p:]))
		if length > MaxRecordLen || p+recHeaderLen+length > size {
			continue
		}
		if binary.LittleEndian.Uint32(data[p+4:]) == recordCRC(seq, data[p+recHeaderLen:p+recHeaderLen+length]) {
			return p, seq, true
		}
	}
	return 0, 0, false
}
