package journal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"sort"
	"strconv"
	"strings"
)

// On-disk layout of a snapshot file snapshot-<seq 20 digits>.snap, integers
// little-endian:
//
//	magic "VNSNAPSH" | version u32 | 0 u32 | seq u64 | length u64 |
//	CRC32C(seq | state) u32 | CRC32C of bytes 0..35 u32 | state (length bytes)
const (
	snapMagic     = "VNSNAPSH"
	snapVersion   = 1
	snapHeaderLen = 40
	snapPrefix    = "snapshot-"
	snapSuffix    = ".snap"
	snapTmpSuffix = ".tmp"

	// SnapshotsKept is how many snapshots WriteSnapshot leaves behind.
	SnapshotsKept = 3

	// MaxSnapshotLen bounds a snapshot's state.
	MaxSnapshotLen = 1 << 34
)

// Snapshot is a saved engine state: the result of applying every record up
// to and including Seq.
type Snapshot struct {
	Seq   uint64
	State []byte
	File  string
}

// SnapshotSkip names a snapshot file LatestSnapshot passed over, and why.
type SnapshotSkip struct {
	File   string
	Reason string
}

func snapName(seq uint64) string { return fmt.Sprintf("%s%020d%s", snapPrefix, seq, snapSuffix) }

type snapFile struct {
	name string
	seq  uint64
}

// listSnapshots returns the snapshot files of dir, newest first.
func listSnapshots(fsys FS, dir string) ([]snapFile, error) {
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: list %s: %w", dir, err)
	}
	var snaps []snapFile
	for _, n := range names {
		if !strings.HasPrefix(n, snapPrefix) || !strings.HasSuffix(n, snapSuffix) {
			continue
		}
		digits := n[len(snapPrefix) : len(n)-len(snapSuffix)]
		seq, err := strconv.ParseUint(digits, 10, 64)
		if err != nil || len(digits) != 20 {
			continue
		}
		snaps = append(snaps, snapFile{name: n, seq: seq})
	}
	sort.Slice(snaps, func(i, j int) bool { return snaps[i].seq > snaps[j].seq })
	return snaps, nil
}

// WriteSnapshot saves state as the snapshot at seq, atomically: it writes a
// temporary file, fsyncs it, renames it into place and fsyncs the
// directory, so a crash leaves either the whole snapshot or none. Then it
// deletes all but the newest SnapshotsKept snapshots and any temporary file
// a crash left behind.
func WriteSnapshot(fsys FS, dir string, seq uint64, state []byte) error {
	if int64(len(state)) > MaxSnapshotLen {
		return fmt.Errorf("journal: snapshot of %d bytes is larger than %d", len(state), int64(MaxSnapshotLen))
	}
	name := snapName(seq)
	tmp := join(dir, name+snapTmpSuffix)
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("journal: create %s: %w", tmp, err)
	}
	var seqb [8]byte
	binary.LittleEndian.PutUint64(seqb[:], seq)
	hdr := make([]byte, 0, snapHeaderLen)
	hdr = append(hdr, snapMagic...)
	hdr = binary.LittleEndian.AppendUint32(hdr, snapVersion)
	hdr = binary.LittleEndian.AppendUint32(hdr, 0)
	hdr = binary.LittleEndian.AppendUint64(hdr, seq)
	hdr = binary.LittleEndian.AppendUint64(hdr, uint64(len(state)))
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Update(crc32.Checksum(seqb[:], castagnoli), castagnoli, state))
	hdr = binary.LittleEndian.AppendUint32(hdr, crc32.Checksum(hdr, castagnoli))
	_, err = f.Write(hdr)
	if err == nil {
		_, err = f.Write(state)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("journal: write %s: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, join(dir, name)); err != nil {
		return fmt.Errorf("journal: rename %s: %w", tmp, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("journal: sync dir %s: %w", dir, err)
	}
	return pruneSnapshots(fsys, dir, SnapshotsKept)
}

// pruneSnapshots deletes all but the newest keep snapshots and every
// leftover temporary file.
func pruneSnapshots(fsys FS, dir string, keep int) error {
	snaps, err := listSnapshots(fsys, dir)
	if err != nil {
		return err
	}
	removed := false
	for i := keep; i < len(snaps); i++ {
		if err := fsys.Remove(join(dir, snaps[i].name)); err != nil {
			return fmt.Errorf("journal: remove %s: %w", snaps[i].name, err)
		}
		removed = true
	}
	names, err := fsys.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("journal: list %s: %w", dir, err)
	}
	for _, n := range names {
		if strings.HasPrefix(n, snapPrefix) && strings.HasSuffix(n, snapSuffix+snapTmpSuffix) {
			if err := fsys.Remove(join(dir, n)); err != nil {
				return fmt.Errorf("journal: remove %s: %w", n, err)
			}
			removed = true
		}
	}
	if removed {
		if err := fsys.SyncDir(dir); err != nil {
			return fmt.Errorf("journal: sync dir %s: %w", dir, err)
		}
	}
	return nil
}

// LatestSnapshot returns the newest intact snapshot of dir, or nil when
// there is none. Damaged snapshots are passed over and listed, newest
// first, so the caller can log them; an older intact one is used instead
// (the journal still holds every record after it).
func LatestSnapshot(fsys FS, dir string) (*Snapshot, []SnapshotSkip, error) {
	snaps, err := listSnapshots(fsys, dir)
	if err != nil {
		if isNotExist(err) {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var skipped []SnapshotSkip
	for _, s := range snaps {
		state, err := readSnapshot(fsys, join(dir, s.name), s.seq)
		if err != nil {
			skipped = append(skipped, SnapshotSkip{File: s.name, Reason: err.Error()})
			continue
		}
		return &Snapshot{Seq: s.seq, State: state, File: s.name}, skipped, nil
	}
	return nil, skipped, nil
}

func readSnapshot(fsys FS, path string, seqFromName uint64) ([]byte, error) {
	data, err := readFile(fsys, path, MaxSnapshotLen+snapHeaderLen)
	if err != nil {
		return nil, err
	}
	if len(data) < snapHeaderLen || string(data[:8]) != snapMagic ||
		binary.LittleEndian.Uint32(data[36:40]) != crc32.Checksum(data[:36], castagnoli) {
		return nil, fmt.Errorf("bad snapshot header")
	}
	if v := binary.LittleEndian.Uint32(data[8:12]); v != snapVersion {
		return nil, fmt.Errorf("unsupported snapshot version %d", v)
	}
	seq := binary.LittleEndian.Uint64(data[16:24])
	if seq != seqFromName {
		return nil, fmt.Errorf("header seq %d differs from the file name", seq)
	}
	length := binary.LittleEndian.Uint64(data[24:32])
	if length != uint64(len(data)-snapHeaderLen) {
		return nil, fmt.Errorf("state is %d bytes, header says %d", len(data)-snapHeaderLen, length)
	}
	state := data[snapHeaderLen:]
	if binary.LittleEndian.Uint32(data[32:36]) != crc32.Update(crc32.Checksum(data[16:24], castagnoli), castagnoli, state) {
		return nil, fmt.Errorf("checksum mismatch")
	}
	return state, nil
}
