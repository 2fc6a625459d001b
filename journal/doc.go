// Package journal is the venue's durable record: an append-only log of
// sequenced commands in checksummed segment files, and snapshots of the
// engine's state, from which the whole state can be rebuilt.
//
// Segments are named journal-<first seq, 20 digits>.seg and begin with a
// header (magic, format version, first seq, CRC32C). Each record is
// length u32 | CRC32C(seq|payload) u32 | seq u64 | payload; the payload of
// a command is the compact encoding of AppendCommand. Seqs are contiguous
// across all segments; a gap is an error that names it. A segment is
// synced before the next one is created, so only the last segment can end
// in a torn write.
//
// Recovery rules:
//   - a torn tail is what a crash during a write leaves at the end of the
//     last segment, with nothing valid after it: a partial last record
//     (the file ends inside it), or a last record that ends in
//     zero-filled sectors (a file system that extended the size before
//     the data landed). Open truncates it and reports it;
//   - damage anywhere else is committed data gone bad: a valid record
//     follows it; it is in an earlier segment or a header; or it is the
//     last record, written whole, failing its checksum (a flipped bit) or
//     with only its length field damaged (the bytes to the end are an
//     intact record). That record may have been acknowledged, so it is
//     never dropped quietly: Open, Replay and Verify stop with a
//     *CorruptionError naming the segment file, the byte offset and the
//     seq, and change nothing. The operator decides (RepairTruncateAfter,
//     or restore).
//
// Snapshots (snapshot-<seq>.snap) are written atomically (temporary file,
// fsync, rename, directory fsync) with a CRC32C; LatestSnapshot returns the
// newest intact one and lists the damaged ones it passed over. Recovery is
// the newest valid snapshot plus a replay of the records after its seq.
//
// Every file access goes through FS, so tests can run the journal on
// journal/faultfs, which loses unsynced data, tears writes and flips bits.
package journal
