package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"venue/journal"
	"venue/matching"
)

// journalSubdir is the directory under data_dir that holds the journal's
// segment files and the engine snapshots. They share one directory because
// the journal package keeps them together: LatestSnapshot reads the
// snapshots from the journal's directory, and RepairTruncateAfter must
// delete the snapshots beyond the cut along with the records.
const journalSubdir = "journal"

// journalDir is the journal directory of a data directory.
func journalDir(dataDir string) string { return filepath.Join(dataDir, journalSubdir) }

// addDataFlag registers --data on cmd and its subcommands.
func addDataFlag(cmd *cobra.Command, dataDir *string) {
	cmd.PersistentFlags().StringVar(dataDir, "data", "",
		"the venue's data directory; the journal is its "+journalSubdir+"/ (default: data_dir of the configuration, ./venue-data)")
}

// openJournalDir resolves the data directory (--data, else the
// configuration's data_dir) and returns its journal directory, which must
// exist: the operator commands read a stopped venue's journal, they never
// start a new one.
func (g *globals) openJournalDir(dataFlag string) (dataDir, dir string, err error) {
	dataDir = dataFlag
	if dataDir == "" {
		cfg, err := g.loadConfig()
		if err != nil {
			return "", "", err
		}
		dataDir = cfg.DataDir
	}
	dir = journalDir(dataDir)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", "", fmt.Errorf("no journal directory %s: point --data (or data_dir) at the venue's data directory", dir)
	case err != nil:
		return "", "", fmt.Errorf("open journal directory: %w", err)
	case !st.IsDir():
		return "", "", fmt.Errorf("%s is not a directory: point --data (or data_dir) at the venue's data directory", dir)
	}
	return dataDir, dir, nil
}

// recovered is an engine rebuilt from a journal directory, and how it was
// rebuilt.
type recovered struct {
	eng *matching.Engine
	// journal is Verify's pass over the whole journal.
	journal      journal.Report
	snapshotSeq  uint64 // 0: no snapshot used
	snapshotFile string
	// skipped are damaged snapshots passed over, newest first.
	skipped  []journal.SnapshotSkip
	replayed int64 // commands applied after the snapshot
	lastSeq  uint64
	hash     [32]byte
}

func (r *recovered) hashHex() string { return hex.EncodeToString(r.hash[:]) }

// recoverState rebuilds the engine the way sequencer.Open does: check every
// record of the journal, restore the newest intact snapshot (unless
// fromScratch), decode and apply the records after it to a fresh engine.
// Then it checks the engine's invariants, which sequencer.Open does not:
// an operator asking "is this state sound" wants the whole answer.
//
// Unlike sequencer.Open it changes nothing on disk: a torn tail is left in
// place and reported in journal.Torn (the venue truncates it at its next
// start; its records were never acknowledged).
func recoverState(fsys journal.FS, dir string, fromScratch bool) (*recovered, error) {
	r := &recovered{eng: matching.New()}

	// 1. Check every record; this also finds the journal's end.
	rep, err := journal.Verify(fsys, dir)
	r.journal = rep
	if err != nil {
		return r, err
	}
	r.lastSeq = rep.LastSeq

	// 2. The newest intact snapshot, which must not be beyond the journal.
	if !fromScratch {
		snap, skipped, err := journal.LatestSnapshot(fsys, dir)
		r.skipped = skipped
		if err != nil {
			return r, err
		}
		if snap != nil {
			if snap.Seq > r.lastSeq {
				return r, fmt.Errorf("snapshot %s is at seq %d, beyond the journal's last seq %d: "+
					"the journal has lost records the snapshot holds; restore them from a backup or replica",
					snap.File, snap.Seq, r.lastSeq)
			}
			if err := r.eng.RestoreSnapshot(snap.State); err != nil {
				return r, fmt.Errorf("restore snapshot %s: %w; move it out of %s to recover without it", snap.File, err, dir)
			}
			r.snapshotSeq, r.snapshotFile = snap.Seq, snap.File
		}
	}

	// 3. Replay the records after the snapshot.
	if r.snapshotSeq < r.lastSeq {
		var cmd matching.Command
		_, err = journal.Replay(fsys, dir, r.snapshotSeq+1, func(seq uint64, payload []byte) error {
			if err := journal.DecodeCommand(payload, &cmd); err != nil {
				return fmt.Errorf("decode command seq %d: %w", seq, err)
			}
			if cmd.Seq != seq {
				return fmt.Errorf("decode command seq %d: the record holds a command stamped seq %d", seq, cmd.Seq)
			}
			r.eng.Apply(&cmd)
			r.replayed++
			return nil
		})
		if err != nil {
			return r, err
		}
	}

	// 4. The state must be sound before anyone trusts its hash.
	if err := r.eng.CheckInvariants(); err != nil {
		hint := "the journal's commands break the engine's invariants"
		if r.snapshotSeq != 0 {
			hint = "compare with --from-scratch to tell a bad snapshot from a bad journal"
		}
		return r, fmt.Errorf("invariants broken after seq %d: %w; %s", r.lastSeq, err, hint)
	}
	r.hash = r.eng.StateHash()
	return r, nil
}

// explain adds to a journal error what an operator can do about it. A
// *journal.CorruptionError already names the segment, offset and seq.
func explain(err error, dataDir, dir string) error {
	var ce *journal.CorruptionError
	if !errors.As(err, &ce) {
		return err
	}
	if ce.Seq > 1 {
		return fmt.Errorf("%w; the journal cannot be trusted from seq %d on: restore %s from a backup or replica, "+
			"or cut it with `venue journal repair --data %s --truncate-after %d --yes` (every command after seq %d is lost)",
			err, ce.Seq, dir, dataDir, ce.Seq-1, ce.Seq-1)
	}
	return fmt.Errorf("%w; restore %s from a backup or replica", err, dir)
}
