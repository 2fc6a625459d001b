package loadtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// A session is one FIX order-entry connection of the load client and the
// simulated trader behind it. Two goroutines share it: the sender (orders
// and cancels, as the window or the rate allows) and the reader
// (ExecutionReports and session messages). mu guards the trader's state
// and the counters; wmu guards the encoder and the connection's writer.
// Lock order: never take mu while holding wmu.
type session struct {
	run    *runner
	compID string
	role   string
	base   time.Time // the run's monotonic zero

	conn    net.Conn
	pending []byte // bytes read after the venue's Logon, for the reader

	wmu      sync.Mutex
	w        *bufio.Writer
	enc      encoder
	lastSend time.Time
	// seqIDs maps the MsgSeqNum of recent requests to their ids, for the
	// RefSeqNum (45) of a session-level reject.
	seqIDs [1 << 16]atomic.Uint64

	mu          sync.Mutex
	model       *Model
	orders      map[uint64]*order
	resting     []uint64 // ids of resting orders, oldest first; done ones are skipped lazily
	restingN    int      // orders acked and resting, cancel pending or not
	pendingGTC  int      // GTC orders sent, not yet answered
	cancelsN    int      // cancels sent, not yet answered
	outstanding int      // requests sent, not yet answered
	nextID      uint64
	st          counters
	hist        *hdrhistogram.Histogram // whole run
	ivHist      *hdrhistogram.Histogram // since the last progress line
	lateHist    *hdrhistogram.Histogram // rate mode: scheduled time to write, merged when the sender ends
	lastAnswer  time.Duration           // since base
	inSeq       int                     // next expected inbound MsgSeqNum
	loggingOut  bool

	slots   chan struct{} // window mode: one token per outstanding request
	logout  chan struct{} // closed when the venue's Logout arrives
	readErr chan error    // the reader's end
}

type orderKind uint8

const (
	kindNew orderKind = iota
	kindCancel
)

type orderState uint8

const (
	statePending       orderState = iota // sent, no report yet
	stateLive                            // acked and resting
	stateCancelPending                   // a cancel for it is out
)

// order is a request the session sent and still tracks: a new order until
// it is terminal, a cancel until it is answered.
type order struct {
	sentNs   int64 // since base; rate mode: the scheduled time
	kind     orderKind
	state    orderState
	side     Side
	answered bool
	resting  bool   // GTC
	taker    bool   // sent to cross
	orig     uint64 // kindCancel: the order it cancels
}

func newSession(r *runner, compID, role string, takePerMille int, seed uint64) *session {
	return &session{
		run:      r,
		compID:   compID,
		role:     role,
		base:     r.base,
		model:    NewModel(r.cfg.Symbol, seed, takePerMille),
		orders:   make(map[uint64]*order, 4096),
		st:       newCounters(),
		hist:     newHist(),
		lateHist: newHist(),
		ivHist:   newHist(),
		inSeq:    1,
		logout:   make(chan struct{}),
		readErr:  make(chan error, 1),
	}
}

func (s *session) now() time.Duration { return time.Since(s.base) }

// clOrdID appends the ClOrdID (11) of request id: the run's prefix, then
// the id in base 36. Prefixes differ between runs, so a second run against
// the same venue on the same day never repeats an id.
func (s *session) appendClOrdID(dst []byte, id uint64) []byte {
	dst = append(dst, s.run.idPrefix...)
	return strconv.AppendUint(dst, id, 36)
}

// parseClOrdID returns the id of a ClOrdID this run sent.
func (s *session) parseClOrdID(v []byte) (uint64, bool) {
	p := s.run.idPrefix
	if len(v) <= len(p) || string(v[:len(p)]) != p {
		return 0, false
	}
	n, err := strconv.ParseUint(string(v[len(p):]), 36, 64)
	return n, err == nil
}

// --- connection and session layer ---

