package quickfix

// VENUE PATCH 3: one parsed data dictionary per content, shared by every
// session. Upstream parses the XML for each session it creates: for a
// dynamic session that is every Logon (about 0.1 s of CPU for FIX44.xml),
// and each session keeps its own copy (megabytes of maps the garbage
// collector scans on every cycle). A DataDictionary is read-only once
// parsed (the validator only reads it), so sessions can share one. The key
// is the file's content, not its path, so a file rewritten in place is
// parsed again.

import (
	"bytes"
	"crypto/sha256"
	"os"
	"sync"
	"time"

	"github.com/quickfixgo/quickfix/datadictionary"
)

var dictionaries struct {
	sync.Mutex
	byContent map[[sha256.Size]byte]*datadictionary.DataDictionary
	byPath    map[string]pathEntry // a file unchanged since read (size, mtime): not read again
}

type pathEntry struct {
	size  int64
	mtime time.Time
	dd    *datadictionary.DataDictionary
}

// parseDictionary returns the parsed dictionary of the file at path,
// parsing it only the first time its content is seen.
func parseDictionary(path string) (*datadictionary.DataDictionary, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	dictionaries.Lock()
	if e, ok := dictionaries.byPath[path]; ok && e.size == fi.Size() && e.mtime.Equal(fi.ModTime()) {
		dictionaries.Unlock()
		return e.dd, nil
	}
	dictionaries.Unlock()
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(src)
	dictionaries.Lock()
	defer dictionaries.Unlock()
	if dictionaries.byPath == nil {
		dictionaries.byPath = map[string]pathEntry{}
	}
	if dd, ok := dictionaries.byContent[key]; ok {
		dictionaries.byPath[path] = pathEntry{fi.Size(), fi.ModTime(), dd}
		return dd, nil
	}
	dd, err := datadictionary.ParseSrc(bytes.NewReader(src))
	if err != nil {
		return nil, err
	}
	if dictionaries.byContent == nil {
		dictionaries.byContent = map[[sha256.Size]byte]*datadictionary.DataDictionary{}
	}
	dictionaries.byContent[key] = dd
	dictionaries.byPath[path] = pathEntry{fi.Size(), fi.ModTime(), dd}
	return dd, nil
}
