package main

import (
	"fmt"
	"io"
	"os"
)

// startProfile starts a profile written to path (start and stop are
// pprof.StartCPUProfile / StopCPUProfile, trace.Start / Stop) for the
// flag named flag of command op. The stop it returns ends the profile
// and reports a failure to close the file, which would leave it cut
// short. An empty path starts nothing.
func startProfile(op, flag, path string, start func(io.Writer) error, stop func()) (func() error, error) {
	if path == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", op, flag, err)
	}
	if err := start(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %s: %w", op, flag, err)
	}
	return func() error {
		stop()
		if err := f.Close(); err != nil {
			return fmt.Errorf("%s: %s: %w", op, flag, err)
		}
		return nil
	}, nil
}
