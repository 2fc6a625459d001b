package quickfix

// VENUE PATCH 4: send a message whose body is already rendered.
//
// A market-data update goes to every subscriber of a feed with the same
// body; only the header (TargetCompID, MsgSeqNum, SendingTime) differs.
// Through SendToTarget each copy is parsed into field maps, has its header
// filled field by field and is built and checksummed again: with 200
// subscribers that was a quarter of the venue's CPU. SendRawToTarget takes
// the body bytes as they are, writes the header around them and persists
// and queues the result exactly as queueForSend does (same lock, same
// store, same sequence numbers), so resends and gap fills are unchanged.
// The Application's ToApp is not called for it.

import (
	"strconv"
	"time"
)

// SendRawToTarget queues an application message of type msgType whose body
// (every field after the standard header, each "tag=value\x01", without
// the trailer) is body. bodySum is the sum of body's bytes (any int; only
// its value mod 256 counts), or -1 to have it computed; a caller that
// sends one body to many sessions computes it once.
func SendRawToTarget(sessionID SessionID, msgType string, body []byte, bodySum int) error {
	session, ok := lookupSession(sessionID)
	if !ok {
		return errUnknownSession
	}
	_, _, err := session.queueRawBatchForSend([]RawMessage{{MsgType: msgType, Body: body, BodySum: bodySum}})
	return err
}

func byteSum(b []byte) int {
	n := 0
	for _, c := range b {
		n += int(c)
	}
	return n
}

// buildRaw writes the standard header the way fillDefaultHeader fills it,
// the body, and the trailer.
func (s *session) buildRaw(msgType string, seqNum int, body []byte, bodySum int) []byte {
	var ts [32]byte
	out := make([]byte, 0, len(body)+rawOverhead)
	return s.appendRaw(out, msgType, seqNum, body, bodySum, s.appendSendingTime(ts[:0], time.Now()))
}

// rawOverhead bounds what appendRaw adds to a body, for the dev
// configuration's CompIDs (longer ones only cost a reallocation).
const rawOverhead = 128

// appendSendingTime appends SendingTime (52) for now at the session's
// precision, as fillDefaultHeader writes it.
func (s *session) appendSendingTime(dst []byte, now time.Time) []byte {
	precision := s.timestampPrecision
	if s.sessionID.BeginString < BeginStringFIX42 {
		precision = Seconds
	}
	layout := utcTimestampMillisFormat
	switch precision {
	case Seconds:
		layout = utcTimestampSecondsFormat
	case Micros:
		layout = utcTimestampMicrosFormat
	case Nanos:
		layout = utcTimestampNanosFormat
	}
	return now.UTC().AppendFormat(dst, layout)
}

// appendRaw appends to dst the message of type msgType with MsgSeqNum
// seqNum, SendingTime sendingTime and the rendered body: the standard
// header the way fillDefaultHeader fills it, the body, the trailer.
func (s *session) appendRaw(dst []byte, msgType string, seqNum int, body []byte, bodySum int, sendingTime []byte) []byte {
	var hb [256]byte
	h := hb[:0]
	field := func(tag string, v []byte) {
		h = append(h, tag...)
		h = append(h, '=')
		h = append(h, v...)
		h = append(h, '\x01')
	}
	fieldString := func(tag, v string) {
		if v != "" {
			h = append(h, tag...)
			h = append(h, '=')
			h = append(h, v...)
			h = append(h, '\x01')
		}
	}
	var nb [20]byte
	fieldString("35", msgType)
	field("34", strconv.AppendInt(nb[:0], int64(seqNum), 10))
	fieldString("49", s.sessionID.SenderCompID)
	fieldString("50", s.sessionID.SenderSubID)
	field("52", sendingTime)
	fieldString("56", s.sessionID.TargetCompID)
	fieldString("57", s.sessionID.TargetSubID)
	fieldString("142", s.sessionID.SenderLocationID)
	fieldString("143", s.sessionID.TargetLocationID)
	if s.EnableLastMsgSeqNumProcessed {
		field("369", strconv.AppendInt(nb[:0], int64(s.store.NextTargetMsgSeqNum()-1), 10))
	}

	start := len(dst)
	out := append(dst, "8="...)
	out = append(out, s.sessionID.BeginString...)
	out = append(out, "\x019="...)
	out = strconv.AppendInt(out, int64(len(h)+len(body)), 10)
	out = append(out, '\x01')
	sum := byteSum(out[start:]) + byteSum(h) + bodySum
	out = append(out, h...)
	out = append(out, body...)
	out = append(out, "10="...)
	c := sum % 256
	out = append(out, byte('0'+c/100), byte('0'+c/10%10), byte('0'+c%10), '\x01')
	return out
}

// RawMessage is one message of SendRawBatchToTarget: its type, its
// rendered body and the body's byte sum (-1: computed).
type RawMessage struct {
	MsgType string
	Body    []byte
	BodySum int
}

// SendRawBatchToTarget queues msgs, in order, as SendRawToTarget would
// one after the other. VENUE PATCH 14: a store that is a BatchMessageStore
// saves them at once (the file store: one write per file for the batch
// instead of three per message), and the writer is woken once. It returns
// how many of msgs were queued (those the store saved: a prefix), the
// MsgSeqNum of the last of them, and the error that stopped the rest.
func SendRawBatchToTarget(sessionID SessionID, msgs []RawMessage) (queued, lastSeq int, err error) {
	session, ok := lookupSession(sessionID)
	if !ok {
		return 0, 0, errUnknownSession
	}
	return session.queueRawBatchForSend(msgs)
}

func (s *session) queueRawBatchForSend(msgs []RawMessage) (int, int, error) {
	if len(msgs) == 0 {
		return 0, 0, nil
	}
	s.sendMutex.Lock()
	defer s.sendMutex.Unlock()

	// VENUE PATCH 15: the batch's messages are built into one buffer,
	// each a slice of it whose capacity ends where it does, with one
	// SendingTime: one allocation per batch instead of three per message.
	first := s.store.NextSenderMsgSeqNum()
	size := 0
	for _, m := range msgs {
		size += len(m.Body) + rawOverhead
	}
	var ts [32]byte
	sendingTime := s.appendSendingTime(ts[:0], time.Now())
	buf := make([]byte, 0, size)
	k0 := len(s.toSend) // the batch goes straight onto toSend, cut back to what was saved
	for i, m := range msgs {
		sum := m.BodySum
		if sum < 0 {
			sum = byteSum(m.Body)
		}
		at := len(buf)
		buf = s.appendRaw(buf, m.MsgType, first+i, m.Body, sum, sendingTime)
		s.toSend = append(s.toSend, buf[at:len(buf):len(buf)])
	}
	n, err := s.persistBatch(first, s.toSend[k0:])
	clear(s.toSend[k0+n:])
	s.toSend = s.toSend[:k0+n]
	if n == 0 {
		return 0, 0, err
	}
	s.notifyMessageOut()
	return n, first + n - 1, err
}

// persistBatch saves msgs and returns how many it saved (a prefix).
func (s *session) persistBatch(first int, msgs [][]byte) (int, error) {
	if s.DisableMessagePersist {
		if err := s.store.SetNextSenderMsgSeqNum(first + len(msgs)); err != nil {
			return 0, err
		}
		return len(msgs), nil
	}
	return SaveBatch(s.store, first, msgs)
}

// ErrUnknownSession is what sending to a session that is not (or no
// longer) registered returns: a sender can tell a stopped acceptor from a
// store that failed (VENUE PATCH 14).
var ErrUnknownSession = errUnknownSession
