package quickfix

// VENUE PATCH 11: coalesced writes.
//
// Upstream hands the writer goroutine one message at a time over an
// unbuffered channel, and the writer makes one write system call per
// message. A drop-copy session taking every report of a busy firm, or a
// market-data session, then costs a system call (and a wake-up of the
// reader at the other end) per message: under load, writes were the
// largest single cost of the venue's fan-out. sendQueued instead
// hands the writer everything queued (up to maxWriteBatch bytes) as one
// buffer, so the writer writes it in one call. The bytes on the wire, their
// order, the store and the sequence numbers are unchanged, and the Log
// still sees each message (OnOutgoing) once it is handed over. With one
// message queued nothing is copied: at low rates each message still goes
// out alone, at once.

// maxWriteBatch bounds the bytes handed to the writer at once.
const maxWriteBatch = 64 << 10

// sendQueued hands the queued messages to the writer, several at a time,
// waiting until it takes them (patches 1 and 11); it replaces upstream's
// sendQueued(blockUntilSent), whose session.go lines are gone.
func (s *session) sendQueued() {
	i := 0
	for i < len(s.toSend) {
		n, size := 1, len(s.toSend[i])
		for i+n < len(s.toSend) && size+len(s.toSend[i+n]) <= maxWriteBatch {
			size += len(s.toSend[i+n])
			n++
		}
		msgs := s.toSend[i : i+n]
		batch := msgs[0]
		if n > 1 {
			batch = make([]byte, 0, size)
			for _, m := range msgs {
				batch = append(batch, m...)
			}
		}
		if !s.sendBatch(batch, msgs) {
			s.toSend = s.toSend[i:]
			s.notifyMessageOut()
			return
		}
		i += n
	}
	s.dropQueued()
}

// sendBatch hands the writer the bytes of msgs, waiting until it takes
// them (patch 1: upstream's non-blocking send spun the session loop). It
// replaces upstream's sendBytes, which sent one message.
func (s *session) sendBatch(batch []byte, msgs [][]byte) bool {
	if s.messageOut == nil {
		s.log.OnEventf("Failed to send: disconnected")
		return false
	}
	s.messageOut <- batch
	for _, m := range msgs {
		s.log.OnOutgoing(m)
	}
	s.stateTimer.Reset(s.HeartBtInt)
	return true
}
