package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"venue/backoffice"
	"venue/config"
	"venue/journal"
	"venue/refdata"
)

func newBackofficeCmd(g *globals) *cobra.Command {
	var dataFlag string
	cmd := &cobra.Command{
		Use:   "backoffice",
		Short: "Back-office PostgreSQL projection: rebuild, status",
	}
	addDataFlag(cmd, &dataFlag)

	rebuild := &cobra.Command{
		Use:   "rebuild",
		Short: "Empty the projection tables and project the whole journal again",
		Long: "rebuild migrates the database of database.url, then in one transaction\n" +
			"truncates every projection table (orders, executions, trades, ledger,\n" +
			"balances, ...) and projects every command of the journal in --data again.\n" +
			"Reference data tables and the audit log stay. Readers see the old\n" +
			"projection until it commits; a running venue's projector waits, then goes on.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dir, err := g.backofficeSetup(dataFlag)
			if err != nil {
				return fmt.Errorf("backoffice rebuild: %w", err)
			}
			uni, err := refdata.FromConfig(cfg.Symbols)
			if err != nil {
				return fmt.Errorf("backoffice rebuild: %w", err)
			}
			ctx := cmd.Context()
			st, err := openMigrated(ctx, cfg)
			if err != nil {
				return fmt.Errorf("backoffice rebuild: %w", err)
			}
			defer st.Close()
			res, err := backoffice.Rebuild(ctx, st, uni, dir)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "rebuilt %s from %s: %d commands, %d events, %d rows, last seq %d, %s\n",
				config.RedactURL(cfg.Database.URL), dir, res.Commands, res.Events, res.Rows, res.LastSeq,
				res.Duration.Round(time.Millisecond))
			return nil
		},
	}

	status := &cobra.Command{
		Use:   "status",
		Short: "Print the migrations, the last projected seq and how far the journal is ahead",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, dir, err := g.backofficeSetup(dataFlag)
			if err != nil {
				return fmt.Errorf("backoffice status: %w", err)
			}
			ctx := cmd.Context()
			st, err := backoffice.Open(ctx, cfg.Database.URL)
			if err != nil {
				return fmt.Errorf("backoffice status: %s: %w", config.RedactURL(cfg.Database.URL), err)
			}
			defer st.Close()
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "database %s\n", config.RedactURL(cfg.Database.URL))
			if err := printMigrations(ctx, cmd, st); err != nil {
				return fmt.Errorf("backoffice status: %w", err)
			}
			ps, err := st.State(ctx)
			if err != nil {
				return fmt.Errorf("backoffice status: %w (run venue migrate)", err)
			}
			rep, err := journal.Verify(journal.OSFS{}, dir)
			if err != nil {
				return fmt.Errorf("backoffice status: %w", err)
			}
			fmt.Fprintf(out, "projected to seq %d", ps.LastSeq)
			if !ps.LastTime.IsZero() {
				fmt.Fprintf(out, " (command time %s)", ps.LastTime.UTC().Format(time.RFC3339Nano))
			}
			fmt.Fprintf(out, "\njournal %s at seq %d\n", dir, rep.LastSeq)
			switch origin, ok, err := backoffice.JournalOrigin(dir); {
			case err != nil:
				return fmt.Errorf("backoffice status: %w", err)
			case ps.OriginTime != 0 && (!ok || origin != ps.OriginTime), ps.LastSeq > rep.LastSeq:
				fmt.Fprintln(out, "the database holds the projection of another journal: run venue backoffice rebuild")
			default:
				fmt.Fprintf(out, "behind by %d commands\n", rep.LastSeq-ps.LastSeq)
			}
			return nil
		},
	}
	cmd.AddCommand(rebuild, status)
	return cmd
}

// backofficeSetup loads the configuration and resolves the journal.
func (g *globals) backofficeSetup(dataFlag string) (*config.Config, string, error) {
	cfg, err := g.loadConfig()
	if err != nil {
		return nil, "", err
	}
	if dataFlag == "" {
		dataFlag = cfg.DataDir
	}
	_, dir, err := g.openJournalDir(dataFlag)
	if err != nil {
		return nil, "", err
	}
	return cfg, dir, nil
}

func openMigrated(ctx context.Context, cfg *config.Config) (*backoffice.Store, error) {
	st, err := backoffice.Open(ctx, cfg.Database.URL)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config.RedactURL(cfg.Database.URL), err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}
