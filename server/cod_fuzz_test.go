package server_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"venue/fix"
)

// FuzzCODLedger: any file content is read as a list of session ids or
// refused with an error, never a panic; a list that is read is written
// back and read again the same.
func FuzzCODLedger(f *testing.F) {
	for _, s := range []string{"", "1\n", "1\n101\n3\n", "x\n", "0\n", "4294967296\n", " 7 \n\n", "-1\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), "cod")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := fix.OpenCODLedger(path)
		if err != nil {
			return
		}
		ids := l.Pending()
		if len(ids) > 0 { // rewrite through the ledger, then read again
			if err := l.Remove(ids[0]); err != nil {
				t.Fatal(err)
			}
			if err := l.Add(ids[0]); err != nil {
				t.Fatal(err)
			}
		}
		l2, err := fix.OpenCODLedger(path)
		if err != nil {
			t.Fatalf("a ledger the venue wrote is refused: %v", err)
		}
		if !slices.Equal(l2.Pending(), ids) {
			t.Fatalf("read %v, wrote and read back %v", ids, l2.Pending())
		}
	})
}
