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

	"github.com/quickfixgo/quickfix/datadictionary"
)

var dictionaries struct {
	sync.Mutex
	byContent map[[sha256.Size]byte]*datadictionary.DataDictionary
}

// parseDictionary returns the parsed dictionary of the file at path,
// parsing it only the first time its content is seen.
func parseDictionary(path string) (*datadictionary.DataDictionary, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(src)
	dictionaries.Lock()
	defer dictionaries.Unlock()
	if dd, ok := dictionaries.byContent[key]; ok {
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
	return dd, nil
}
