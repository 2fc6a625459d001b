// Package faultfs is an in-memory journal.FS for tests that can lose what
// was not synced (a power cut), tear the last write at a chosen byte, flip a
// bit, or fail writes and syncs. It models what the journal relies on: a
// file's content is durable after its Sync, a directory's entries
// (creations, renames, removals) after SyncDir of the directory, and nothing
// else is.
package faultfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"venue/journal"
)

// ErrStale is returned by a file handle opened before a crash.
var ErrStale = errors.New("faultfs: file handle from before a crash")

type inode struct {
	data   []byte // what reads see (the page cache)
	synced []byte // what survives a power cut
}

type dir struct {
	entries map[string]*inode // now
	durable map[string]*inode // as of the last SyncDir
}

// FS is an in-memory file system. Directories, once made, are durable.
type FS struct {
	mu   sync.Mutex
	dirs map[string]*dir
	gen  int // bumped by every crash; older handles go stale

	last struct {
		ino  *inode
		name string
		off  int64
		n    int
	}
	writeErr    error
	syncErr     error
	truncateErr error
	// Syncs counts file syncs; DirSyncs directory syncs.
	Syncs, DirSyncs int
}

var _ journal.FS = (*FS)(nil)

// New returns an empty file system.
func New() *FS { return &FS{dirs: map[string]*dir{}} }

type file struct {
	fs     *FS
	ino    *inode
	name   string
	flag   int
	off    int64
	gen    int
	closed bool
}