// logon connects, sends Logon (141=Y resets both sides to 1) and waits for
// the venue's Logon.
func (s *session) logon() error {
	cfg := &s.run.cfg
	conn, err := net.DialTimeout("tcp", cfg.Addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("%s: dial %s: %w", s.compID, cfg.Addr, err)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	s.conn = conn
	s.w = bufio.NewWriterSize(conn, 64<<10)
	s.enc = encoder{sender: s.compID, target: cfg.TargetCompID, seq: 1}

	s.wmu.Lock()
	s.enc.begin("A", time.Now())
	b := s.enc.body
	b = appendInt(b, 98, 0)
	b = appendInt(b, 108, int64(cfg.HeartBtInt))
	b = appendStr(b, 141, "Y")
	b = appendStr(b, 553, s.compID)
	b = appendStr(b, 554, cfg.password(s.compID))
	s.enc.body = b
	_, err = s.w.Write(s.enc.finish())
	if err == nil {
		err = s.w.Flush()
	}
	s.lastSend = time.Now()
	s.wmu.Unlock()
	if err != nil {
		conn.Close()
		return fmt.Errorf("%s: send logon: %w", s.compID, err)
	}

	// Read until the venue's Logon, or its Logout with a reason.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer func() { _ = conn.SetReadDeadline(time.Time{}) }()
	buf := make([]byte, 0, 4096)
	var m message
	for {
		n, err := conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		for {
			fn, perr := parseFrame(buf, &m)
			if perr != nil && !errors.Is(perr, errChecksum) {
				conn.Close()
				return fmt.Errorf("%s: logon: %w: %q", s.compID, perr, buf)
			}
			if fn == 0 {
				break
			}
			mt := string(m.msgType())
			if seq, ok := atoi(m.get(34)); ok {
				s.inSeq = seq + 1
			}
			switch mt {
			case "A":
				// What follows the Logon in this read (cancel-on-disconnect
				// reports of an earlier run) goes to the reader.
				s.pending = append(s.pending[:0], buf[fn:]...)
				return nil
			case "5":
				conn.Close()
				return fmt.Errorf("%s: logon refused: %s", s.compID, m.get(58))
			}
			buf = append(buf[:0], buf[fn:]...)
		}
		if err != nil {
			conn.Close()
			return fmt.Errorf("%s: logon: no Logon from the venue: %w", s.compID, err)
		}
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
	}
}

// writeMsg frames the message being built and writes it; flush sends it at
// once. Callers hold wmu.
func (s *session) writeLocked(flush bool) error {
	_, err := s.w.Write(s.enc.finish())
	if err == nil && flush {
		err = s.w.Flush()
	}
	s.lastSend = time.Now()
	return err
}

// sendAdmin sends one session-level message built by fill.
func (s *session) sendAdmin(msgType string, fill func(b []byte) []byte) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.enc.begin(msgType, time.Now())
	if fill != nil {
		s.enc.body = fill(s.enc.body)
	}
	return s.writeLocked(true)
}

func (s *session) flush() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.w.Flush()
}

// heartbeats sends a Heartbeat whenever nothing went out for a heartbeat
// interval, until stop closes.
func (s *session) heartbeats(stop <-chan struct{}) {
	iv := time.Duration(s.run.cfg.HeartBtInt) * time.Second
	t := time.NewTicker(iv / 2)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.wmu.Lock()
			idle := time.Since(s.lastSend) >= iv-iv/4
			s.wmu.Unlock()
			if idle {
				_ = s.sendAdmin("0", nil)
			}
		}
	}
}

