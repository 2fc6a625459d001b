package sequencer

import (
	"errors"
	"fmt"

	"venue/journal"
	"venue/matching"
)

// errStop ends a replay early without an error.
var errStop = errors.New("stop")

// ReplayEvents regenerates the event stream of the journal in dir: every
// command from the first is applied to a fresh engine (the engine is
// deterministic, so these are the events the venue published), and fn sees
// each command with seq in [from, to] (to 0: to the end) and its events,
// valid only during the call. It changes nothing on disk. Consumers that
// were down (the back-office projector, drop copy) catch up with it; since
// only commands are journaled, the events before from must be recomputed.
// It returns the last seq read.
func ReplayEvents(fsys journal.FS, dir string, from, to uint64, fn func(*Published) error) (uint64, error) {
	if fsys == nil {
		fsys = journal.OSFS{}
	}
	eng := matching.New()
	var (
		p    Published
		last uint64
	)
	_, err := journal.Replay(fsys, dir, 1, func(seq uint64, payload []byte) error {
		if to != 0 && seq > to {
			return errStop
		}
		if err := journal.DecodeCommand(payload, &p.Cmd); err != nil {
			return fmt.Errorf("seq %d: %w", seq, err)
		}
		if p.Cmd.Seq != seq {
			return fmt.Errorf("seq %d: record holds a command stamped %d", seq, p.Cmd.Seq)
		}
		evs := eng.Apply(&p.Cmd)
		last = seq
		if seq < from {
			return nil
		}
		p.Seq, p.Time, p.Kind, p.Events = seq, p.Cmd.Time, p.Cmd.Kind, evs
		return fn(&p)
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	if err != nil {
		return last, fmt.Errorf("sequencer: replay events of %s: %w", dir, err)
	}
	return last, nil
}
