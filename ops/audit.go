package ops

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// FileAuditor appends each admin action as one JSON line to a file and
// fsyncs it before the action is answered.
type FileAuditor struct {
	mu sync.Mutex
	f  *os.File
}

// OpenFileAuditor opens (creating) path for appending.
func OpenFileAuditor(path string) (*FileAuditor, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("ops: audit: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("ops: audit: %w", err)
	}
	return &FileAuditor{f: f}, nil
}

// Record implements Auditor.
func (a *FileAuditor) Record(_ context.Context, e AuditEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, err := a.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("ops: audit: %w", err)
	}
	return a.f.Sync()
}

// Close closes the file.
func (a *FileAuditor) Close() error { return a.f.Close() }

// MultiAuditor records to each auditor in turn; the first failure stops it.
type MultiAuditor []Auditor

// Record implements Auditor.
func (m MultiAuditor) Record(ctx context.Context, e AuditEntry) error {
	for _, a := range m {
		if err := a.Record(ctx, e); err != nil {
			return err
		}
	}
	return nil
}
