package fix

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/quickfixgo/quickfix"
)

// TestRingStoreBatchIsOneByOne: saving runs of messages at once leaves
// the ring store as saving them one by one does (same messages kept, same
// next MsgSeqNum), across the ring's wrap.
func TestRingStoreBatchIsOneByOne(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 2))
	mk := func() *ringStore {
		st, err := newRingStoreFactory(64).Create(quickfix.SessionID{})
		if err != nil {
			t.Fatal(err)
		}
		return st.(*ringStore)
	}
	batch, single := mk(), mk()
	seq := 1
	for seq < 500 {
		n := 1 + r.IntN(40)
		msgs := make([][]byte, n)
		for i := range msgs {
			msgs[i] = []byte(fmt.Sprintf("msg %d", seq+i))
			if err := single.SaveMessageAndIncrNextSenderMsgSeqNum(seq+i, msgs[i]); err != nil {
				t.Fatal(err)
			}
		}
		if saved, err := batch.SaveMessagesAndIncrNextSenderMsgSeqNum(seq, msgs); saved != n || err != nil {
			t.Fatalf("batch at %d: saved %d of %d, %v", seq, saved, n, err)
		}
		seq += n
		if batch.NextSenderMsgSeqNum() != seq || single.NextSenderMsgSeqNum() != seq {
			t.Fatalf("next MsgSeqNum %d / %d, want %d", batch.NextSenderMsgSeqNum(), single.NextSenderMsgSeqNum(), seq)
		}
		begin := max(1, seq-70+r.IntN(20))
		got, _ := batch.GetMessages(begin, seq-1)
		want, _ := single.GetMessages(begin, seq-1)
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("at %d, messages %d..: batch store holds %d, one by one %d", seq, begin, len(got), len(want))
		}
	}
}
