package loadtest

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// The load client speaks just enough FIX 4.4 to measure the venue: its own
// framing and parsing, no engine, no data dictionary, no allocation per
// message on the hot path. It is not a general FIX engine.

const (
	soh = '\x01'
	// beginString is the only BeginString (8) the venue speaks.
	beginString = "FIX.4.4"
	// maxBodyLen bounds BodyLength (9) of an inbound frame: a frame that
	// claims more is garbled, never buffered.
	maxBodyLen = 64 << 10
	// maxFields bounds the fields of one inbound frame.
	maxFields = 256
)

var (
	// errGarbled is a frame that cannot be FIX: the stream cannot be
	// trusted after it, so the session ends.
	errGarbled = errors.New("garbled frame")
	// errChecksum is a well-framed message whose CheckSum (10) is wrong.
	errChecksum = errors.New("bad checksum")
)

// field is one tag=value pair of a parsed frame; the value aliases the
// frame's bytes.
type field struct {
	tag int
	val []byte
}

// message is a parsed inbound frame. Its fields alias the read buffer and
// are valid only until the next parse into the same message.
type message struct {
	fields []field // body fields in order: from 35 (MsgType) up to, not including, 10
}

// get returns the first value of tag, or nil.
func (m *message) get(tag int) []byte {
	for i := range m.fields {
		if m.fields[i].tag == tag {
			return m.fields[i].val
		}
	}
	return nil
}

// msgType is the value of 35, or nil.
func (m *message) msgType() []byte {
	if len(m.fields) > 0 && m.fields[0].tag == 35 {
		return m.fields[0].val
	}
	return m.get(35)
}

// parseFrame parses the first frame in b into m. It returns the frame's
// length in bytes, or 0 and no error when b holds only part of a frame.
// A frame is "8=FIX.4.4<SOH>9=<len><SOH>" then exactly len bytes of body
// fields, then "10=<3 digits><SOH>", the checksum being the sum of every
// byte before "10=" modulo 256. The body must start with 35.
func parseFrame(b []byte, m *message) (int, error) {
	m.fields = m.fields[:0]
	const prefix = "8=" + beginString + "\x019="
	if len(b) < len(prefix) {
		if !bytes.HasPrefix([]byte(prefix), b) {
			return 0, errGarbled
		}
		return 0, nil
	}
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return 0, errGarbled
	}
	// BodyLength: 1 to 5 digits then SOH.
	i := len(prefix)
	bodyLen := 0
	digits := 0
	for ; i < len(b) && b[i] != soh; i++ {
		c := b[i]
		if c < '0' || c > '9' || digits == 6 {
			return 0, errGarbled
		}
		bodyLen = bodyLen*10 + int(c-'0')
		digits++
	}
	if i == len(b) {
		return 0, nil
	}
	if digits == 0 || bodyLen > maxBodyLen || (digits > 1 && b[len(prefix)] == '0') {
		return 0, errGarbled
	}
	bodyStart := i + 1
	bodyEnd := bodyStart + bodyLen
	frameEnd := bodyEnd + len("10=000\x01")
	if len(b) < frameEnd {
		return 0, nil
	}
	trailer := b[bodyEnd:frameEnd]
	if trailer[0] != '1' || trailer[1] != '0' || trailer[2] != '=' || trailer[6] != soh {
		return 0, errGarbled
	}
	want := 0
	for _, c := range trailer[3:6] {
		if c < '0' || c > '9' {
			return 0, errGarbled
		}
		want = want*10 + int(c-'0')
	}
	if bodyLen == 0 || b[bodyEnd-1] != soh {
		return 0, errGarbled
	}
	sum := 0
	for _, c := range b[:bodyEnd] {
		sum += int(c)
	}
	// Split the body into fields.
	body := b[bodyStart:bodyEnd]
	for len(body) > 0 {
		if len(m.fields) == maxFields {
			return 0, errGarbled
		}
		eq := bytes.IndexByte(body, '=')
		if eq <= 0 || eq > 9 {
			return 0, errGarbled
		}
		tag := 0
		for _, c := range body[:eq] {
			if c < '0' || c > '9' {
				return 0, errGarbled
			}
			tag = tag*10 + int(c-'0')
		}
		if tag == 0 || body[0] == '0' {
			return 0, errGarbled
		}
		end := bytes.IndexByte(body[eq+1:], soh)
		if end < 0 {
			return 0, errGarbled // cannot happen: the body ends with SOH
		}
		m.fields = append(m.fields, field{tag: tag, val: body[eq+1 : eq+1+end]})
		body = body[eq+1+end+1:]
	}
	if m.fields[0].tag != 35 || len(m.fields[0].val) == 0 {
		return 0, errGarbled
	}
	if sum%256 != want {
		return frameEnd, errChecksum
	}
	return frameEnd, nil
}