// reader parses inbound frames until the connection ends; it reports
// why on readErr (nil after our own Logout).
func (s *session) reader() {
	buf := make([]byte, 0, 256<<10)
	buf = append(buf, s.pending...)
	s.pending = nil
	var m message
	var replies []func()
	for {
		// Parse every whole frame in the buffer under one lock.
		s.mu.Lock()
		off := 0
		var perr error
		for {
			n, err := parseFrame(buf[off:], &m)
			if err != nil && !errors.Is(err, errChecksum) {
				perr = fmt.Errorf("%s: inbound %w at %q", s.compID, err, clip(buf[off:], 80))
				break
			}
			if n == 0 {
				break
			}
			off += n
			if err != nil {
				s.st.checksumErrors++
				continue
			}
			if r := s.handle(&m); r != nil {
				replies = append(replies, r)
			}
		}
		s.mu.Unlock()
		for _, r := range replies {
			r()
		}
		replies = replies[:0]
		if perr != nil {
			s.readErr <- perr
			return
		}
		if off > 0 {
			buf = append(buf[:0], buf[off:]...)
		}
		if len(buf) == cap(buf) {
			if cap(buf) >= 4*maxBodyLen {
				s.readErr <- fmt.Errorf("%s: inbound frame larger than %d bytes", s.compID, cap(buf))
				return
			}
			buf = append(buf, make([]byte, len(buf))...)[:len(buf)]
		}
		n, err := s.conn.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil && n == 0 {
			s.mu.Lock()
			out := s.loggingOut
			s.mu.Unlock()
			if out && (errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)) {
				s.readErr <- nil
			} else {
				s.readErr <- fmt.Errorf("%s: read: %w", s.compID, err)
			}
			return
		}
	}
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// handle applies one inbound message (mu held) and returns a reply to send
// after the lock is released, if the session layer needs one.
func (s *session) handle(m *message) func() {
	if seq, ok := atoi(m.get(34)); ok {
		if seq > s.inSeq {
			s.st.seqGaps++
		}
		s.inSeq = seq + 1
	}
	mt := m.msgType()
	if len(mt) == 1 {
		switch mt[0] {
		case '8':
			s.execReport(m)
			return nil
		case '9':
			s.cancelReject(m)
			return nil
		case '0', 'A':
			return nil
		case '1': // TestRequest: answer with a Heartbeat carrying its TestReqID
			id := string(m.get(112))
			return func() {
				_ = s.sendAdmin("0", func(b []byte) []byte { return appendStr(b, 112, id) })
			}
		case '2': // ResendRequest: the client keeps no store; gap-fill to now
			begin, _ := atoi(m.get(7))
			return func() { s.gapFill(begin) }
		case '3':
			s.st.sessionRejects++
			s.run.warnf("%s: session reject 35=3: %s", s.compID, formatFields(m))
			// The rejected message gets no other answer: free its slot.
			if ref, ok := atoi(m.get(45)); ok {
				if id := s.seqIDs[ref%len(s.seqIDs)].Load(); id != 0 {
					if o := s.orders[id]; o != nil && !o.answered {
						s.abandon(id, o)
					}
				}
			}
			return nil
		case '4':
			if next, ok := atoi(m.get(36)); ok {
				s.inSeq = next
			}
			return nil
		case '5':
			if !s.loggingOut {
				s.run.warnf("%s: venue logged out: %s", s.compID, m.get(58))
			}
			select {
			case <-s.logout:
			default:
				close(s.logout)
			}
			return nil
		case 'j':
			s.st.businessRejects++
			s.run.warnf("%s: business reject 35=j: %s", s.compID, formatFields(m))
			if id, ok := s.parseClOrdID(m.get(379)); ok {
				if o := s.orders[id]; o != nil && !o.answered {
					s.abandon(id, o)
				}
			}
			return nil
		}
	}
	return nil
}

// gapFill answers a ResendRequest with a SequenceReset-GapFill from begin
// to the next sequence number.
func (s *session) gapFill(begin int) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if begin < 1 || begin >= s.enc.seq {
		begin = s.enc.seq
	}
	next := s.enc.seq
	s.enc.seq = begin
	s.enc.begin("4", time.Now())
	s.enc.seq = next
	b := s.enc.body
	b = appendStr(b, 43, "Y")
	b = appendStr(b, 123, "Y")
	b = appendInt(b, 36, int64(next))
	s.enc.body = b
	_ = s.writeLocked(true)
}

// answer marks o answered on its first report: it frees a window slot and,
// for a new order, records the acknowledgment latency.
func (s *session) answer(o *order) {
	if o.answered {
		return
	}
	o.answered = true
	s.outstanding--
	now := s.now()
	s.lastAnswer = now
	if o.kind == kindNew {
		s.st.ordersAcked++
		if o.resting {
			s.pendingGTC--
		}
		lat := int64(now) - o.sentNs
		if lat < histMinNs {
			lat = histMinNs
		}
		_ = s.hist.RecordValue(min(lat, histMaxNs))
		_ = s.ivHist.RecordValue(min(lat, histMaxNs))
	} else {
		s.st.cancelsAnswered++
		s.cancelsN--
	}
	if s.slots != nil {
		select {
		case <-s.slots:
		default:
		}
	}
}

// abandon forgets a request the venue refused at the session level (35=3,
// 35=j): no report will come, so it frees its slot like an answer but is
// neither an ack nor a latency sample. A refused cancel leaves its order
// resting, cancelable again.
func (s *session) abandon(id uint64, o *order) {
	o.answered = true
	s.outstanding--
	if o.kind == kindNew {
		if o.resting {
			s.pendingGTC--
		}
	} else {
		s.cancelsN--
		if orig := s.orders[o.orig]; orig != nil && orig.state == stateCancelPending {
			orig.state = stateLive
			s.resting = append(s.resting, o.orig)
		}
	}
	if s.slots != nil {
		select {
		case <-s.slots:
		default:
		}
	}
	s.finish(id, o)
}

