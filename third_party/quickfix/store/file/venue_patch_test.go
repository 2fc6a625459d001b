package file

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/quickfixgo/quickfix"
)

// TestFailedSaveLeavesNoRecord (venue patch 14): a save that fails in the
// header write, the body write or the next MsgSeqNum's write leaves the files as they
// were and the sequence where it was, so the drop copy's retry of the
// same messages stores each once; the files then hold every message
// once, in order, and a reopened store resends them all.
func TestFailedSaveLeavesNoRecord(t *testing.T) {
	dir := t.TempDir()
	id := quickfix.SessionID{BeginString: "FIX.4.4", SenderCompID: "VENUE", TargetCompID: "FIRM_A_DC"}
	st, err := newFileStore(id, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(seq int) []byte {
		return []byte(fmt.Sprintf("8=FIX.4.4\x0135=8\x0134=%d\x0117=%s\x0110=000\x01", seq, strings.Repeat("x", seq)))
	}
	batch := func(first, n int) [][]byte {
		var b [][]byte
		for i := 0; i < n; i++ {
			b = append(b, msg(first+i))
		}
		return b
	}
	if n, err := st.SaveMessagesAndIncrNextSenderMsgSeqNum(1, batch(1, 2)); n != 2 || err != nil {
		t.Fatal(n, err)
	}
	files := func() (string, string) {
		h, _ := os.ReadFile(st.headerFname)
		b, _ := os.ReadFile(st.bodyFname)
		return string(h), string(b)
	}
	h0, b0 := files()
	readOnly := func(f **os.File) func() {
		rw := *f
		ro, err := os.Open(rw.Name())
		if err != nil {
			t.Fatal(err)
		}
		*f = ro
		return func() { *f = rw; ro.Close() }
	}
	for _, c := range []struct {
		name string
		file **os.File
	}{{"header", &st.headerFile}, {"body", &st.bodyFile}, {"next MsgSeqNum", &st.senderSeqNumsFile}} {
		restore := readOnly(c.file)
		if n, err := st.SaveMessagesAndIncrNextSenderMsgSeqNum(3, batch(3, 2)); n != 0 || err == nil {
			t.Fatalf("%s refused: saved %d, err %v", c.name, n, err)
		}
		restore()
		if h, b := files(); h != h0 || b != b0 {
			t.Fatalf("%s refused: files changed:\n%q\n%q", c.name, h, b)
		}
		if next := st.NextSenderMsgSeqNum(); next != 3 {
			t.Fatalf("%s refused: next MsgSeqNum %d, want 3", c.name, next)
		}
	}
	// The retry, then one more single save.
	if n, err := st.SaveMessagesAndIncrNextSenderMsgSeqNum(3, batch(3, 2)); n != 2 || err != nil {
		t.Fatal(n, err)
	}
	if err := st.SaveMessageAndIncrNextSenderMsgSeqNum(5, msg(5)); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = newFileStore(id, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if next := st.NextSenderMsgSeqNum(); next != 6 {
		t.Fatalf("reopened: next MsgSeqNum %d, want 6", next)
	}
	got, err := st.GetMessages(1, 5)
	if err != nil || len(got) != 5 {
		t.Fatalf("reopened: %d messages, %v", len(got), err)
	}
	for i, m := range got {
		if string(m) != string(msg(i+1)) {
			t.Fatalf("message %d: %q, want %q", i+1, m, msg(i+1))
		}
	}
	if h, _ := files(); strings.Count(h, "\n") != 5 {
		t.Fatalf("header file has %d records, want 5:\n%s", strings.Count(h, "\n"), h)
	}
}