func (f *FS) lookup(name string) (*dir, string, error) {
	name = filepath.Clean(name)
	d, ok := f.dirs[filepath.Dir(name)]
	if !ok {
		return nil, "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return d, filepath.Base(name), nil
}

// OpenFile opens a file with the os.O_* flags that matter to the journal.
func (f *FS) OpenFile(name string, flag int, perm os.FileMode) (journal.File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, base, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	ino, ok := d.entries[base]
	switch {
	case ok && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case !ok && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case !ok:
		ino = &inode{}
		d.entries[base] = ino
	}
	if flag&os.O_TRUNC != 0 {
		ino.data = nil
	}
	return &file{fs: f, ino: ino, name: filepath.Clean(name), flag: flag, gen: f.gen}, nil
}

// ReadDir lists the names in dir, sorted.
func (f *FS) ReadDir(name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dirs[filepath.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	names := make([]string, 0, len(d.entries))
	for n := range d.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// Rename moves an entry within or across directories.
func (f *FS) Rename(oldName, newName string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	od, ob, err := f.lookup(oldName)
	if err != nil {
		return err
	}
	nd, nb, err := f.lookup(newName)
	if err != nil {
		return err
	}
	ino, ok := od.entries[ob]
	if !ok {
		return &fs.PathError{Op: "rename", Path: oldName, Err: fs.ErrNotExist}
	}
	delete(od.entries, ob)
	nd.entries[nb] = ino
	return nil
}

// Remove deletes an entry.
func (f *FS) Remove(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, base, err := f.lookup(name)
	if err != nil {
		return err
	}
	if _, ok := d.entries[base]; !ok {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	delete(d.entries, base)
	return nil
}

// MkdirAll makes a directory and its parents; they are durable at once.
func (f *FS) MkdirAll(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p := filepath.Clean(name); ; p = filepath.Dir(p) {
		if _, ok := f.dirs[p]; !ok {
			f.dirs[p] = &dir{entries: map[string]*inode{}, durable: map[string]*inode{}}
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// SyncDir makes the directory's current entries durable.
func (f *FS) SyncDir(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.dirs[filepath.Clean(name)]
	if !ok {
		return &fs.PathError{Op: "sync", Path: name, Err: fs.ErrNotExist}
	}
	if f.syncErr != nil {
		return f.syncErr
	}
	d.durable = make(map[string]*inode, len(d.entries))
	for n, ino := range d.entries {
		d.durable[n] = ino
	}
	f.DirSyncs++
	return nil
}

// PowerCut loses everything not synced: every file's content goes back to
// its last Sync, every directory's entries to its last SyncDir. Handles
// opened before go stale.
func (f *FS) PowerCut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, d := range f.dirs {
		d.entries = make(map[string]*inode, len(d.durable))
		for n, ino := range d.durable {
			d.entries[n] = ino
		}
		for _, ino := range d.entries {
			ino.data = append([]byte(nil), ino.synced...)
		}
	}
	f.gen++
}

// Crash is a process crash (kill -9): the page cache survives, so nothing
// is lost, but handles opened before go stale.
func (f *FS) Crash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gen++
}

// TearLastWrite crashes in the middle of the most recent Write: only its
// first keep bytes reached the file, the rest of it and anything after it
// are gone, and all of that is on disk as it is. It returns the file's name.
func (f *FS) TearLastWrite(keep int) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last.ino == nil {
		return "", errors.New("faultfs: no write to tear")
	}
	if keep < 0 || keep >= f.last.n {
		return "", fmt.Errorf("faultfs: keep %d of a %d-byte write", keep, f.last.n)
	}
	ino := f.last.ino
	ino.data = ino.data[:f.last.off+int64(keep)]
	ino.synced = append([]byte(nil), ino.data...)
	f.gen++
	return f.last.name, nil
}

// LastWrite returns the file, offset and length of the most recent Write.
func (f *FS) LastWrite() (name string, off int64, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last.name, f.last.off, f.last.n
}

// FlipBit flips one bit of a file, in what reads see and on disk alike.
func (f *FS) FlipBit(name string, off int64, bit uint) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, base, err := f.lookup(name)
	if err != nil {
		return err
	}
	ino, ok := d.entries[base]
	if !ok {
		return &fs.PathError{Op: "flip", Path: name, Err: fs.ErrNotExist}
	}
	if off < 0 || off >= int64(len(ino.data)) {
		return fmt.Errorf("faultfs: offset %d beyond %s (%d bytes)", off, name, len(ino.data))
	}
	ino.data[off] ^= 1 << (bit % 8)
	if off < int64(len(ino.synced)) {
		ino.synced[off] ^= 1 << (bit % 8)
	}
	return nil
}

// FailWrites makes every later Write fail with err (nil: stop failing).
func (f *FS) FailWrites(err error) {
	f.mu.Lock()
	f.writeErr = err
	f.mu.Unlock()
}

// FailSyncs makes every later Sync and SyncDir fail with err (nil: stop).
func (f *FS) FailSyncs(err error) {
	f.mu.Lock()
	f.syncErr = err
	f.mu.Unlock()
}

// FailTruncates makes every later Truncate fail with err (nil: stop).
func (f *FS) FailTruncates(err error) {
	f.mu.Lock()
	f.truncateErr = err
	f.mu.Unlock()
}

// ReadFile returns a copy of what reads of name see.
func (f *FS) ReadFile(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, base, err := f.lookup(name)
	if err != nil {
		return nil, err
	}
	ino, ok := d.entries[base]
	if !ok {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	return append([]byte(nil), ino.data...), nil
}

// WriteFile replaces name's content, durably (for building damaged files).
func (f *FS) WriteFile(name string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, base, err := f.lookup(name)
	if err != nil {
		return err
	}
	ino, ok := d.entries[base]
	if !ok {
		ino = &inode{}
		d.entries[base] = ino
		d.durable[base] = ino
	}
	ino.data = append([]byte(nil), data...)
	ino.synced = append([]byte(nil), data...)
	return nil
}

func (h *file) check() error {
	if h.closed {
		return fs.ErrClosed
	}
	if h.gen != h.fs.gen {
		return ErrStale
	}
	return nil
}

func (h *file) Read(p []byte) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(); err != nil {
		return 0, err
	}
	if h.off >= int64(len(h.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.ino.data[h.off:])
	h.off += int64(n)
	return n, nil
}

func (h *file) ReadAt(p []byte, off int64) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, errors.New("faultfs: negative offset")
	}
	if off >= int64(len(h.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, h.ino.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (h *file) Write(p []byte) (int, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(); err != nil {
		return 0, err
	}
	if h.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return 0, &fs.PathError{Op: "write", Path: h.name, Err: fs.ErrPermission}
	}
	if h.fs.writeErr != nil {
		return 0, h.fs.writeErr
	}
	if h.flag&os.O_APPEND != 0 {
		h.off = int64(len(h.ino.data))
	}
	if end := h.off + int64(len(p)); end > int64(len(h.ino.data)) {
		h.ino.data = append(h.ino.data, make([]byte, end-int64(len(h.ino.data)))...)
	}
	copy(h.ino.data[h.off:], p)
	h.fs.last.ino, h.fs.last.name, h.fs.last.off, h.fs.last.n = h.ino, h.name, h.off, len(p)
	h.off += int64(len(p))
	return len(p), nil
}

func (h *file) Close() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if h.closed {
		return fs.ErrClosed
	}
	h.closed = true
	return nil
}

func (h *file) Truncate(size int64) error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(); err != nil {
		return err
	}
	if size < 0 {
		return errors.New("faultfs: negative size")
	}
	if h.fs.truncateErr != nil {
		return h.fs.truncateErr
	}
	if size <= int64(len(h.ino.data)) {
		h.ino.data = h.ino.data[:size]
	} else {
		h.ino.data = append(h.ino.data, make([]byte, size-int64(len(h.ino.data)))...)
	}
	return nil
}

func (h *file) Sync() error {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(); err != nil {
		return err
	}
	if h.fs.syncErr != nil {
		return h.fs.syncErr
	}
	h.ino.synced = append(h.ino.synced[:0], h.ino.data...)
	h.fs.Syncs++
	return nil
}

func (h *file) Size() (int64, error) {
	h.fs.mu.Lock()
	defer h.fs.mu.Unlock()
	if err := h.check(); err != nil {
		return 0, err
	}
	return int64(len(h.ino.data)), nil
}