// finish forgets a new order that reached a terminal state, or an
// answered cancel.
func (s *session) finish(id uint64, o *order) {
	if o.kind == kindNew && (o.state == stateLive || o.state == stateCancelPending) {
		s.restingN--
	}
	delete(s.orders, id)
}

func terminal(ordStatus []byte) bool {
	return len(ordStatus) == 1 && strings.IndexByte("248C", ordStatus[0]) >= 0
}

func (s *session) execReport(m *message) {
	id, ok := s.parseClOrdID(m.get(11))
	var o *order
	if ok {
		o = s.orders[id]
	}
	if o == nil {
		// A report for an order already forgotten (none expected) or of an
		// earlier run: cancel-on-disconnect reports arrive at the next Logon.
		s.st.stale++
		return
	}
	s.answer(o)
	execType := m.get(150)
	ordStatus := m.get(39)
	if len(execType) != 1 {
		return
	}
	switch execType[0] {
	case '0':
		if o.kind == kindNew && o.resting && o.state == statePending && !terminal(ordStatus) {
			o.state = stateLive
			s.restingN++
			s.resting = append(s.resting, id)
		}
	case 'F':
		s.st.fills++
		liq := m.get(851)
		if (len(liq) == 1 && liq[0] == '2') || (len(liq) == 0 && o.taker) {
			px, err1 := parseFixed(m.get(31), s.run.cfg.Symbol.PxDecimals)
			qty, err2 := parseFixed(m.get(32), s.run.cfg.Symbol.QtyDecimals)
			if err1 == nil && err2 == nil {
				s.st.trades++
				s.st.volumeSats += qty
				s.st.addNotional(px, qty)
			}
		}
		if o.kind == kindNew && o.resting && o.state == statePending && !terminal(ordStatus) {
			// A partly filled GTC whose ack we did not see first: it rests.
			o.state = stateLive
			s.restingN++
			s.resting = append(s.resting, id)
		}
	case '4':
		s.st.canceled++
	case '8':
		reason := -1
		if r, ok := atoi(m.get(103)); ok {
			reason = r
		}
		s.st.rejects[reason]++
		if _, seen := s.st.rejectText[reason]; !seen {
			s.st.rejectText[reason] = string(m.get(58))
		}
	case 'C':
		s.st.expired++
	}
	if o.kind == kindCancel {
		// 150=4 for our cancel: the order it names is done.
		if orig := s.orders[o.orig]; orig != nil && (terminal(ordStatus) || len(ordStatus) == 0) {
			s.finish(o.orig, orig)
		}
		s.finish(id, o)
		return
	}
	if terminal(ordStatus) || execType[0] == '8' {
		s.finish(id, o)
	}
}

func (s *session) cancelReject(m *message) {
	id, ok := s.parseClOrdID(m.get(11))
	var c *order
	if ok {
		c = s.orders[id]
	}
	if c == nil || c.kind != kindCancel {
		s.st.stale++
		return
	}
	s.answer(c)
	reason := -1
	if r, ok := atoi(m.get(102)); ok {
		reason = r
	}
	s.st.cancelRejects[reason]++
	if orig := s.orders[c.orig]; orig != nil {
		// Too late (0) or unknown (1): the order is done (a fill won the
		// race); otherwise it still rests and may be canceled again.
		if terminal(m.get(39)) || reason == 0 || reason == 1 {
			s.finish(c.orig, orig)
		} else if orig.state == stateCancelPending {
			orig.state = stateLive
			s.resting = append(s.resting, c.orig)
		}
	}
	s.finish(id, c)
}

// --- order flow ---

// request is what the sender writes next, decided under mu.
type request struct {
	id   uint64
	kind orderKind
	ord  Order  // kindNew
	orig uint64 // kindCancel
	side Side   // kindCancel: the side of the order it cancels
}

