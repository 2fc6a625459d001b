package fix

import "github.com/quickfixgo/quickfix"

// outMsg is one message for a session: a rendered body (an
// ExecutionReport, a TradeCaptureReport), which quickfixgo sends with only
// the header written around it and which the drop copy shares between the
// sessions of a firm, or any other message as a quickfix.Message.
type outMsg struct {
	typ  string // MsgType (35) of body
	body []byte // the fields after the header
	sum  int    // body's byte sum
	msg  *quickfix.Message
}

// rawReport is the outMsg of a rendered ExecutionReport.
func rawReport(r orderReport) outMsg { return outMsg{typ: "8", body: r.body, sum: r.sum} }

// maxSendBatch bounds the messages a session's sender hands quickfixgo at
// once.
const maxSendBatch = 256

// A sendFunc queues a session's messages with quickfixgo, in order, and
// returns how many it queued (a prefix), the MsgSeqNum of the last body
// queued and the error that stopped the rest: a batcher's send, or a
// test's stand-in for a session or store that refuses.
type sendFunc func(qid quickfix.SessionID, ms []outMsg) (n, lastSeq int, err error)

// A batcher queues a session's messages with quickfixgo: each run of
// rendered bodies in one call (quickfix.SendRawBatchToTarget: one store
// write for the run, one wake-up of the connection's writer), any other
// message on its own. One goroutine uses a batcher.
type batcher struct{ raw []quickfix.RawMessage }

// send queues ms, in order. It returns how many of ms were queued (a
// prefix: the store may save part of a run of bodies), the MsgSeqNum of
// the last body queued (0: none) and the error that stopped the rest.
func (b *batcher) send(qid quickfix.SessionID, ms []outMsg) (n, lastSeq int, err error) {
	for n < len(ms) {
		if ms[n].body == nil {
			if err := quickfix.SendToTarget(ms[n].msg, qid); err != nil { // ToApp sees its MsgSeqNum
				return n, lastSeq, err
			}
			n++
			continue
		}
		b.raw = b.raw[:0]
		j := n
		for ; j < len(ms) && ms[j].body != nil; j++ {
			b.raw = append(b.raw, quickfix.RawMessage{MsgType: ms[j].typ, Body: ms[j].body, BodySum: ms[j].sum})
		}
		k, seq, err := quickfix.SendRawBatchToTarget(qid, b.raw)
		clear(b.raw) // the bodies are the store's and the writer's now
		if k > 0 {
			n, lastSeq = n+k, seq
		}
		if err != nil {
			return n, lastSeq, err
		}
	}
	return n, lastSeq, nil
}

// runSender is a session sender's loop: it takes what q holds when it
// wakes, at most maxSendBatch messages, and hands that batch to handle
// with send (or, when send is nil, a batcher of its own), until q is
// closed and empty.
func runSender(q *queue[outMsg], send sendFunc, handle func(send sendFunc, batch []outMsg)) {
	if send == nil {
		var b batcher
		send = b.send
	}
	batch := make([]outMsg, 0, maxSendBatch)
	for {
		var ok bool
		if batch, ok = q.take(batch[:0], maxSendBatch); !ok {
			return
		}
		handle(send, batch)
		clear(batch) // hold no report once it is handed over
	}
}
