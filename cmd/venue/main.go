// Command venue is the one binary of the venue: the long-running server and
// the batch jobs are its subcommands. This package only wires: each
// subcommand lives in its own cmd_<name>.go with a new<Name>Cmd constructor
// registered in newRootCmd.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"venue/config"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes the command line and returns the process exit code; tests
// call it directly.
func run(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.Execute(); err != nil {
		fmt.Fprintf(stderr, "venue: %v\n", err)
		return 1
	}
	return 0
}

// globals holds what the root command's persistent flags set, for every
// subcommand.
type globals struct {
	configPath string // --config; "" means defaults and environment only
}

// loadConfig returns the validated effective configuration.
func (g *globals) loadConfig() (*config.Config, error) {
	return config.Load(g.configPath)
}

func newRootCmd() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:   "venue",
		Short: "Institutional bitcoin trading venue",
		Long: "venue runs an institutional bitcoin trading venue and its batch jobs.\n\n" +
			"Configuration: built-in dev defaults, overlaid by the YAML file of --config,\n" +
			"overlaid by VENUE_* environment variables (see config/venue.sample.yaml).",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVar(&g.configPath, "config", "",
		"YAML configuration file (optional; VENUE_* environment variables override it)")

	root.AddCommand(
		newVersionCmd(),
		newConfigCmd(g),
		newJournalCmd(g),
		newSnapshotCmd(g),
		newLoadtestCmd(g),
		newDevCmd(g),
		newMigrateCmd(g),
		newBackofficeCmd(g),
		newAdminCmd(g),
	)
	return root
}
