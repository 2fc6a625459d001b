package guard

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// step is one result of Scanner.Next.
type step struct {
	frame string // readable, '|' for SOH; "" to skip the comparison
	err   error  // nil, a rule, io.EOF or io.ErrUnexpectedEOF
}

func scanAll(t *testing.T, r io.Reader, opts Options) []step {
	t.Helper()
	s := NewScanner(r, opts)
	var out []step
	for i := 0; i < 100; i++ {
		frame, err := s.Next()
		out = append(out, step{frame: readable(frame), err: err})
		var fe *FrameError
		if err != nil && (!errors.As(err, &fe) || fe.Action == Cut) {
			return out
		}
	}
	t.Fatal("scanner did not stop")
	return nil
}

func TestScannerStreams(t *testing.T) {
	hb := func(seq string) []byte {
		return frameOf("35=0|34=" + seq + "|49=A|52=20260101-12:00:00|56=VENUE|")
	}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	wrongLen := func(f []byte, n string) []byte {
		// Replace the BodyLength value and fix the CheckSum, as a client
		// with a broken length computation would send it.
		s := string(f)
		i := strings.Index(s, "\x019=") + 3
		j := i + strings.IndexByte(s[i:], soh)
		k := strings.LastIndex(s, "10=")
		return withChecksum(s[:i] + n + s[j:k])
	}
	rf := func(f []byte) string { return readable(f) }

	tests := []struct {
		name  string
		input []byte
		opts  Options
		want  []step
	}{
		{
			name:  "three frames",
			input: cat(hb("2"), hb("3"), hb("4")),
			want:  []step{{rf(hb("2")), nil}, {rf(hb("3")), nil}, {rf(hb("4")), nil}, {"", io.EOF}},
		},
		{
			name:  "junk before and between frames",
			input: cat([]byte("35=0\x01"), hb("2"), []byte("garbage"), hb("3")),
			want:  []step{{"35=0|", ErrJunk}, {rf(hb("2")), nil}, {"garbage", ErrJunk}, {rf(hb("3")), nil}, {"", io.EOF}},
		},
		{
			name:  "junk at the end",
			input: cat(hb("2"), []byte("xyz")),
			want:  []step{{rf(hb("2")), nil}, {"xyz", ErrJunk}, {"", io.EOF}},
		},
		{
			name:  "frame cut short",
			input: hb("2")[:30],
			want:  []step{{"", io.ErrUnexpectedEOF}},
		},
		{
			// quickfixgo searches on from where BodyLength ends and ignores
			// what it found (FIX session test 2m).
			name:  "BodyLength too short",
			input: cat(wrongLen(hb("2"), "30"), hb("3")),
			want:  []step{{rf(wrongLen(hb("2"), "30")), ErrBodyLengthMismatch}, {rf(hb("3")), nil}, {"", io.EOF}},
		},
		{
			// Too long: the frame swallows the next one, as in quickfixgo.
			name:  "BodyLength too long",
			input: cat(wrongLen(hb("2"), "60"), hb("3"), hb("4")),
			want:  []step{{rf(cat(wrongLen(hb("2"), "60"), hb("3"))), ErrBodyLengthMismatch}, {rf(hb("4")), nil}, {"", io.EOF}},
		},
		{
			name:  "bad checksum then good",
			input: cat(badChecksum(hb("2")), hb("2")),
			want:  []step{{rf(badChecksum(hb("2"))), ErrBadChecksum}, {rf(hb("2")), nil}, {"", io.EOF}},
		},
		{
			name:  "cut is final",
			input: cat(frameOf("35=0|34=|49=A|52=20260101-12:00:00|56=VENUE|"), hb("3")),
			want:  []step{{"", ErrEmptyValue}},
		},
		{
			name:  "huge BodyLength cuts before reading the body",
			input: cat(rawFrame("8=FIX.4.4|9=9223372036854775800|35=0|"), bytes.Repeat([]byte("x"), 100_000)),
			want:  []step{{"", ErrBodyLength}},
		},
		{
			name:  "no frame end within the limit",
			input: cat(rawFrame("8=FIX.4.4|9=10|35=0|"), bytes.Repeat([]byte("x"), 5000)),
			opts:  Options{MaxBodyLength: 100},
			want:  []step{{"", ErrFrameTooLarge}},
		},
		{
			name:  "endless junk",
			input: bytes.Repeat([]byte("x"), 10_000),
			opts:  Options{MaxBodyLength: 100},
			want:  []step{{"", ErrFrameTooLarge}},
		},
		{
			name:  "BeginString FIX.4.2",
			input: withChecksum(sohs("8=FIX.4.2|9=5|35=0|")),
			want:  []step{{"8=FIX.4.2|9=5|35=0|10=161|", ErrBeginString}, {"", io.EOF}},
		},
		{
			name:  "BeginString without SOH",
			input: rawFrame("8=FIX.4.4.4.4.4.4.4.4.4.4|9=5|35=0|10=180|"),
			want:  []step{{"", ErrBeginString}},
		},
		{
			name:  "forwarded anomaly keeps going",
			input: cat(frameOf(hdr+"0=HI|"), hb("3")),
			want:  []step{{rf(frameOf(hdr + "0=HI|")), ErrTagNotPositive}, {rf(hb("3")), nil}, {"", io.EOF}},
		},
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data err": iotest.DataErrReader,
	}
	for _, tt := range tests {
		for rname, wrap := range readers {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				got := scanAll(t, wrap(bytes.NewReader(tt.input)), tt.opts)
				if len(got) != len(tt.want) {
					t.Fatalf("got %d steps %v, want %d %v", len(got), got, len(tt.want), tt.want)
				}
				for i := range got {
					if !errors.Is(got[i].err, tt.want[i].err) {
						t.Fatalf("step %d: err %v, want %v", i, got[i].err, tt.want[i].err)
					}
					if tt.want[i].frame != "" && got[i].frame != tt.want[i].frame {
						t.Fatalf("step %d: frame %q, want %q", i, got[i].frame, tt.want[i].frame)
					}
				}
			})
		}
	}
}

