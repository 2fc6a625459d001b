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

// sendTo queues m for the session; for a body it returns the MsgSeqNum
// quickfixgo gave it (for a message, the Application's ToApp sees it).
func (m outMsg) sendTo(qid quickfix.SessionID) (int, error) {
	if m.body != nil {
		return quickfix.SendRawToTargetSeq(qid, m.typ, m.body, m.sum)
	}
	return 0, quickfix.SendToTarget(m.msg, qid)
}

// rawReport is the outMsg of a rendered ExecutionReport.
func rawReport(r orderReport) outMsg { return outMsg{typ: "8", body: r.body, sum: r.sum} }
