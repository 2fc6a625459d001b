package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"venue/journal"
)

func newJournalCmd(g *globals) *cobra.Command {
	var dataDir string
	cmd := &cobra.Command{
		Use:   "journal",
		Short: "Check, replay or repair a stopped venue's journal",
		Long: "journal works on the journal of a stopped venue: <data>/" + journalSubdir + "/ holds its\n" +
			"segment files and the engine snapshots. Nothing checks that the venue is\n" +
			"stopped: stop it first.",
	}
	addDataFlag(cmd, &dataDir)
	cmd.AddCommand(
		newJournalVerifyCmd(g, &dataDir),
		newJournalReplayCmd(g, &dataDir),
		newJournalRepairCmd(g, &dataDir),
	)
	return cmd
}

func newJournalVerifyCmd(g *globals, dataFlag *string) *cobra.Command {
	return &cobra.Command{
		Use:   "verify",
		Short: "Check every record of the journal; exit 1 naming the segment, offset and seq of any damage",
		Long: "verify reads every segment and checks every record's checksum and that the\n" +
			"seqs are contiguous. It changes nothing. A torn tail (a partial last record,\n" +
			"left by a crash, never acknowledged) is reported: the venue truncates it when\n" +
			"it starts. Damage inside committed records, or a snapshot beyond the journal's\n" +
			"end, is an error: the venue would refuse to start.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "journal verify"
			dataDir, dir, err := g.openJournalDir(*dataFlag)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			fsys := journal.OSFS{}
			out := cmd.OutOrStdout()
			rep, err := journal.Verify(fsys, dir)
			printReport(out, rep)
			if err != nil {
				return fmt.Errorf("%s: %w", op, explain(err, dataDir, dir))
			}
			snap, skipped, err := journal.LatestSnapshot(fsys, dir)
			for _, s := range skipped {
				fmt.Fprintf(out, "damaged snapshot: %s: %s (recovery passes over it)\n", s.File, s.Reason)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if snap == nil {
				fmt.Fprintf(out, "snapshot:   none\n")
			} else {
				fmt.Fprintf(out, "snapshot:   %s (seq %d)\n", snap.File, snap.Seq)
				if snap.Seq > rep.LastSeq {
					return fmt.Errorf("%s: snapshot %s is at seq %d, beyond the journal's last seq %d: "+
						"the journal has lost records the snapshot holds; restore them from a backup or replica",
						op, snap.File, snap.Seq, rep.LastSeq)
				}
			}
			fmt.Fprintln(out, "ok")
			return nil
		},
	}
}

// printReport prints what a pass over the journal found.
func printReport(out io.Writer, rep journal.Report) {
	fmt.Fprintf(out, "journal:    %s\n", rep.Dir)
	fmt.Fprintf(out, "segments:   %d\n", rep.Segments)
	fmt.Fprintf(out, "records:    %d\n", rep.Records)
	fmt.Fprintf(out, "first seq:  %d\n", rep.FirstSeq)
	fmt.Fprintf(out, "last seq:   %d\n", rep.LastSeq)
	if rep.Torn != nil {
		fmt.Fprintf(out, "torn tail:  %s (not acknowledged; the venue truncates it at start)\n", rep.Torn)
	} else {
		fmt.Fprintf(out, "torn tail:  none\n")
	}
}

func newJournalReplayCmd(g *globals, dataFlag *string) *cobra.Command {
	var fromScratch bool
	cmd := &cobra.Command{
		Use:   "replay",
		Short: "Recover the engine as the venue does and print the state hash",
		Long: "replay rebuilds the engine exactly as the venue does at start: it checks every\n" +
			"record, restores the newest intact snapshot, then decodes and applies the\n" +
			"records after it. It then checks the engine's invariants and prints the last\n" +
			"seq, the commands replayed and the state hash. It changes nothing on disk.\n" +
			"--from-scratch ignores the snapshots: both ways must give the same hash.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "journal replay"
			dataDir, dir, err := g.openJournalDir(*dataFlag)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			r, err := recoverState(journal.OSFS{}, dir, fromScratch)
			if err != nil {
				return fmt.Errorf("%s: %w", op, explain(err, dataDir, dir))
			}
			printRecovery(cmd.OutOrStdout(), r, fromScratch)
			return nil
		},
	}
	cmd.Flags().BoolVar(&fromScratch, "from-scratch", false, "ignore the snapshots and replay the whole journal")
	return cmd
}

// printRecovery prints how the state was rebuilt and its hash.
func printRecovery(out io.Writer, r *recovered, fromScratch bool) {
	fmt.Fprintf(out, "journal:    %s\n", r.journal.Dir)
	for _, s := range r.skipped {
		fmt.Fprintf(out, "damaged snapshot: %s: %s (passed over)\n", s.File, s.Reason)
	}
	switch {
	case fromScratch:
		fmt.Fprintf(out, "snapshot:   not used (--from-scratch)\n")
	case r.snapshotFile == "":
		fmt.Fprintf(out, "snapshot:   none\n")
	default:
		fmt.Fprintf(out, "snapshot:   %s (seq %d)\n", r.snapshotFile, r.snapshotSeq)
	}
	if r.journal.Torn != nil {
		fmt.Fprintf(out, "torn tail:  %s (not replayed)\n", r.journal.Torn)
	}
	fmt.Fprintf(out, "replayed:   %d commands\n", r.replayed)
	fmt.Fprintf(out, "last seq:   %d\n", r.lastSeq)
	fmt.Fprintf(out, "invariants: ok\n")
	fmt.Fprintf(out, "state hash: %s\n", r.hashHex())
}