// TestScannerMemoryBound feeds a frame at the size limit and checks the
// buffer never grows past one frame plus one read.
func TestScannerMemoryBound(t *testing.T) {
	opts := Options{MaxBodyLength: 10_000}
	big := frameOf(hdr + "58=" + strings.Repeat("x", 10_000-len(sohs(hdr))-4) + "|")
	input := bytes.Repeat(big, 5)
	s := NewScanner(iotest.HalfReader(bytes.NewReader(input)), opts)
	for i := 0; i < 5; i++ {
		if _, err := s.Next(); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if limit := opts.withDefaults().maxFrame() + minReadSize; cap(s.buf) > limit {
			t.Fatalf("buffer %d bytes, limit %d", cap(s.buf), limit)
		}
	}
	if _, err := s.Next(); err != io.EOF {
		t.Fatalf("end: %v, want io.EOF", err)
	}
}

// TestScannerReadErrorIsKept returns a network error after the last frame.
func TestScannerReadErrorIsKept(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(bytes.NewReader(frameOf(hdr)), iotest.ErrReader(boom))
	s := NewScanner(r, Options{})
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := s.Next(); err != boom {
			t.Fatalf("call %d: %v, want %v", i, err, boom)
		}
	}
}

// BenchmarkScanner validates a stream of NewOrderSingles.
func BenchmarkScanner(b *testing.B) {
	order := frameOf("35=D|34=1234|49=FIRM_A|52=20260101-12:00:00.000|56=VENUE|1=ACC1|11=ORDER-0001|38=0.5|40=2|44=60000.00|54=1|55=BTC-USD|59=1|60=20260101-12:00:00.000|")
	stream := bytes.Repeat(order, 1000)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		s := NewScanner(bytes.NewReader(stream), Options{})
		for {
			if _, err := s.Next(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
