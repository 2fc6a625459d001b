package journal

import (
	"os"
	"path/filepath"
	"testing"
)

// TestOSFSSync: the operating system's Sync (fdatasync on Linux) succeeds
// on an open file, leaves its content as written, and fails on a closed
// one rather than reporting durability it did not get.
func TestOSFSSync(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	f, err := OSFS{}.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("record")); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatalf("sync of an open file: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err == nil {
		t.Fatal("sync of a closed file reported success")
	}
	if b, err := os.ReadFile(name); err != nil || string(b) != "record" {
		t.Fatalf("file holds %q (%v)", b, err)
	}
}

// A segment size the journal could not read back is refused at Open.
func TestOpenRefusesHugeSegments(t *testing.T) {
	if _, _, err := Open(OSFS{}, t.TempDir(), Options{SegmentSize: MaxSegmentSize + 1}); err == nil {
		t.Fatal("a segment size over MaxSegmentSize was taken")
	}
	w, _, err := Open(OSFS{}, t.TempDir(), Options{SegmentSize: MaxSegmentSize})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
}
