package main

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"venue/config"
)

// cleanEnv hides VENUE_* variables of the caller's shell from the test.
func cleanEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "VENUE_") {
			t.Setenv(k, "")
		}
	}
}

func TestCommands(t *testing.T) {
	badFile := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(badFile, []byte("journal: {max_batch: 0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantOut    []string // substrings of stdout
		wantErr    []string // substrings of stderr
		notWantOut []string
	}{
		{name: "version", args: []string{"version"}, wantOut: []string{"venue dev go1."}},
		{name: "config print defaults", args: []string{"config", "print"},
			wantOut: []string{"comp_id: VENUE", "order_entry_addr: 127.0.0.1:9878", `tick: "0.01"`}},
		{name: "config print sample", args: []string{"--config", "../../config/venue.sample.yaml", "config", "print"},
			wantOut: []string{"data_dir: ./venue-data", "max_batch: 4096"}},
		{name: "config print env override",
			args:       []string{"config", "print"},
			env:        map[string]string{"VENUE_DATA_DIR": "/srv/venue", "VENUE_DATABASE_URL": "postgres://u:s3cret@db:5432/venue"},
			wantOut:    []string{"data_dir: /srv/venue", "postgres://u:xxxxx@db:5432/venue"},
			notWantOut: []string{"s3cret"}},
		{name: "config print bad file", args: []string{"--config", badFile, "config", "print"},
			wantCode: 1, wantErr: []string{"config: journal.max_batch: must be > 0"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 1, wantErr: []string{"unknown command"}},
		{name: "help lists subcommands", args: []string{"--help"}, wantOut: []string{"version", "config", "--config"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cleanEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.wantCode, &stdout, &stderr)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, &stdout)
				}
			}
			for _, w := range tt.notWantOut {
				if strings.Contains(stdout.String(), w) {
					t.Errorf("stdout shows %q:\n%s", w, &stdout)
				}
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, &stderr)
				}
			}
		})
	}
}

// TestApplyRuntime: venue dev sets the configured garbage-collector target,
// unless GOGC is in the environment.
func TestApplyRuntime(t *testing.T) {
	old := debug.SetGCPercent(100)
	defer debug.SetGCPercent(old)
	noEnv := func(string) string { return "" }
	if gc, ok := applyRuntime(config.Runtime{GCPercent: 400}, noEnv); !ok || gc != 400 {
		t.Fatalf("applied %d %v", gc, ok)
	}
	if now := debug.SetGCPercent(100); now != 400 {
		t.Errorf("GC percent is %d, want 400", now)
	}
	withEnv := func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	}
	if _, ok := applyRuntime(config.Runtime{GCPercent: 400}, withEnv); ok {
		t.Error("GOGC set, but the configuration was applied")
	}
	if now := debug.SetGCPercent(100); now != 100 {
		t.Errorf("GC percent is %d after GOGC won, want it untouched (100)", now)
	}
}
