package guard

import (
	"bytes"
	"io"
	"time"
)

const (
	soh = 0x01

	// DefaultMaxBodyLength bounds BodyLength (9) when Options leave it zero.
	DefaultMaxBodyLength = 64 << 10
	// maxBodyLengthDigits is how many digits BodyLength may have, so its
	// largest value is 9,999,999.
	maxBodyLengthDigits = 7
	maxBodyLengthLimit  = 9_999_999
	// maxBeginStringValue bounds the BeginString value the scanner reads
	// while looking for its SOH.
	maxBeginStringValue = 16
	// trailerSlack is what a frame may carry after its body: "10=", a
	// CheckSum value that may be garbled, and SOH.
	trailerSlack = 3 + 16 + 1
	// minReadSize is the first buffer of a scanner and the smallest read.
	minReadSize = 4 << 10
)

// beginString is the only BeginString the venue speaks, with its SOH.
var beginString = []byte("8=FIX.4.4\x01")

// Options bound what one connection may send. The zero value is usable.
type Options struct {
	// MaxBodyLength is the largest BodyLength (9) accepted, in bytes;
	// 0 means DefaultMaxBodyLength (64 KiB). Values above 9,999,999 (seven
	// digits) are lowered to it.
	MaxBodyLength int
	// MaxBadFrames is how many dropped or forwarded-with-an-anomaly frames
	// one connection may send before it is cut; 0 means 100.
	MaxBadFrames int
	// Strict cuts the connection at the first frame that breaks any rule,
	// including garbled frames FIX would have ignored.
	Strict bool
	// LogonTimeout is how long a new connection may take to send its first
	// whole frame before it is cut (ErrLogonTimeout); 0 means 30 seconds.
	// quickfixgo itself waits for ever, holding a goroutine and a socket.
	LogonTimeout time.Duration
	// ClientWriteTimeout bounds each write to the client (Conn.Write); a
	// client that takes nothing that long is cut. 0 means
	// DefaultClientWriteTimeout, negative means no bound.
	ClientWriteTimeout time.Duration
}

func (o Options) withDefaults() Options {
	if o.MaxBodyLength <= 0 {
		o.MaxBodyLength = DefaultMaxBodyLength
	}
	if o.MaxBodyLength > maxBodyLengthLimit {
		o.MaxBodyLength = maxBodyLengthLimit
	}
	if o.MaxBadFrames <= 0 {
		o.MaxBadFrames = 100
	}
	if o.LogonTimeout <= 0 {
		o.LogonTimeout = 30 * time.Second
	}
	if o.ClientWriteTimeout == 0 {
		o.ClientWriteTimeout = DefaultClientWriteTimeout
	}
	return o
}

// maxFrame is the largest frame the options allow, header and trailer
// included; a frame that does not end within it is cut.
func (o Options) maxFrame() int {
	return len("8=") + maxBeginStringValue + 1 + len("9=") + maxBodyLengthDigits + 1 + o.MaxBodyLength + trailerSlack
}

// Scanner splits a FIX 4.4 byte stream into frames and validates each one
// before quickfixgo could parse it. Memory is bounded by one frame of the
// largest allowed size plus one read.
//
// Framing follows quickfixgo's parser (parser.go) so both always agree on
// where a frame ends: a frame starts at "8=", its body is BodyLength bytes
// after the SOH of BodyLength, and it ends at the SOH after "\x0110=". When
// BodyLength does not land on "\x0110=", quickfixgo searches forward for it
// from there and then ignores the frame as garbled; the scanner does the same
// search and reports ErrBodyLengthMismatch (Drop).
type Scanner struct {
	src  io.Reader
	opts Options
	max  int // maxFrame of opts

	buf      []byte
	r, w     int   // unconsumed bytes are buf[r:w]
	consumed int   // length of the frame returned last, released by Next
	err      error // sticky: an I/O error or a Cut
	readErr  error // error of the last read, reported once buffered bytes run out
}

