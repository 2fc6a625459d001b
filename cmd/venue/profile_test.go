package main

import (
	"os"
	"path/filepath"
	"runtime/trace"
	"strings"
	"testing"
)

// TestStartProfile: a profile lands in its file once stopped; a file that
// cannot be made is an error naming the flag, and nothing is started; no
// path starts nothing.
func TestStartProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "venue.trace")
	stop, err := startProfile("dev", "--trace", path, trace.Start, trace.Stop)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("trace file: %v, %v", fi, err)
	}
	if _, err := startProfile("dev", "--trace", filepath.Join(t.TempDir(), "no", "such", "dir"), trace.Start, trace.Stop); err == nil || !strings.Contains(err.Error(), "dev: --trace") {
		t.Fatalf("unwritable path: %v", err)
	}
	if trace.IsEnabled() {
		t.Fatal("a failed start left a trace running")
	}
	stop, err = startProfile("dev", "--trace", "", trace.Start, trace.Stop)
	if err != nil || stop() != nil || trace.IsEnabled() {
		t.Fatalf("no path: %v, tracing %v", err, trace.IsEnabled())
	}
}
