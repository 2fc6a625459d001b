package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"venue/journal"
	"venue/matching"
)

func newSnapshotCmd(g *globals) *cobra.Command {
	var dataFlag string
	var fromScratch bool
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Write a snapshot of a stopped venue's state at the journal's last seq",
		Long: "snapshot recovers the engine as `venue journal replay` does (newest intact\n" +
			"snapshot plus the records after it, invariants checked), then writes the\n" +
			"state as a snapshot at the journal's last seq, atomically, next to the\n" +
			"journal in <data>/" + journalSubdir + "/, so the next start replays nothing. The\n" +
			"newest " + fmt.Sprint(journal.SnapshotsKept) + " snapshots are kept, older ones deleted. Stop the venue first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "snapshot"
			dataDir, dir, err := g.openJournalDir(dataFlag)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			fsys := journal.OSFS{}
			r, err := recoverState(fsys, dir, fromScratch)
			if err != nil {
				return fmt.Errorf("%s: recover: %w", op, explain(err, dataDir, dir))
			}
			if r.lastSeq == 0 {
				return errors.New(op + ": the journal is empty: there is no state to snapshot")
			}
			out := cmd.OutOrStdout()
			printRecovery(out, r, fromScratch)
			if err := journal.WriteSnapshot(fsys, dir, r.lastSeq, r.eng.MarshalSnapshot()); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			// The file name is the journal package's; read it back rather
			// than guess it, which also checks what was written.
			snap, _, err := journal.LatestSnapshot(fsys, dir)
			if err != nil {
				return fmt.Errorf("%s: read back: %w", op, err)
			}
			if snap == nil || snap.Seq != r.lastSeq {
				return fmt.Errorf("%s: read back: the newest intact snapshot in %s is not the one at seq %d just written", op, dir, r.lastSeq)
			}
			// Pair check: the snapshot on disk restores to the state just hashed.
			check := matching.New()
			if err := check.RestoreSnapshot(snap.State); err != nil {
				return fmt.Errorf("%s: read back %s: %w; delete it, it would stop the next start", op, snap.File, err)
			}
			if check.StateHash() != r.hash {
				return fmt.Errorf("%s: read back %s: it restores to state hash %x, not %s; delete it, it would change the state at the next start",
					op, snap.File, check.StateHash(), r.hashHex())
			}
			fmt.Fprintf(out, "wrote:      %s (seq %d, %d bytes of state)\n", filepath.Join(dir, snap.File), snap.Seq, len(snap.State))
			return nil
		},
	}
	addDataFlag(cmd, &dataFlag)
	cmd.Flags().BoolVar(&fromScratch, "from-scratch", false, "rebuild the state from the whole journal, ignoring existing snapshots")
	return cmd
}