// NewScanner returns a scanner reading frames from src.
func NewScanner(src io.Reader, opts Options) *Scanner {
	opts = opts.withDefaults()
	return &Scanner{src: src, opts: opts, max: opts.maxFrame()}
}

// Next returns the next frame. With a nil error the frame is valid and may
// go to quickfixgo. With a *FrameError the frame broke a rule and the error's
// Action says what to do; after a Cut, and after an I/O error (io.EOF at a
// frame boundary, io.ErrUnexpectedEOF inside a frame), every call returns
// the same error. The frame aliases the scanner's buffer and is valid until
// the next call.
func (s *Scanner) Next() ([]byte, error) {
	if s.err != nil {
		return nil, s.err
	}
	s.r += s.consumed
	s.consumed = 0
	frame, err := s.next()
	if err != nil {
		if fe, ok := err.(*FrameError); !ok || fe.Action == Cut {
			s.err = err
		}
	}
	return frame, err
}

// need makes at least n unconsumed bytes available, reading as needed. It
// returns io.EOF only when the stream ends cleanly at a frame boundary.
func (s *Scanner) need(n int) error {
	for s.w-s.r < n {
		if s.readErr != nil {
			if s.readErr == io.EOF && s.w == s.r {
				return io.EOF
			}
			if s.readErr == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return s.readErr
		}
		if s.w == len(s.buf) {
			s.makeRoom(n)
			if s.w == len(s.buf) {
				return frameErr(ErrFrameTooLarge, 0, 0)
			}
		}
		m, err := s.src.Read(s.buf[s.w:])
		s.w += m
		if err != nil {
			s.readErr = err
		} else if m == 0 {
			continue
		}
	}
	return nil
}

// makeRoom moves the unconsumed bytes to the front and grows the buffer up
// to what one frame of the largest allowed size needs.
func (s *Scanner) makeRoom(n int) {
	live := s.w - s.r
	size := len(s.buf)
	if size == 0 {
		size = minReadSize
	}
	for size < n+minReadSize && size < s.max+minReadSize {
		size *= 2
	}
	if size > s.max+minReadSize {
		size = s.max + minReadSize
	}
	if size != len(s.buf) {
		buf := make([]byte, size)
		copy(buf, s.buf[s.r:s.w])
		s.buf = buf
	} else {
		copy(s.buf, s.buf[s.r:s.w])
	}
	s.r, s.w = 0, live
}

// peek returns the unconsumed bytes; it is invalidated by need.
func (s *Scanner) peek() []byte { return s.buf[s.r:s.w] }

// take marks the first n unconsumed bytes as the frame being returned.
func (s *Scanner) take(n int) []byte {
	s.consumed = n
	return s.buf[s.r : s.r+n]
}

