package fix

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"venue/matching"
)

// CODLedger is the durable list of order-entry sessions logged on with
// cancel-on-disconnect: a session is in it from its Logon until the cancel
// of its orders after it disconnected is journaled. A venue that crashes
// disconnects every session without running their cancels; at the next
// start the sessions still listed are the ones whose orders must go
// (Pending), so a crash is a disconnect like any other. A session that
// logged on with 8013=N is never listed: its orders survive a crash as
// they survive a disconnect.
//
// The file is one engine session id per line, rewritten whole (a new file,
// fsynced, renamed over the old one) at every change: Logons are rare next
// to orders.
type CODLedger struct {
	path string
	mu   sync.Mutex
	ids  map[matching.SessionID]bool
}

// OpenCODLedger reads the ledger at path (missing: empty).
func OpenCODLedger(path string) (*CODLedger, error) {
	l := &CODLedger{path: path, ids: map[matching.SessionID]bool{}}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fix: cancel-on-disconnect ledger: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		id, err := strconv.ParseUint(line, 10, 32)
		if err != nil || id == 0 {
			return nil, fmt.Errorf("fix: cancel-on-disconnect ledger %s line %d: %q is not a session id", path, n, line)
		}
		l.ids[matching.SessionID(id)] = true
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("fix: cancel-on-disconnect ledger: %w", err)
	}
	return l, nil
}

// Pending returns the sessions listed, ascending.
func (l *CODLedger) Pending() []matching.SessionID {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]matching.SessionID, 0, len(l.ids))
	for id := range l.ids {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// Add lists a session; it returns once that is on disk.
func (l *CODLedger) Add(id matching.SessionID) error { return l.set(id, true) }

// Remove unlists a session.
func (l *CODLedger) Remove(id matching.SessionID) error { return l.set(id, false) }

func (l *CODLedger) set(id matching.SessionID, on bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids[id] == on {
		return nil
	}
	if on {
		l.ids[id] = true
	} else {
		delete(l.ids, id)
	}
	if err := l.write(); err != nil {
		// What is in memory stays what is on disk, so the next call
		// writes again instead of taking the change for done.
		if on {
			delete(l.ids, id)
		} else {
			l.ids[id] = true
		}
		return err
	}
	return nil
}

// write replaces the file with the current list; l.mu is held.
func (l *CODLedger) write() error {
	ids := make([]matching.SessionID, 0, len(l.ids))
	for id := range l.ids {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	for _, id := range ids {
		fmt.Fprintf(&b, "%d\n", id)
	}
	tmp := l.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("fix: cancel-on-disconnect ledger: %w", err)
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return fmt.Errorf("fix: cancel-on-disconnect ledger: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fix: cancel-on-disconnect ledger: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("fix: cancel-on-disconnect ledger: %w", err)
	}
	if err := os.Rename(tmp, l.path); err != nil {
		return fmt.Errorf("fix: cancel-on-disconnect ledger: %w", err)
	}
	if d, err := os.Open(filepath.Dir(l.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