// nextRequest decides the next request and registers it as outstanding
// (mu held). Makers and takers with resting orders cancel first when they
// are at their bound, and now and then at random, as quotes churn.
func (s *session) nextRequest(sentNs int64) request {
	cap := s.run.cfg.MaxResting
	open := s.restingN + s.pendingGTC - s.cancelsN
	if s.restingN > s.cancelsN && (open >= cap || s.model.Intn(10) == 0) {
		if orig, ok := s.pickResting(open >= cap); ok {
			o := s.orders[orig]
			o.state = stateCancelPending
			s.nextID++
			id := s.nextID
			s.orders[id] = &order{sentNs: sentNs, kind: kindCancel, orig: orig, side: o.side}
			s.outstanding++
			s.cancelsN++
			s.st.cancelsSent++
			return request{id: id, kind: kindCancel, orig: orig, side: o.side}
		}
	}
	ord := s.model.Next()
	s.nextID++
	id := s.nextID
	s.orders[id] = &order{sentNs: sentNs, kind: kindNew, side: ord.Side, resting: ord.IsResting, taker: ord.IsTaker}
	s.outstanding++
	if ord.IsResting {
		s.pendingGTC++
	}
	s.st.ordersSent++
	return request{id: id, kind: kindNew, ord: ord}
}

// pickResting returns a live resting order to cancel: the oldest, or a
// random one.
func (s *session) pickResting(oldest bool) (uint64, bool) {
	if !oldest && len(s.resting) > 0 {
		i := s.model.Intn(len(s.resting))
		id := s.resting[i]
		if o := s.orders[id]; o != nil && o.state == stateLive {
			s.resting[i] = s.resting[0]
			s.resting = s.resting[1:]
			return id, true
		}
	}
	for len(s.resting) > 0 {
		id := s.resting[0]
		s.resting = s.resting[1:]
		if o := s.orders[id]; o != nil && o.state == stateLive {
			return id, true
		}
	}
	// Compact now and then so the queue does not keep a done order's slot.
	if cap(s.resting) > 4096 && len(s.resting) < cap(s.resting)/4 {
		s.resting = append([]uint64(nil), s.resting...)
	}
	return 0, false
}

// encodeLocked builds req into the writer (wmu held).
func (s *session) encodeLocked(req request, now time.Time) error {
	sym := &s.run.cfg.Symbol
	var msgType string
	if req.kind == kindNew {
		msgType = "D"
	} else {
		msgType = "F"
	}
	s.seqIDs[s.enc.seq%len(s.seqIDs)].Store(req.id)
	s.enc.begin(msgType, now)
	b := s.enc.body
	if req.kind == kindCancel {
		b = appendTag(b, 41)
		b = s.appendClOrdID(b, req.orig)
		b = append(b, soh)
	}
	b = appendTag(b, 11)
	b = s.appendClOrdID(b, req.id)
	b = append(b, soh)
	b = appendStr(b, 55, sym.Name)
	if req.kind == kindCancel {
		b = append(b, "54="...)
		b = append(b, byte(req.side), soh)
		b = appendTime(b, 60, now)
	} else {
		o := req.ord
		b = append(b, "54="...)
		b = append(b, byte(o.Side), soh)
		b = appendTime(b, 60, now)
		b = appendTag(b, 38)
		b = appendFixed(b, o.QtySats, sym.QtyDecimals)
		b = append(b, soh, '4', '0', '=', '2', soh)
		b = appendTag(b, 44)
		b = appendFixed(b, o.PxTicks, sym.PxDecimals)
		b = append(b, soh, '5', '9', '=', byte(o.TIF), soh)
	}
	s.enc.body = b
	return s.writeLocked(false)
}

// send decides, registers and writes one request stamped sentNs and
// returns its kind.
func (s *session) send(sentNs int64) (orderKind, error) {
	s.mu.Lock()
	if s.outstanding >= maxOutstanding {
		s.mu.Unlock()
		return 0, fmt.Errorf("%s: %d requests unanswered: the venue is not keeping up", s.compID, maxOutstanding)
	}
	req := s.nextRequest(sentNs)
	s.mu.Unlock()
	s.wmu.Lock()
	err := s.encodeLocked(req, time.Now())
	s.wmu.Unlock()
	return req.kind, err
}

// counters returns a copy of the counters and the interval histogram,
// resetting the latter.
func (s *session) snapshot(into *counters, iv *hdrhistogram.Histogram) {
	s.mu.Lock()
	into.add(&s.st)
	iv.Merge(s.ivHist)
	s.ivHist.Reset()
	s.mu.Unlock()
}