func newJournalRepairCmd(g *globals, dataFlag *string) *cobra.Command {
	var seq uint64
	var yes bool
	cmd := &cobra.Command{
		Use:   "repair --truncate-after SEQ [--yes]",
		Short: "Cut the journal after SEQ (every command after it is lost)",
		Long: "repair --truncate-after SEQ cuts the journal just after record SEQ: the segment\n" +
			"holding SEQ is truncated, every later segment and every snapshot beyond SEQ is\n" +
			"deleted. The records before SEQ must be intact; damage after it is what this is\n" +
			"for. Every command after SEQ is lost, acknowledged or not: restore from a backup\n" +
			"or replica instead when there is one. Without --yes it only prints what it\n" +
			"would remove.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			const op = "journal repair"
			if !cmd.Flags().Changed("truncate-after") {
				return fmt.Errorf("%s: --truncate-after SEQ is required: the last seq to keep (venue journal verify shows the last seq)", op)
			}
			_, dir, err := g.openJournalDir(*dataFlag)
			if err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			if err := runRepair(cmd.OutOrStdout(), dir, seq, yes); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
			return nil
		},
	}
	cmd.Flags().Uint64Var(&seq, "truncate-after", 0, "the last seq to keep (0 empties the journal)")
	cmd.Flags().BoolVar(&yes, "yes", false, "do it; without it, only print what would be removed")
	return cmd
}

// runRepair checks seq against the journal, then runs
// journal.RepairTruncateAfter: for real with yes, else on dryRunFS, so the
// operator sees exactly what it would remove, through its own checks.
func runRepair(out io.Writer, dir string, seq uint64, yes bool) error {
	rep, verr := journal.Verify(journal.OSFS{}, dir)
	var ce *journal.CorruptionError
	if verr != nil && !errors.As(verr, &ce) {
		return verr
	}
	fmt.Fprintf(out, "journal:    %s\n", dir)
	fmt.Fprintf(out, "last seq:   %d\n", rep.LastSeq)
	if rep.Torn != nil {
		fmt.Fprintf(out, "torn tail:  %s\n", rep.Torn)
	}
	if ce != nil {
		fmt.Fprintf(out, "damage:     %s\n", ce)
	}
	// The checks RepairTruncateAfter makes too, said in the operator's terms.
	switch {
	case ce != nil && seq >= ce.Seq:
		return fmt.Errorf("--truncate-after %d is not before the damage at seq %d (segment %s offset %d): give a seq below %d",
			seq, ce.Seq, ce.File, ce.Offset, ce.Seq)
	case ce == nil && seq > rep.LastSeq:
		return fmt.Errorf("--truncate-after %d is past the end of the journal (last seq %d): give a seq of at most %d",
			seq, rep.LastSeq, rep.LastSeq)
	case ce == nil && rep.Torn == nil && seq == rep.LastSeq:
		fmt.Fprintf(out, "nothing to remove: seq %d is the journal's last record\n", seq)
		return nil
	}

	fsys := journal.FS(dryRunFS{})
	if yes {
		fsys = journal.OSFS{}
	}
	res, err := journal.RepairTruncateAfter(fsys, dir, seq)
	if err != nil {
		return err
	}
	keep, remove := "would keep", "and remove"
	if yes {
		keep, remove = "kept", "and removed"
	}
	kept := fmt.Sprintf("up to seq %d", seq)
	if seq == 0 {
		kept = "nothing"
	}
	lost := fmt.Sprintf("seq %d..%d", seq+1, rep.LastSeq)
	switch {
	case ce != nil:
		lost = fmt.Sprintf("seq %d to the end, damage included", seq+1)
	case seq == rep.LastSeq:
		lost = "the torn tail only"
	case rep.Torn != nil:
		lost += " and the torn tail"
	}
	fmt.Fprintf(out, "%s %s %s %s:\n", keep, kept, remove, lost)
	if res.Truncated != "" {
		fmt.Fprintf(out, "  truncate %s to %d bytes\n", res.Truncated, res.Offset)
	}
	for _, name := range res.Removed {
		fmt.Fprintf(out, "  remove   %s\n", name)
	}
	if !yes {
		fmt.Fprintf(out, "nothing changed: run again with --yes to do it\n")
		return nil
	}
	after, err := journal.Verify(journal.OSFS{}, dir)
	if err != nil {
		return fmt.Errorf("verify after the repair: %w", err)
	}
	fmt.Fprintf(out, "last seq now %d\n", after.LastSeq)
	return nil
}

// dryRunFS is the operating system's file system with every change
// skipped: reads pass through, removals, renames, truncations and syncs do
// nothing. journal.RepairTruncateAfter run on it makes all its checks and
// reports what it would change, without changing it.
type dryRunFS struct{ journal.OSFS }

var errDryRun = errors.New("dry run: no writes")

// OpenFile opens name for reading whatever flag asks for.
func (dryRunFS) OpenFile(name string, flag int, perm os.FileMode) (journal.File, error) {
	f, err := journal.OSFS{}.OpenFile(name, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND) == 0 {
		return f, nil
	}
	return dryRunFile{f}, nil
}

func (dryRunFS) Rename(string, string) error { return nil }
func (dryRunFS) Remove(string) error         { return nil }
func (dryRunFS) MkdirAll(string) error       { return nil }
func (dryRunFS) SyncDir(string) error        { return nil }

// dryRunFile is a file opened for writing by a dry run: it refuses writes
// and skips truncation and sync.
type dryRunFile struct{ journal.File }

func (dryRunFile) Write([]byte) (int, error) { return 0, errDryRun }
func (dryRunFile) Truncate(int64) error      { return nil }
func (dryRunFile) Sync() error               { return nil }
