package guard

import (
	"errors"
	"fmt"
)

// Action is what a connection does with a frame that broke a rule.
type Action uint8

const (
	// Forward passes the frame to quickfixgo unchanged: it is well framed and
	// safe, and quickfixgo answers the anomaly itself with a session-level
	// Reject (35=3), as the FIX session test 14a expects.
	Forward Action = iota + 1
	// Drop discards the frame and keeps the connection: FIX says a garbled
	// frame is ignored without advancing the expected MsgSeqNum, and dropping
	// it before quickfixgo sees it is exactly that.
	Drop
	// Cut closes the connection: the frame would crash or stall quickfixgo, or
	// the stream cannot be framed again within the limits.
	Cut
)

func (a Action) String() string {
	switch a {
	case Forward:
		return "forward"
	case Drop:
		return "drop"
	case Cut:
		return "cut"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// The rules a frame can break. A *FrameError wraps exactly one of them, so
// callers switch with errors.Is.
var (
	// BeginString: a wrong value is forwarded, quickfixgo answers it with a
	// Logout; no SOH within 16 bytes after "8=" is a cut.
	ErrBeginString = errors.New("BeginString is not FIX.4.4")

	// Framing; the stream cannot be trusted past these (Cut).
	ErrBodyLength         = errors.New("BodyLength is not the second field with 1-7 digits and a value above zero")
	ErrBodyLengthTooLarge = errors.New("BodyLength above the limit")
	ErrFrameTooLarge      = errors.New("no frame end within the size limit")
	ErrLogonTimeout       = errors.New("no first frame within the logon timeout")

	// Garbled frames that FIX ignores (Drop).
	ErrJunk               = errors.New("bytes before BeginString")
	ErrBodyLengthMismatch = errors.New("BodyLength does not end the body at CheckSum")
	ErrChecksumFormat     = errors.New("CheckSum is not 3 digits")
	ErrBadChecksum        = errors.New("CheckSum does not match")
	ErrMsgTypeOrder       = errors.New("MsgType is not the third field")
	ErrBadField           = errors.New("field is not <digits>=<value>")

	// Fields quickfixgo would misread or crash on (Cut).
	ErrTagNotCanonical = errors.New("tag has a leading zero or more than 9 digits")
	ErrMisplacedTag    = errors.New("BeginString, BodyLength or CheckSum inside the body")
	ErrEmptyValue      = errors.New("empty value in a field quickfixgo parses")
	ErrBadInt          = errors.New("value is not an unsigned integer of at most 18 digits")
	ErrBadBoolean      = errors.New("value is not Y or N")
	ErrBadTimestamp    = errors.New("value is not a UTCTimestamp")
	ErrBadLength       = errors.New("length field is not 1-7 digits that fit in the frame")
	ErrDataField       = errors.New("length field not followed by its data field of that length")

	// Anomalies quickfixgo rejects on its own (Forward).
	ErrTagNotPositive = errors.New("tag is zero or negative")
)

// actionOf is the default action of each rule.
func actionOf(err error) Action {
	switch err {
	case ErrTagNotPositive, ErrBeginString:
		return Forward
	case ErrJunk, ErrBodyLengthMismatch, ErrChecksumFormat, ErrBadChecksum, ErrMsgTypeOrder, ErrBadField:
		return Drop
	}
	return Cut
}

// FrameError says which rule a frame broke, where, and what to do about it.
type FrameError struct {
	Err    error  // one of the Err* rules above
	Tag    int    // offending tag; 0 when the rule is about no particular tag
	Offset int    // byte offset of the offending field within the frame
	Action Action // what the connection does with the frame
}

func (e *FrameError) Error() string {
	if e.Tag != 0 || e.Err == ErrTagNotPositive {
		return fmt.Sprintf("fix guard: tag %d at offset %d: %v", e.Tag, e.Offset, e.Err)
	}
	return fmt.Sprintf("fix guard: at offset %d: %v", e.Offset, e.Err)
}

func (e *FrameError) Unwrap() error { return e.Err }

func frameErr(rule error, tag, offset int) *FrameError {
	return &FrameError{Err: rule, Tag: tag, Offset: offset, Action: actionOf(rule)}
}
