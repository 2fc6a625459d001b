package fix

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/store/file"
)

// TestFileStoreRecords: the drop copy's file store (third_party/quickfix
// patch 9: positioned writes; patch 14: batches) writes the records
// upstream does
// ("seq,offset,len" lines, bodies back to back, the next seq as 19
// digits), and a store opened again on the files resends every message
// and continues the sequence, also after a reset.
func TestFileStoreRecords(t *testing.T) {
	dir := t.TempDir()
	settings := quickfix.NewSettings()
	settings.GlobalSettings().Set("FileStorePath", dir)
	settings.GlobalSettings().Set("FileStoreSync", "N")
	ss := quickfix.NewSessionSettings()
	ss.Set("BeginString", "FIX.4.4")
	ss.Set("SenderCompID", "VENUE")
	ss.Set("TargetCompID", "FIRM_A_DC")
	id, err := settings.AddSession(ss)
	if err != nil {
		t.Fatal(err)
	}
	open := func() quickfix.MessageStore {
		st, err := file.NewStoreFactory(settings).Create(id)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	bst, ok := st.(quickfix.BatchMessageStore)
	if !ok {
		t.Fatal("the file store saves no batches (patch 14)")
	}
	// One by one and in batches (patch 14) of random sizes: the same
	// records either way.
	rng := rand.New(rand.NewPCG(3, 4))
	var want []string
	for seq := 1; seq <= 300; {
		var batch [][]byte
		for k := 1 + rng.IntN(20); k > 0 && seq+len(batch) <= 300; k-- {
			n := seq + len(batch)
			msg := fmt.Sprintf("8=FIX.4.4\x019=%d\x0135=8\x0134=%d\x0117=%s\x0110=000\x01", 10+n%7, n, strings.Repeat("x", n%50))
			batch = append(batch, []byte(msg))
			want = append(want, msg)
		}
		if len(batch) == 1 && rng.IntN(2) == 0 {
			err = st.SaveMessageAndIncrNextSenderMsgSeqNum(seq, batch[0])
		} else {
			_, err = bst.SaveMessagesAndIncrNextSenderMsgSeqNum(seq, batch)
		}
		if err != nil {
			t.Fatal(err)
		}
		seq += len(batch)
		if st.NextSenderMsgSeqNum() != seq {
			t.Fatalf("after saving up to %d: next sender seq %d", seq-1, st.NextSenderMsgSeqNum())
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "FIX.4.4-VENUE-FIRM_A_DC")
	header, err := os.ReadFile(prefix + ".header")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	offset := 0
	for i, m := range want {
		lines = append(lines, fmt.Sprintf("%d,%d,%d", i+1, offset, len(m)))
		offset += len(m)
	}
	if got := strings.TrimSuffix(string(header), "\n"); got != strings.Join(lines, "\n") {
		t.Fatalf("header file:\n%.200s\nwant\n%.200s", got, strings.Join(lines, "\n"))
	}
	if body, _ := os.ReadFile(prefix + ".body"); string(body) != strings.Join(want, "") {
		t.Fatal("body file is not the messages back to back")
	}
	if seq, _ := os.ReadFile(prefix + ".senderseqnums"); string(seq) != "0000000000000000301" {
		t.Fatalf("senderseqnums %q", seq)
	}

	st = open()
	if n := st.NextSenderMsgSeqNum(); n != 301 {
		t.Fatalf("reopened: next sender seq %d", n)
	}
	got, err := st.GetMessages(1, 300)
	if err != nil || len(got) != 300 {
		t.Fatalf("reopened: %d messages, %v", len(got), err)
	}
	for i := range got {
		if string(got[i]) != want[i] {
			t.Fatalf("message %d: %q, want %q", i+1, got[i], want[i])
		}
	}
	// Appending after a reopen continues at the files' ends.
	extra := "8=FIX.4.4\x019=9\x0135=8\x0134=301\x0110=000\x01"
	if err := st.SaveMessageAndIncrNextSenderMsgSeqNum(301, []byte(extra)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetMessages(299, 301); len(got) != 3 || string(got[2]) != extra || string(got[0]) != want[298] {
		t.Fatalf("after a reopen and an append: %q", got)
	}
	if err := st.Reset(); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveMessageAndIncrNextSenderMsgSeqNum(1, []byte(extra)); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.GetMessages(1, 1); len(got) != 1 || string(got[0]) != extra || st.NextSenderMsgSeqNum() != 2 {
		t.Fatalf("after a reset: %q, next %d", got, st.NextSenderMsgSeqNum())
	}
	_ = st.Close()
}
