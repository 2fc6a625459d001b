package quickfix

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/quickfixgo/quickfix/datadictionary"
)

// TestTagsSeenIsASet (venue patch 12): the stack bitmap and its map for
// large tags answer as a map does, over random tags on both sides of 1024
// and the edges.
func TestTagsSeenIsASet(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 200; round++ {
		var got tagsSeen
		want := map[Tag]bool{}
		for i := 0; i < 100; i++ {
			var tag Tag
			switch rng.IntN(4) {
			case 0:
				tag = Tag(rng.IntN(64))
			case 1:
				tag = Tag(1020 + rng.IntN(8)) // around the bitmap's end
			case 2:
				tag = Tag(rng.IntN(1024))
			default:
				tag = Tag(rng.IntN(20000))
			}
			if seen := got.add(tag); seen != want[tag] {
				t.Fatalf("round %d: add(%d) said seen=%v, want %v", round, tag, seen, want[tag])
			}
			want[tag] = true
		}
	}
	var neg tagsSeen
	if neg.add(-1) || !neg.add(-1) {
		t.Fatal("a negative tag is remembered too")
	}
}

// TestValidateFieldFormats (venue patch 12): every typed value is still
// read, and a malformed one is refused as IncorrectDataFormatForValue;
// string types accept anything that is not empty.
func TestValidateFieldFormats(t *testing.T) {
	d, err := datadictionary.Parse("spec/FIX44.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		tag  Tag
		val  string
		good bool
	}{
		{38, "0.5", true}, {38, "x", false}, // QTY
		{44, "59000", true}, {44, "5e", false}, // PRICE
		{34, "12", true}, {34, "1.5", false}, // SEQNUM
		{52, "20261201-10:00:00.000", true}, {52, "20261201", false}, // UTCTIMESTAMP
		{43, "Y", true}, {43, "maybe", false}, // BOOLEAN (and its enum)
		{266, "N", true}, {266, "maybe", false}, // BOOLEAN without an enum: the type check alone
		{110, "3", true}, {110, "three", false}, // QTY: MinQty
		{58, "anything at all", true}, // STRING
	} {
		rej := validateField(d, ValidatorSettings{}, nil, TagValue{tag: c.tag, value: []byte(c.val)})
		if c.good != (rej == nil) {
			t.Errorf("tag %d value %q: reject %v, want good=%v", c.tag, c.val, rej, c.good)
		}
	}
}

// TestRawBatchIsWhatOneByOneWas (venue patch 15): a batch built into one
// buffer gives, message by message, the bytes buildRaw gives alone for
// the same MsgSeqNum and SendingTime; each is a well-formed message with
// its own capacity (appending to one cannot overwrite the next), and the
// store holds exactly those bytes.
func TestRawBatchIsWhatOneByOneWas(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	store, err := NewMemoryStoreFactory().Create(SessionID{})
	if err != nil {
		t.Fatal(err)
	}
	s := &session{
		store:              store,
		sessionID:          SessionID{BeginString: BeginStringFIX44, SenderCompID: "VENUE", TargetCompID: strings.Repeat("T", 1+rng.IntN(200))},
		timestampPrecision: Micros,
		messageEvent:       make(chan bool, 1),
	}
	for round := 0; round < 50; round++ {
		msgs := make([]RawMessage, 1+rng.IntN(40))
		for i := range msgs {
			body := []byte(fmt.Sprintf("11=C%d\x0117=E%d\x01", rng.IntN(1e6), rng.IntN(1e6)))
			body = append(body, bytes.Repeat([]byte("58=x\x01"), rng.IntN(300))...)
			sum := -1
			if rng.IntN(2) == 0 {
				sum = byteSum(body)
			}
			msgs[i] = RawMessage{MsgType: "8", Body: body, BodySum: sum}
		}
		first := s.store.NextSenderMsgSeqNum()
		s.toSend = nil
		n, last, err := s.queueRawBatchForSend(msgs)
		if err != nil || n != len(msgs) || last != first+n-1 {
			t.Fatalf("round %d: queued %d of %d, last %d (first %d): %v", round, n, len(msgs), last, first, err)
		}
		for i, got := range s.toSend {
			if cap(got) != len(got) {
				t.Fatalf("round %d: message %d has capacity %d past its %d bytes", round, i, cap(got), len(got))
			}
			msg := NewMessage()
			if err := ParseMessage(msg, bytes.NewBuffer(bytes.Clone(got))); err != nil {
				t.Fatalf("round %d: message %d does not parse: %v", round, i, err)
			}
			ts, err := msg.Header.GetBytes(tagSendingTime)
			if err != nil {
				t.Fatal(err)
			}
			want := s.appendRaw(nil, "8", first+i, msgs[i].Body, byteSum(msgs[i].Body), ts)
			if !bytes.Equal(got, want) {
				t.Fatalf("round %d: message %d:\n got %q\nwant %q", round, i, got, want)
			}
			if c, err := msg.Trailer.GetInt(tagCheckSum); err != nil || c != byteSum(got[:len(got)-7])%256 {
				t.Fatalf("round %d: message %d: checksum %d, %v", round, i, c, err)
			}
			stored, serr := s.store.GetMessages(first+i, first+i)
			if serr != nil || len(stored) != 1 || !bytes.Equal(stored[0], got) {
				t.Fatalf("round %d: message %d: the store holds %q (%v)", round, i, stored, serr)
			}
		}
		// Appending to a message leaves the next one whole.
		if len(s.toSend) > 1 {
			next := bytes.Clone(s.toSend[1])
			_ = append(s.toSend[0], "junk"...)
			if !bytes.Equal(s.toSend[1], next) {
				t.Fatalf("round %d: appending to the first message changed the second", round)
			}
		}
	}
}

