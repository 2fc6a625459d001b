package journal

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"venue/matching"
)

func sampleCommands() []matching.Command {
	return []matching.Command{
		{Kind: matching.CmdNewOrder, Seq: 1, Time: 1_700_000_000_000_000_000, Session: 7, Firm: 2, Account: 10,
			Symbol: 1, Side: matching.Buy, Type: matching.Limit, TIF: matching.GTC, STP: matching.STPCancelResting,
			PostOnly: true, Px: 6_000_000, Qty: 100_000, ClOrdID: "c-1"},
		{Kind: matching.CmdNewOrder, Seq: 2, Time: -5, Side: matching.Sell, Type: matching.StopLimit, TIF: matching.GTD,
			Px: math.MaxInt64, StopPx: math.MinInt64, Qty: -1, ExpireTime: math.MaxInt64, ClOrdID: strings.Repeat("x", MaxStringLen)},
		{Kind: matching.CmdCancel, Seq: math.MaxUint64, Session: math.MaxUint32, Firm: math.MaxUint32,
			Account: math.MaxUint32, OrderID: math.MaxUint64, ClOrdID: "c-2", OrigClOrdID: "c-1"},
		{Kind: matching.CmdMassCancel, Firm: 3, OnlySession: true, Reason: matching.ReasonDisconnect},
		{Kind: matching.CmdSetStatus, Symbol: 1, Status: matching.StatusHalted, Flag: true},
		{Kind: matching.CmdDeposit, Account: 10, Asset: 1, Amount: 100_000_000, Key: "deposit:abcd:0"},
		{Kind: matching.CmdAddSymbol, SymbolSpec: &matching.SymbolSpec{ID: 1, Name: "BTC-USD", Base: 0, Quote: 1,
			TickSize: 1, QtyStep: 1, MinQty: 10_000, MaxQty: 1e12, MaxNotional: math.MaxInt64, RefPx: 6_000_000,
			BandBps: 2000, Status: matching.StatusOpen}},
		{Kind: matching.CmdAddAccount, AccountSpec: &matching.AccountSpec{ID: 10, Firm: 2, FeeTier: 3,
			STP: matching.STPDecrement, STPFirm: true, MaxOpenOrders: math.MinInt32}},
		{Kind: matching.CmdSetFeeTier, FeeTier: 15, MakerPpm: -100, TakerPpm: 1_000_000},
		{},
	}
}

func TestCommandRoundTrip(t *testing.T) {
	for _, c := range sampleCommands() {
		b := AppendCommand([]byte("prefix"), &c)
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatal("AppendCommand lost the prefix")
		}
		b = b[len("prefix"):]
		if len(b) > MaxCommandLen {
			t.Fatalf("kind %d: %d bytes > MaxCommandLen", c.Kind, len(b))
		}
		var got matching.Command
		if err := DecodeCommand(b, &got); err != nil {
			t.Fatalf("kind %d: %v", c.Kind, err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("kind %d: round trip\n got %+v\nwant %+v", c.Kind, got, c)
		}
		// Every strict prefix is an error, never a panic.
		for i := range b {
			if err := DecodeCommand(b[:i], &got); err == nil {
				t.Fatalf("kind %d: prefix of %d/%d bytes decoded", c.Kind, i, len(b))
			}
		}
	}
}

func TestDecodeCommandRejects(t *testing.T) {
	good := AppendCommand(nil, &matching.Command{Kind: matching.CmdClock, Seq: 5})
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{9}, good[1:]...)},
		{"trailing byte", append(append([]byte(nil), good...), 0)},
		{"padded varint", append([]byte{codecVersion, 16, 0x85, 0x00}, good[3:]...)},
		{"too long", make([]byte, MaxCommandLen+1)},
		{"string beyond limit", func() []byte {
			c := matching.Command{Key: strings.Repeat("k", MaxStringLen+1)}
			return AppendCommand(nil, &c)
		}()},
		{"bool 2", func() []byte {
			c := matching.Command{PostOnly: true}
			b := AppendCommand(nil, &c)
			i := bytes.IndexByte(b[8:], 1) + 8 // PostOnly follows Side, Type, TIF, STP
			b[i] = 2
			return b
		}()},
		{"session beyond 32 bits", func() []byte {
			b := []byte{codecVersion, 1, 0, 0}
			return append(b, 0x80, 0x80, 0x80, 0x80, 0x10) // 1<<32
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c matching.Command
			c.Kind = 99
			if err := DecodeCommand(tt.b, &c); err == nil {
				t.Fatal("decoded")
			}
			if !reflect.DeepEqual(c, matching.Command{}) {
				t.Fatalf("command not reset on error: %+v", c)
			}
		})
	}
	if err := CheckCommand(&matching.Command{ClOrdID: strings.Repeat("c", MaxStringLen+1)}); err != ErrCommandTooLong {
		t.Fatalf("CheckCommand: %v", err)
	}
	if err := CheckCommand(&matching.Command{SymbolSpec: &matching.SymbolSpec{Name: strings.Repeat("n", MaxStringLen+1)}}); err != ErrCommandTooLong {
		t.Fatalf("CheckCommand spec: %v", err)
	}
}

// FuzzCommandCodec checks that no input makes DecodeCommand panic, and
// that whatever it accepts encodes back to the same bytes (one encoding
// per command) and decodes to the same command.
func FuzzCommandCodec(f *testing.F) {
	for _, c := range sampleCommands() {
		f.Add(AppendCommand(nil, &c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var c matching.Command
		if err := DecodeCommand(b, &c); err != nil {
			return
		}
		if err := CheckCommand(&c); err != nil {
			t.Fatalf("decoded a command CheckCommand refuses: %v", err)
		}
		b2 := AppendCommand(nil, &c)
		if !bytes.Equal(b, b2) {
			t.Fatalf("re-encoding differs\n in %x\nout %x", b, b2)
		}
		var c2 matching.Command
		if err := DecodeCommand(b2, &c2); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(c, c2) {
			t.Fatalf("re-decode differs")
		}
	})
}
