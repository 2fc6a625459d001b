package journal

import (
	"encoding/binary"
	"errors"
	"fmt"

	"venue/matching"
)

// codecVersion is the first byte of every encoded command. A new layout gets
// a new number; the decoder refuses numbers it does not know.
const codecVersion = 1

// MaxStringLen bounds every string of a command (ClOrdID, OrigClOrdID, Key,
// a symbol's Name). The sequencer refuses a longer one before it is
// journaled, so the decoder can refuse it too.
const MaxStringLen = 256

// MaxCommandLen bounds an encoded command: every fixed field at its widest
// plus every string at its longest.
const MaxCommandLen = 512 + 4*(MaxStringLen+2)

// ErrCommandTooLong says a command has a string longer than MaxStringLen.
var ErrCommandTooLong = errors.New("journal: command string longer than the limit")

// CheckCommand reports whether c can be encoded so that DecodeCommand
// accepts it again.
func CheckCommand(c *matching.Command) error {
	if len(c.ClOrdID) > MaxStringLen || len(c.OrigClOrdID) > MaxStringLen || len(c.Key) > MaxStringLen {
		return ErrCommandTooLong
	}
	if c.SymbolSpec != nil && len(c.SymbolSpec.Name) > MaxStringLen {
		return ErrCommandTooLong
	}
	return nil
}

// AppendCommand appends the compact binary encoding of c to dst: the codec
// version, then every field in declaration order; unsigned integers as
// uvarints, signed as zig-zag varints, uint8s and bools as one byte, strings
// length-prefixed, the optional specs behind a presence byte. Each command
// has exactly one encoding, so equal commands give equal bytes.
func AppendCommand(dst []byte, c *matching.Command) []byte {
	dst = append(dst, codecVersion, byte(c.Kind))
	dst = binary.AppendUvarint(dst, c.Seq)
	dst = binary.AppendVarint(dst, c.Time)
	dst = binary.AppendUvarint(dst, uint64(c.Session))
	dst = binary.AppendUvarint(dst, uint64(c.Firm))
	dst = binary.AppendUvarint(dst, uint64(c.Account))

	dst = binary.AppendUvarint(dst, uint64(c.Symbol))
	dst = append(dst, byte(c.Side), byte(c.Type), byte(c.TIF), byte(c.STP), boolByte(c.PostOnly))
	dst = binary.AppendVarint(dst, c.Px)
	dst = binary.AppendVarint(dst, c.StopPx)
	dst = binary.AppendVarint(dst, c.Qty)
	dst = binary.AppendVarint(dst, c.ExpireTime)

	dst = binary.AppendUvarint(dst, uint64(c.OrderID))
	dst = appendString(dst, c.ClOrdID)
	dst = appendString(dst, c.OrigClOrdID)

	dst = append(dst, boolByte(c.OnlySession), byte(c.Reason), byte(c.Status), boolByte(c.Flag))

	dst = append(dst, byte(c.Asset))
	dst = binary.AppendVarint(dst, c.Amount)
	dst = appendString(dst, c.Key)

	if s := c.SymbolSpec; s != nil {
		dst = append(dst, 1)
		dst = binary.AppendUvarint(dst, uint64(s.ID))
		dst = appendString(dst, s.Name)
		dst = append(dst, byte(s.Base), byte(s.Quote))
		dst = binary.AppendVarint(dst, s.TickSize)
		dst = binary.AppendVarint(dst, s.QtyStep)
		dst = binary.AppendVarint(dst, s.MinQty)
		dst = binary.AppendVarint(dst, s.MaxQty)
		dst = binary.AppendVarint(dst, s.MaxNotional)
		dst = binary.AppendVarint(dst, s.RefPx)
		dst = binary.AppendVarint(dst, s.BandBps)
		dst = append(dst, byte(s.Status))
	} else {
		dst = append(dst, 0)
	}
	if a := c.AccountSpec; a != nil {
		dst = append(dst, 1)
		dst = binary.AppendUvarint(dst, uint64(a.ID))
		dst = binary.AppendUvarint(dst, uint64(a.Firm))
		dst = append(dst, a.FeeTier, byte(a.STP), boolByte(a.STPFirm))
		dst = binary.AppendVarint(dst, int64(a.MaxOpenOrders))
	} else {
		dst = append(dst, 0)
	}
	dst = append(dst, c.FeeTier)
	dst = binary.AppendVarint(dst, c.MakerPpm)
	dst = binary.AppendVarint(dst, c.TakerPpm)
	return dst
}