// TestRawHeaderIsUpstreams (venue patch 15): the header appendRaw writes
// is byte for byte what upstream's fillDefaultHeader and build write, for
// every BeginString and SendingTime precision, with the optional header
// fields and LastMsgSeqNumProcessed (369), and CompIDs long enough to
// outgrow rawOverhead; SendingTime is FIXUTCTimestamp's.
func TestRawHeaderIsUpstreams(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
	body := []byte("11=C1\x0117=E1\x0158=hello\x01")
	for _, bs := range []string{BeginStringFIX40, BeginStringFIX41, BeginStringFIX42, BeginStringFIX44, BeginStringFIXT11} {
		for _, p := range []TimestampPrecision{Seconds, Millis, Micros, Nanos} {
			for _, comp := range []string{"VENUE", strings.Repeat("V", 300)} {
				id := SessionID{BeginString: bs, SenderCompID: comp, TargetCompID: "FIRM_A", SenderSubID: "S",
					TargetSubID: "T", SenderLocationID: "SL", TargetLocationID: "TL"}
				store, err := NewMemoryStoreFactory().Create(id)
				if err != nil {
					t.Fatal(err)
				}
				if err := store.SetNextTargetMsgSeqNum(42); err != nil {
					t.Fatal(err)
				}
				s := &session{store: store, sessionID: id, timestampPrecision: p, messageEvent: make(chan bool, 1)}
				s.EnableLastMsgSeqNumProcessed = true
				prec := p
				if bs < BeginStringFIX42 {
					prec = Seconds
				}
				var ts [32]byte
				st := s.appendSendingTime(ts[:0], now)
				if want := (FIXUTCTimestamp{Time: now, Precision: prec}).Write(); !bytes.Equal(st, want) {
					t.Fatalf("%s %v: SendingTime %q, want %q", bs, p, st, want)
				}
				m := NewMessage()
				m.Header.SetString(tagMsgType, "8")
				s.fillDefaultHeader(m, nil)
				m.Header.SetField(tagSendingTime, FIXUTCTimestamp{Time: now, Precision: prec})
				m.Header.SetField(tagMsgSeqNum, FIXInt(7))
				m.Body.SetString(Tag(11), "C1")
				m.Body.SetString(Tag(17), "E1")
				m.Body.SetString(Tag(58), "hello")
				want := m.build()
				if got := s.appendRaw(nil, "8", 7, body, byteSum(body), st); !bytes.Equal(got, want) {
					t.Fatalf("%s %v %d-byte CompID:\n got %q\nwant %q", bs, p, len(comp), got, want)
				}
			}
		}
	}
}

// failingStore saves until its k-th message, then refuses (a full disk);
// it is not a BatchMessageStore, so SaveBatch saves one by one.
type failingStore struct {
	MessageStore
	left int
}

func (s *failingStore) SaveMessageAndIncrNextSenderMsgSeqNum(seq int, msg []byte) error {
	if s.left == 0 {
		return errors.New("no space left on device")
	}
	s.left--
	return s.MessageStore.SaveMessageAndIncrNextSenderMsgSeqNum(seq, msg)
}

// TestRawBatchQueuesWhatWasSaved (venue patches 14, 15): when the store
// saves only a prefix of a batch, exactly that prefix is queued to send,
// the call says so (how many, the last MsgSeqNum, the error), and the
// next MsgSeqNum follows the prefix: nothing stored goes unsent, nothing
// unsent is numbered.
func TestRawBatchQueuesWhatWasSaved(t *testing.T) {
	for k := 0; k <= 5; k++ {
		inner, err := NewMemoryStoreFactory().Create(SessionID{})
		if err != nil {
			t.Fatal(err)
		}
		st := &failingStore{MessageStore: inner, left: k}
		s := &session{store: st, sessionID: SessionID{BeginString: BeginStringFIX44, SenderCompID: "VENUE", TargetCompID: "T"},
			messageEvent: make(chan bool, 1)}
		msgs := make([]RawMessage, 5)
		for i := range msgs {
			msgs[i] = RawMessage{MsgType: "8", Body: []byte(fmt.Sprintf("11=C%d\x01", i)), BodySum: -1}
		}
		s.toSend = [][]byte{[]byte("queued before")}
		n, last, err := s.queueRawBatchForSend(msgs)
		wantErr := k < len(msgs)
		if n != min(k, 5) || (err != nil) != wantErr || (n > 0 && last != n) || len(s.toSend) != 1+n {
			t.Fatalf("store takes %d: queued %d (last seq %d, %d to send), err %v", k, n, last, len(s.toSend), err)
		}
		if string(s.toSend[0]) != "queued before" {
			t.Fatalf("store takes %d: what was queued before is now %q", k, s.toSend[0])
		}
		if next := st.NextSenderMsgSeqNum(); next != n+1 {
			t.Fatalf("store takes %d: next MsgSeqNum %d, want %d", k, next, n+1)
		}
	}
}