func (s *Scanner) next() ([]byte, error) {
	// 1. Skip to "8=", as quickfixgo's findStart does; the skipped bytes are
	// reported as junk so they are logged and counted.
	if err := s.need(1); err != nil {
		return nil, err
	}
	if !bytes.HasPrefix(s.peek(), []byte("8=")) {
		n, err := s.junk()
		if n > 0 {
			return s.take(n), frameErr(ErrJunk, 0, 0)
		}
		if err != nil {
			return nil, err
		}
	}

	// 2. BeginString: a value of at most 16 bytes and SOH. Another value than
	// FIX.4.4 is forwarded (quickfixgo answers it with the Logout FIX
	// prescribes) unless the frame breaks a harder rule.
	var soft *FrameError
	at := -1
	for k := 2; k <= 2+maxBeginStringValue; k++ {
		if err := s.need(k + 1); err != nil {
			return nil, err
		}
		if s.peek()[k] == soh {
			at = k + 1
			break
		}
	}
	if at < 0 {
		e := frameErr(ErrBeginString, 8, 0)
		e.Action = Cut
		return nil, e
	}
	if !bytes.Equal(s.peek()[:at], beginString) {
		soft = frameErr(ErrBeginString, 8, 0)
	}

	// 3. BodyLength: "9=", 1-7 digits, SOH.
	if err := s.need(at + 2); err != nil {
		return nil, err
	}
	if !bytes.Equal(s.peek()[at:at+2], []byte("9=")) {
		return nil, frameErr(ErrBodyLength, 9, at)
	}
	bodyLen, digits := 0, 0
	for {
		if err := s.need(at + 2 + digits + 1); err != nil {
			return nil, err
		}
		c := s.peek()[at+2+digits]
		if c == soh {
			break
		}
		if c < '0' || c > '9' || digits == maxBodyLengthDigits {
			return nil, frameErr(ErrBodyLength, 9, at)
		}
		bodyLen = bodyLen*10 + int(c-'0')
		digits++
	}
	if digits == 0 || bodyLen == 0 {
		return nil, frameErr(ErrBodyLength, 9, at)
	}
	if bodyLen > s.opts.MaxBodyLength {
		return nil, frameErr(ErrBodyLengthTooLarge, 9, at)
	}
	bodyStart := at + 2 + digits + 1
	end := bodyStart + bodyLen // where "10=" must start

	// 4. The trailer where BodyLength says it is.
	if err := s.need(end + len("10=") + 1); err != nil {
		return nil, err
	}
	if b := s.peek(); b[end-1] == soh && bytes.Equal(b[end:end+3], []byte("10=")) {
		n, err := s.through(end + 3)
		if err != nil {
			return nil, err
		}
		frame := s.take(n)
		ferr := validate(frame, bodyStart, end)
		if soft != nil && (ferr == nil || ferr.Action == Forward) {
			return frame, soft
		}
		if ferr != nil {
			return frame, ferr
		}
		return frame, nil
	}

	// 5. Elsewhere: search on from the same place quickfixgo does (the SOH
	// that should end the body) and drop what it would have ignored.
	from := end - 1
	for {
		if i := bytes.Index(s.peek()[from:], []byte("\x0110=")); i >= 0 {
			n, err := s.through(from + i + 1)
			if err != nil {
				return nil, err
			}
			return s.take(n), frameErr(ErrBodyLengthMismatch, 9, at)
		}
		if s.w-s.r >= s.max {
			return nil, frameErr(ErrFrameTooLarge, 0, 0)
		}
		from = max(s.w-s.r-3, end-1)
		if err := s.need(s.w - s.r + 1); err != nil {
			return nil, err
		}
	}
}

// through returns the length of the frame that ends at the first SOH at or
// after offset from, reading as needed within the frame limit.
func (s *Scanner) through(from int) (int, error) {
	for {
		if i := bytes.IndexByte(s.peek()[from:], soh); i >= 0 {
			return from + i + 1, nil
		}
		if s.w-s.r >= s.max {
			return 0, frameErr(ErrFrameTooLarge, 0, 0)
		}
		from = s.w - s.r
		if err := s.need(s.w - s.r + 1); err != nil {
			return 0, err
		}
	}
}

// junk returns how many bytes come before the next "8=", reading as
// needed; 0 means the unconsumed bytes start with "8=". If the stream ends
// first, all of them are junk.
func (s *Scanner) junk() (int, error) {
	from := 0
	for {
		if i := bytes.Index(s.peek()[from:], []byte("8=")); i >= 0 {
			return from + i, nil
		}
		if s.w-s.r >= s.max {
			return 0, frameErr(ErrFrameTooLarge, 0, 0)
		}
		from = max(s.w-s.r-1, 0)
		if err := s.need(s.w - s.r + 1); err != nil {
			return s.w - s.r, err
		}
	}
}

// Validate checks that b is exactly one frame that obeys every rule. It
// returns nil or the *FrameError that Scanner.Next would have returned.
func Validate(b []byte, opts Options) error {
	s := NewScanner(bytes.NewReader(b), opts)
	frame, err := s.Next()
	if err != nil {
		return err
	}
	if len(frame) != len(b) {
		return frameErr(ErrBodyLengthMismatch, 9, len(frame))
	}
	return nil
}
