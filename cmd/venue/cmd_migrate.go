package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"venue/backoffice"
	"venue/config"
)

func newMigrateCmd(g *globals) *cobra.Command {
	var createDB bool
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the back-office PostgreSQL migrations (database.url)",
		Long: "migrate applies the schema migrations the binary carries to the back-office\n" +
			"database of database.url (VENUE_DATABASE_URL), creating the database first\n" +
			"unless --create-database=false, then lists every migration and its state. The\n" +
			"venue also migrates at start; running both at once is safe (advisory lock).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.loadConfig()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 5*time.Minute)
			defer cancel()
			out := cmd.OutOrStdout()
			if createDB {
				created, err := backoffice.CreateDatabase(ctx, cfg.Database.URL)
				if err != nil {
					return fmt.Errorf("migrate: %w", err)
				}
				if created {
					fmt.Fprintf(out, "created database %s\n", config.RedactURL(cfg.Database.URL))
				}
			}
			st, err := backoffice.Open(ctx, cfg.Database.URL)
			if err != nil {
				return fmt.Errorf("migrate: %s: %w", config.RedactURL(cfg.Database.URL), err)
			}
			defer st.Close()
			applied, err := st.Migrate(ctx)
			if err != nil {
				return fmt.Errorf("migrate: %w", err)
			}
			fmt.Fprintf(out, "database %s: %d migration(s) applied\n", config.RedactURL(cfg.Database.URL), len(applied))
			return printMigrations(ctx, cmd, st)
		},
	}
	cmd.Flags().BoolVar(&createDB, "create-database", true, "create the database of database.url if it does not exist")
	return cmd
}

func printMigrations(ctx context.Context, cmd *cobra.Command, st *backoffice.Store) error {
	ms, err := st.Status(ctx)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	for _, m := range ms {
		state := "pending"
		if m.Applied {
			state = "applied " + m.AppliedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(out, "  %05d %-24s %s\n", m.Version, m.Name, state)
	}
	return nil
}