// encoder builds outbound frames of one session: header (8, 9, 35, 49, 56,
// 34, 52), the body fields the caller appends, then the trailer (10).
type encoder struct {
	sender, target string
	seq            int // MsgSeqNum (34) of the next message
	body           []byte
	frame          []byte
}

// begin starts a message of msgType stamped with now; the caller appends
// body fields with the field helpers, then calls finish.
func (e *encoder) begin(msgType string, now time.Time) {
	e.body = e.body[:0]
	e.body = appendStr(e.body, 35, msgType)
	e.body = appendStr(e.body, 49, e.sender)
	e.body = appendStr(e.body, 56, e.target)
	e.body = appendInt(e.body, 34, int64(e.seq))
	e.body = appendTime(e.body, 52, now)
	e.seq++
}

// finish frames the body and returns the whole message; it is valid until
// the next begin.
func (e *encoder) finish() []byte {
	e.frame = frameBody(e.frame[:0], e.body)
	return e.frame
}

// frameBody appends to dst the frame around body (fields from 35 on, each
// ending in SOH): BeginString, BodyLength, body, CheckSum.
func frameBody(dst, body []byte) []byte {
	start := len(dst)
	dst = append(dst, "8="+beginString+"\x019="...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, soh)
	dst = append(dst, body...)
	sum := 0
	for _, c := range dst[start:] {
		sum += int(c)
	}
	sum %= 256
	return append(dst, '1', '0', '=', byte('0'+sum/100), byte('0'+sum/10%10), byte('0'+sum%10), soh)
}

func appendTag(dst []byte, tag int) []byte {
	dst = strconv.AppendInt(dst, int64(tag), 10)
	return append(dst, '=')
}

func appendStr(dst []byte, tag int, v string) []byte {
	dst = appendTag(dst, tag)
	dst = append(dst, v...)
	return append(dst, soh)
}

func appendBytes(dst []byte, tag int, v []byte) []byte {
	dst = appendTag(dst, tag)
	dst = append(dst, v...)
	return append(dst, soh)
}

func appendInt(dst []byte, tag int, v int64) []byte {
	dst = appendTag(dst, tag)
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, soh)
}

// appendTime appends a UTCTimestamp with milliseconds: YYYYMMDD-HH:MM:SS.sss.
func appendTime(dst []byte, tag int, t time.Time) []byte {
	t = t.UTC()
	dst = appendTag(dst, tag)
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	ms := t.Nanosecond() / 1e6
	dst = append(dst,
		byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10),
		byte('0'+int(mo)/10), byte('0'+int(mo)%10),
		byte('0'+d/10), byte('0'+d%10), '-',
		byte('0'+h/10), byte('0'+h%10), ':',
		byte('0'+mi/10), byte('0'+mi%10), ':',
		byte('0'+s/10), byte('0'+s%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), soh)
	return dst
}

// atoi parses a non-negative decimal integer field value.
func atoi(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// formatFields renders a message for error texts and debugging, SOH as |.
func formatFields(m *message) string {
	var b []byte
	for _, f := range m.fields {
		b = fmt.Appendf(b, "%d=%s|", f.tag, f.val)
	}
	return string(b)
}