// DecodeCommand decodes what AppendCommand wrote into *c, replacing all of
// it. It never panics: a short buffer, a non-minimal or overflowing varint,
// a bool that is not 0 or 1, a length beyond its bound, a value that does
// not fit its field or trailing bytes are errors.
func DecodeCommand(b []byte, c *matching.Command) error {
	*c = matching.Command{}
	if len(b) > MaxCommandLen {
		return fmt.Errorf("journal: command of %d bytes is longer than %d", len(b), MaxCommandLen)
	}
	d := decoder{b: b}
	if v := d.byte(); d.err == nil && v != codecVersion {
		return fmt.Errorf("journal: unknown command codec version %d", v)
	}
	c.Kind = matching.CmdKind(d.byte())
	c.Seq = d.uvarint()
	c.Time = d.varint()
	c.Session = matching.SessionID(d.uint32())
	c.Firm = matching.FirmID(d.uint32())
	c.Account = matching.AccountID(d.uint32())

	c.Symbol = matching.SymbolID(d.uint32())
	c.Side = matching.Side(d.byte())
	c.Type = matching.OrdType(d.byte())
	c.TIF = matching.TIF(d.byte())
	c.STP = matching.STPMode(d.byte())
	c.PostOnly = d.bool()
	c.Px = d.varint()
	c.StopPx = d.varint()
	c.Qty = d.varint()
	c.ExpireTime = d.varint()

	c.OrderID = matching.OrderID(d.uvarint())
	c.ClOrdID = d.string()
	c.OrigClOrdID = d.string()

	c.OnlySession = d.bool()
	c.Reason = matching.Reason(d.byte())
	c.Status = matching.SymbolStatus(d.byte())
	c.Flag = d.bool()

	c.Asset = matching.AssetID(d.byte())
	c.Amount = d.varint()
	c.Key = d.string()

	if d.bool() {
		s := &matching.SymbolSpec{}
		s.ID = matching.SymbolID(d.uint32())
		s.Name = d.string()
		s.Base = matching.AssetID(d.byte())
		s.Quote = matching.AssetID(d.byte())
		s.TickSize = d.varint()
		s.QtyStep = d.varint()
		s.MinQty = d.varint()
		s.MaxQty = d.varint()
		s.MaxNotional = d.varint()
		s.RefPx = d.varint()
		s.BandBps = d.varint()
		s.Status = matching.SymbolStatus(d.byte())
		c.SymbolSpec = s
	}
	if d.bool() {
		a := &matching.AccountSpec{}
		a.ID = matching.AccountID(d.uint32())
		a.Firm = matching.FirmID(d.uint32())
		a.FeeTier = d.byte()
		a.STP = matching.STPMode(d.byte())
		a.STPFirm = d.bool()
		m := d.varint()
		if d.err == nil && int64(int32(m)) != m {
			d.fail("MaxOpenOrders out of range")
		}
		a.MaxOpenOrders = int32(m)
		c.AccountSpec = a
	}
	c.FeeTier = d.byte()
	c.MakerPpm = d.varint()
	c.TakerPpm = d.varint()
	if d.err == nil && d.off != len(d.b) {
		d.fail("trailing bytes")
	}
	if d.err != nil {
		*c = matching.Command{}
		return d.err
	}
	return nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decoder reads fields in order and remembers the first error; after an
// error every read returns a zero value, so the caller checks once.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("journal: decode command at byte %d: %s", d.off, what)
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("short buffer")
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail("bool not 0 or 1")
	return false
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	// One encoding per value: refuse padded varints like 0x80 0x00.
	if n > 1 && d.b[d.off+n-1] == 0 {
		d.fail("non-minimal uvarint")
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint() int64 {
	u := d.uvarint()
	// Zig-zag, as binary.Varint does.
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *decoder) uint32() uint32 {
	v := d.uvarint()
	if v > 1<<32-1 {
		d.fail("value does not fit 32 bits")
		return 0
	}
	return uint32(v)
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > MaxStringLen {
		d.fail("string longer than the limit")
		return ""
	}
	if uint64(len(d.b)-d.off) < n {
		d.fail("short buffer")
		return ""
	}
	s := string(d.b[d.off : d.off+int(n)])
	d.off += int(n)
	return s
}
