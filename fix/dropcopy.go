package fix

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quickfixgo/quickfix"
	"go.uber.org/zap"

	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// DropCopyConfig configures DropCopy.
type DropCopyConfig struct {
	CompID           string // the venue's CompID
	LogonMaxFailures int
	LogonWindow      time.Duration
	LogonLockout     time.Duration
	// MaxBacklog is how many messages a logged-on drop-copy session may
	// have queued and not yet written to its socket before the venue cuts
	// it; it catches up from the store when it logs on again.
	MaxBacklog int
	Now        func() time.Time
}

// DropCopy sends every firm's back office an ExecutionReport for every
// execution event of every order of the firm, from any of its sessions and
// from the venue itself (self-trade prevention, cancel-on-disconnect, halt,
// expiry), with the same ExecIDs as order entry. Its sessions are static:
// the store keeps what they were sent across disconnects and restarts, and
// a back office that reconnects gets what it missed by resend.
type DropCopy struct {
	renderer
	cfg  DropCopyConfig
	log  *zap.Logger
	auth *lockout
	acc  *Acceptor

	// set is the sessions, replaced whole (copy on write) when one is
	// added while the venue runs (AddSession); the router and quickfixgo's
	// callbacks read it without a lock.
	set     atomic.Pointer[dcSet]
	addMu   sync.Mutex      // serializes AddSession; guards joining and toJoin
	joining map[string]bool // CompIDs handed to the router
	toJoin  []*dcSession    // sessions the router has not taken yet
	joinNow chan struct{}   // a nudge to the router: toJoin has sessions
	// last is the seq of the last command the router handled, and
	// journalDir where to read the history a new session joins with;
	// both the router's.
	last        uint64
	journalDir  string
	cuts        atomic.Uint64
	storeErrors atomic.Uint64 // attempts to store reports that failed
	// sendBatch queues reports with quickfixgo (nil: a batcher's send);
	// tests put a failing store behind it.
	sendBatch sendFunc
}

// dcSet is the drop-copy sessions at one time.
type dcSet struct {
	sessions map[string]*dcSession // by CompID
	byFirm   map[matching.FirmID][]*dcSession
}

func (d *DropCopy) cur() *dcSet { return d.set.Load() }

// with returns a copy of the set with s added.
func (set *dcSet) with(s *dcSession) *dcSet {
	n := &dcSet{sessions: maps.Clone(set.sessions), byFirm: map[matching.FirmID][]*dcSession{}}
	for f, ss := range set.byFirm {
		n.byFirm[f] = slices.Clone(ss)
	}
	n.sessions[s.info.CompID] = s
	n.byFirm[s.info.Firm] = append(n.byFirm[s.info.Firm], s)
	return n
}

// dcSession is one drop-copy session.
type dcSession struct {
	info refdata.Session
	qid  quickfix.SessionID
	// cursor is the position of the last event already in the session's
	// store: events at or before it are not sent again.
	cursor position

	// queued is the MsgSeqNum of the last application message queued,
	// written of the last message the writer put on the socket.
	queued, written atomic.Int64
	online          atomic.Bool
	cutting         atomic.Bool
	// storeTrouble is set when the store refuses a write and cleared once
	// the queue that built up meanwhile is mostly stored: until then the
	// queue's length says nothing about the reader.
	storeTrouble atomic.Bool
	// out is the session's queue, drained into quickfixgo (and so into its
	// store) by the session's own sender goroutine.
	out *queue[outMsg]
}

// position orders reports: by seq, then event index, then side (0 the
// order's own report, 1 a trade's maker side, 2 its taker side, which is
// also where a TradeCaptureReport of the trade stands).
type position struct {
	seq  uint64
	i    int
	side int
}

func (p position) after(q position) bool {
	if p.seq != q.seq {
		return p.seq > q.seq
	}
	if p.i != q.i {
		return p.i > q.i
	}
	return p.side > q.side
}

var sideRank = map[string]int{"": 0, "M": 1, "T": 2}

// parseExecID reads "<seq>-<i>[M|T]" back into a position.
func parseExecID(id []byte) (position, bool) {
	dash := bytes.IndexByte(id, '-')
	if dash <= 0 {
		return position{}, false
	}
	seq, err := strconv.ParseUint(string(id[:dash]), 10, 64)
	if err != nil {
		return position{}, false
	}
	rest := id[dash+1:]
	tag := ""
	if n := len(rest); n > 0 && (rest[n-1] == 'M' || rest[n-1] == 'T') {
		tag, rest = string(rest[n-1]), rest[:n-1]
	}
	i, err := strconv.Atoi(string(rest))
	if err != nil || i < 0 {
		return position{}, false
	}
	return position{seq, i, sideRank[tag]}, true
}

// NewDropCopy returns the drop-copy application for the directory's
// drop-copy sessions.
func NewDropCopy(cfg DropCopyConfig, dir *refdata.Directory, uni *refdata.Universe, log *zap.Logger) *DropCopy {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxBacklog <= 0 {
		cfg.MaxBacklog = 100_000
	}
	if cfg.LogonMaxFailures <= 0 {
		cfg.LogonMaxFailures = 5
	}
	if cfg.LogonWindow <= 0 {
		cfg.LogonWindow = 5 * time.Minute
	}
	if cfg.LogonLockout <= 0 {
		cfg.LogonLockout = 15 * time.Minute
	}
	if log == nil {
		log = zap.NewNop()
	}
	d := &DropCopy{
		renderer: renderer{dir: dir, uni: uni},
		cfg:      cfg, log: log,
		auth:    newLockout(cfg.LogonMaxFailures, cfg.LogonWindow, cfg.LogonLockout),
		joinNow: make(chan struct{}, 1),
	}
	set := &dcSet{sessions: map[string]*dcSession{}, byFirm: map[matching.FirmID][]*dcSession{}}
	for _, s := range dir.Sessions() {
		if s.Kind != refdata.DropCopy {
			continue
		}
		ds := d.newSession(s)
		set.sessions[s.CompID] = ds
		set.byFirm[s.Firm] = append(set.byFirm[s.Firm], ds)
	}
	d.set.Store(set)
	return d
}

func (d *DropCopy) newSession(s refdata.Session) *dcSession {
	ds := &dcSession{info: s, qid: quickfix.SessionID{BeginString: quickfix.BeginStringFIX44, SenderCompID: d.cfg.CompID, TargetCompID: s.CompID},
		out: newQueue[outMsg](2 * d.cfg.MaxBacklog)}
	go d.sender(ds)
	return ds
}

// AddSession adds a drop-copy session while the venue runs (one added to
// the back office: the reference-data follower calls this). It becomes a
// static session of the acceptor with its own store, and the router, before
// the next command, sends it its firm's history from the journal, then
// follows on: a back office that connects for the first time gets every
// report of its firm, as after a restart. A CompID already known is left
// alone.
func (d *DropCopy) AddSession(s refdata.Session) error {
	d.addMu.Lock()
	defer d.addMu.Unlock()
	if s.Kind != refdata.DropCopy || d.cur().sessions[s.CompID] != nil || d.joining[s.CompID] {
		return nil
	}
	if d.acc == nil {
		return fmt.Errorf("fix: drop copy %s: no acceptor", s.CompID)
	}
	if err := d.acc.AddStaticSession(s.CompID); err != nil {
		return fmt.Errorf("fix: drop copy %s: %w", s.CompID, err)
	}
	st, ok := d.acc.Store(s.CompID)
	if !ok {
		return fmt.Errorf("fix: drop copy %s: no store", s.CompID)
	}
	pos, err := lastPosition(st)
	if err != nil {
		return fmt.Errorf("fix: drop copy %s: read store: %w", s.CompID, err)
	}
	ds := d.newSession(s)
	ds.cursor = pos
	if d.joining == nil {
		d.joining = map[string]bool{}
	}
	d.joining[s.CompID] = true // until the router has it in the set
	// Never blocks: the router takes the list at its next turn (or, if it
	// is not running, when it runs again).
	d.toJoin = append(d.toJoin, ds)
	select {
	case d.joinNow <- struct{}{}:
	default:
	}
	return nil
}

// join adds a session on the router's goroutine: its history first, from
// the journal up to the last command handled, so that what follows live
// comes after it in the session's store.
func (d *DropCopy) join(ds *dcSession) {
	d.set.Store(d.cur().with(ds))
	if d.last == 0 || d.journalDir == "" {
		return
	}
	from := max(1, ds.cursor.seq)
	sent := 0
	_, err := sequencer.ReplayEvents(nil, d.journalDir, from, d.last, func(p *sequencer.Published) error {
		sent += d.handle(p) // the other sessions have all of it: send skips them
		return nil
	})
	if err != nil {
		d.log.Error("drop copy: new session's history not read from the journal", zap.String("comp_id", ds.info.CompID), zap.Error(err))
		return
	}
	d.log.Info("drop copy session added", zap.String("comp_id", ds.info.CompID), zap.Uint64("from_seq", from),
		zap.Uint64("to_seq", d.last), zap.Int("reports", sent))
}

// CompIDs are the drop-copy sessions, for the acceptor's static sessions.
func (d *DropCopy) CompIDs() []string {
	var out []string
	for _, s := range d.dir.Sessions() {
		if _, ok := d.cur().sessions[s.CompID]; ok {
			out = append(out, s.CompID)
		}
	}
	return out
}

// Attach gives the drop copy its acceptor (to cut slow sessions) and reads
// from each session's store the last event it was sent.
func (d *DropCopy) Attach(acc *Acceptor) error {
	d.acc = acc
	for comp, s := range d.cur().sessions {
		st, ok := acc.Store(comp)
		if !ok {
			return fmt.Errorf("fix: drop copy %s: no store", comp)
		}
		pos, err := lastPosition(st)
		if err != nil {
			return fmt.Errorf("fix: drop copy %s: read store: %w", comp, err)
		}
		s.cursor = pos
		d.log.Info("drop copy store", zap.String("comp_id", comp), zap.Uint64("last_seq", pos.seq),
			zap.Int("next_msg_seq_num", st.NextSenderMsgSeqNum()))
	}
	return nil
}

// lastPosition finds the newest report in the store: in its last 4,096
// messages, else (a long run of heartbeats at the end) in all of them. The
// file store scans its index from the start on every read, so this reads
// one range at a time, not chunks.
func lastPosition(st quickfix.MessageStore) (position, error) {
	last := st.NextSenderMsgSeqNum() - 1
	for _, from := range []int{max(1, last-4095), 1} {
		var found position
		var ok bool
		err := st.IterateMessages(from, last, func(msg []byte) error {
			if p, is := reportPosition(msg); is {
				found, ok = p, true
			}
			return nil
		})
		if err != nil {
			return position{}, err
		}
		if ok || from == 1 {
			return found, nil
		}
	}
	return position{}, nil
}

// reportPosition finds the ExecID (17) of an ExecutionReport or the
// TradeReportID (571) of a TradeCaptureReport in a raw message.
func reportPosition(msg []byte) (position, bool) {
	for _, tag := range [][]byte{[]byte("\x0117="), []byte("\x01571=")} {
		i := bytes.Index(msg, tag)
		if i < 0 {
			continue
		}
		v := msg[i+len(tag):]
		if j := bytes.IndexByte(v, 1); j >= 0 {
			v = v[:j]
		}
		if p, ok := parseExecID(v); ok {
			if bytes.Equal(tag, []byte("\x01571=")) {
				p.side = 2
			}
			return p, true
		}
	}
	return position{}, false
}

// CatchUp sends each session what happened after its cursor, up to the
// journal's last seq, from the events regenerated out of the journal. Run
// it once at start, before Route, with to = the recovered last seq.
func (d *DropCopy) CatchUp(journalDir string, to uint64) error {
	d.journalDir = journalDir
	d.last = max(d.last, to)
	if len(d.cur().sessions) == 0 || to == 0 {
		return nil
	}
	from := to + 1
	for _, s := range d.cur().sessions {
		from = min(from, max(1, s.cursor.seq))
	}
	if from > to {
		return nil
	}
	sent := 0
	_, err := sequencer.ReplayEvents(nil, journalDir, from, to, func(p *sequencer.Published) error {
		sent += d.handle(p)
		return nil
	})
	if err != nil {
		return err
	}
	d.log.Info("drop copy caught up from the journal", zap.Uint64("from_seq", from), zap.Uint64("to_seq", to), zap.Int("reports", sent))
	return nil
}

// Route sends the drop copy of every published command until the
// subscription ends.
func (d *DropCopy) Route(sub *sequencer.Subscription, stopped <-chan struct{}) error {
	for done := false; !done; {
		select {
		case p, ok := <-sub.C:
			if !ok {
				done = true
				break
			}
			d.handle(p)
			d.last = p.Seq
		case <-d.joinNow:
			d.addMu.Lock()
			joins := d.toJoin
			d.toJoin = nil
			d.addMu.Unlock()
			for _, ds := range joins {
				d.join(ds)
			}
		}
	}
	select {
	case <-stopped:
		return nil
	default:
	}
	if r := sub.Reason(); r != "" {
		d.log.Warn("drop copy dropped by the sequencer", zap.String("reason", r))
		return ErrRouterBehind
	}
	return nil
}

// handle sends one command's reports and returns how many it sent.
func (d *DropCopy) handle(p *sequencer.Published) int {
	sent := 0
	var reps [2]orderReport
	for i := range p.Events {
		ev := &p.Events[i]
		if ev.Kind == matching.EvTrade {
			sent += d.trade(ev, i)
			continue
		}
		if len(d.cur().byFirm[d.firmOf(ev.Order.Account)]) == 0 {
			continue // no drop copy for this firm: render nothing
		}
		for _, r := range d.orderReports(ev, i, reps[:0]) {
			sent += d.deliver(r.v.Account, position{ev.Seq, i, 0}, rawReport(r))
		}
	}
	return sent
}

// trade sends one trade: per firm an ExecutionReport per side it owns, or
// one TradeCaptureReport with its sides to sessions that asked for those.
func (d *DropCopy) trade(ev *matching.Event, i int) int {
	sides := [...]tradeSide{{&ev.Maker, ev.MakerFee, 1, "M"}, {&ev.Order, ev.TakerFee, 2, "T"}}
	sent := 0
	makerFirm, takerFirm := d.firmOf(ev.Maker.Account), d.firmOf(ev.Order.Account)
	set := d.cur()
	if makerFirm == takerFirm && len(set.byFirm[makerFirm]) == 0 {
		return 0
	}
	for k, side := range sides {
		firm := d.firmOf(side.v.Account)
		var fill, tcr outMsg // each rendered once for every session of the firm
		for _, s := range set.byFirm[firm] {
			pos := position{ev.Seq, i, k + 1}
			if s.info.TradeCaptureReports {
				if k == 0 && makerFirm == takerFirm {
					continue // one report with both sides, at the taker's position
				}
				pos.side = 2
				if tcr.body == nil {
					own := sides[k : k+1] // this firm's side only
					if makerFirm == takerFirm {
						own = sides[:]
					}
					tcr = d.tradeCapture(ev, i, own)
				}
				sent += d.send(s, pos, tcr)
				continue
			}
			if fill.body == nil {
				fill = rawReport(d.fill(ev, i, side))
			}
			sent += d.send(s, pos, fill)
		}
	}
	return sent
}

func (d *DropCopy) firmOf(acct matching.AccountID) matching.FirmID {
	if a, ok := d.dir.Account(acct); ok {
		return a.Spec.Firm
	}
	return 0
}

// deliver sends a report on the account's order to the firm's sessions.
func (d *DropCopy) deliver(acct matching.AccountID, pos position, m outMsg) int {
	sent := 0
	for _, s := range d.cur().byFirm[d.firmOf(acct)] {
		sent += d.send(s, pos, m)
	}
	return sent
}

// send queues m for s unless s already has it. A logged-on session whose
// backlog (queued here, plus handed to quickfixgo and not yet taken by its
// connection's writer) passes MaxBacklog is not reading: it is cut, and
// catches up from the store at its next Logon.
func (d *DropCopy) send(s *dcSession, pos position, m outMsg) int {
	if !pos.after(s.cursor) {
		return 0
	}
	s.cursor = pos
	// While the store is failing, or the queue it left is still being
	// stored, the queue is the store's doing, not the reader's: only what
	// quickfixgo holds unwritten counts then.
	backlog := s.queued.Load() - s.written.Load()
	if !s.storeTrouble.Load() {
		backlog += int64(s.out.len())
	}
	if s.online.Load() && backlog > int64(d.cfg.MaxBacklog) && s.cutting.CompareAndSwap(false, true) {
		d.cuts.Add(1)
		d.log.Warn("drop copy session cut: not reading", zap.String("comp_id", s.info.CompID),
			zap.Int64("backlog", backlog), zap.Int("max_backlog", d.cfg.MaxBacklog))
		if d.acc != nil {
			d.acc.Disconnect(s.qid)
		}
	}
	s.out.put(m)
	return 1
}

// sender hands a session's reports to quickfixgo, which stores each (and
// sends it when the session is logged on), in order, for ever: whatever
// is queued when it wakes goes as one batch (one write per store file).
func (d *DropCopy) sender(s *dcSession) {
	runSender(s.out, d.sendBatch, func(send sendFunc, batch []outMsg) {
		d.store(s, send, batch)
		if s.storeTrouble.Load() && s.out.len() < d.cfg.MaxBacklog/2 {
			s.storeTrouble.Store(false) // what the outage queued is stored
		}
	})
}

// storeRetryMin and storeRetryMax bound the wait before the drop copy
// tries again to store reports its store refused (variables for tests).
var (
	storeRetryMin = 10 * time.Millisecond
	storeRetryMax = time.Second
)

// store hands batch to quickfixgo until all of it is stored, in order. A
// store that fails (a full disk) is tried again, the wait doubling up to
// storeRetryMax, for as long as it takes: the back office must never see
// a gap. Meanwhile the session's queue fills, the router blocks on it and
// the sequencer drops the router, which catches up from the journal once
// the store works again (the cursor skips what was stored). Only a session
// that is gone (the acceptor stopped) ends the attempts: its reports are
// in the journal, and the next start's catch-up sends them.
func (d *DropCopy) store(s *dcSession, send sendFunc, batch []outMsg) {
	wait := storeRetryMin
	failed := false
	for len(batch) > 0 {
		n, seq, err := send(s.qid, batch) // for a message, ToApp records its MsgSeqNum
		if seq > 0 {
			s.queued.Store(int64(seq))
		}
		batch = batch[n:]
		if err == nil {
			break
		}
		if errors.Is(err, quickfix.ErrUnknownSession) {
			d.log.Warn("drop copy session stopped: reports left to the next start's catch-up",
				zap.String("comp_id", s.info.CompID), zap.Int("reports", len(batch)))
			return
		}
		s.storeTrouble.Store(true)
		d.storeErrors.Add(1)
		if !failed {
			d.log.Error("drop copy not stored: retrying until the store takes it", zap.String("comp_id", s.info.CompID),
				zap.Int("reports", len(batch)), zap.Error(err))
			failed = true
		}
		time.Sleep(wait)
		wait = min(2*wait, storeRetryMax)
	}
	if failed {
		d.log.Info("drop copy stored again", zap.String("comp_id", s.info.CompID))
	}
}

// tradeCapture renders a trade as a TradeCaptureReport (35=AE) with the
// sides given, on the router's scratch body.
func (d *DropCopy) tradeCapture(ev *matching.Event, i int, sides []tradeSide) outMsg {
	sym, _ := d.uni.SymbolByID(ev.Order.Symbol)
	b := &d.b
	b.reset()
	b.str(quickfix.Tag(571), execID(ev.Seq, i, ""))
	b.str(quickfix.Tag(570), "N")
	b.uint(tagTrdMatchID, ev.TradeID)
	b.utc(tagTransactTime, ev.Time)
	b.date(quickfix.Tag(75), ev.Time)
	if sym != nil {
		b.str(tagSymbol, sym.Name)
		b.appendFn(tagLastPx, sym.AppendPx, ev.Px)
		b.appendFn(tagLastQty, sym.AppendQty, ev.Qty)
	}
	// NoSides (552): the group template's order is Side, OrderID,
	// ClOrdID, Account, Commission, CommType, CommCurrency,
	// LastLiquidityInd.
	g := b.group(quickfix.Tag(552), len(sides))
	for _, s := range sides {
		g.int(tagSide, int64(s.v.Side))
		g.str(tagOrderID, orderIDString(s.v.ID))
		g.str(tagClOrdID, s.v.ClOrdID)
		if a, ok := d.dir.Account(s.v.Account); ok {
			g.str(tagAccount, a.Name)
		}
		if sym != nil {
			g.appendFn(tagCommission, sym.AppendQuote, s.fee)
			g.str(tagCommType, "3")
			g.str(tagCommCurrency, sym.Quote)
		}
		g.int(tagLastLiquidityInd, int64(s.liq))
	}
	g.end()
	out, sum := b.bytes()
	return outMsg{typ: "AE", body: out, sum: sum}
}

// OnCreate implements quickfix.Application.
func (d *DropCopy) OnCreate(quickfix.SessionID) {}

// OnLogon implements quickfix.Application.
func (d *DropCopy) OnLogon(id quickfix.SessionID) {
	if s := d.cur().sessions[id.TargetCompID]; s != nil {
		s.written.Store(s.queued.Load())
		s.cutting.Store(false)
		s.online.Store(true)
		d.log.Info("drop copy logon", zap.String("comp_id", id.TargetCompID))
	}
}

// OnLogout implements quickfix.Application.
func (d *DropCopy) OnLogout(id quickfix.SessionID) {
	if s := d.cur().sessions[id.TargetCompID]; s != nil {
		s.online.Store(false)
		d.log.Info("drop copy logout", zap.String("comp_id", id.TargetCompID))
	}
}

// ToAdmin implements quickfix.Application.
func (d *DropCopy) ToAdmin(*quickfix.Message, quickfix.SessionID) {}

// ToApp records the MsgSeqNum of each report queued.
func (d *DropCopy) ToApp(msg *quickfix.Message, id quickfix.SessionID) error {
	if s := d.cur().sessions[id.TargetCompID]; s != nil {
		if n, err := msg.Header.GetInt(quickfix.Tag(34)); err == nil {
			s.queued.Store(int64(n))
		}
	}
	return nil
}

// FromAdmin authenticates Logon like order entry does.
func (d *DropCopy) FromAdmin(msg *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	mt, _ := msg.Header.GetString(tagMsgType)
	if mt != "A" {
		return nil
	}
	comp := id.TargetCompID
	reject := func(reason, text string) quickfix.MessageRejectError {
		d.log.Warn("drop copy logon refused", zap.String("comp_id", comp), zap.String("reason", reason))
		return quickfix.RejectLogon{Text: text}
	}
	if d.cur().sessions[comp] == nil {
		if info, ok := d.dir.Session(comp); !ok || info.Kind == refdata.DropCopy {
			return reject("unknown CompID", "unknown CompID "+comp)
		}
	}
	if _, reason, text := authenticate(d.dir, d.auth, d.cfg.LogonLockout, d.cfg.Now(), msg, comp, refdata.DropCopy); reason != "" {
		return reject(reason, text)
	}
	if v, err := msg.Body.GetString(quickfix.Tag(141)); err == nil && v == "Y" {
		// A reset would delete the store: what the back office has not
		// yet read would be gone, and sent again as new after a restart.
		return reject("141=Y", "drop-copy sessions keep their sequence numbers: log on with ResetSeqNumFlag (141) N and resend what you missed")
	}
	return nil
}

// FromApp refuses every application message: drop copy only receives.
func (d *DropCopy) FromApp(msg *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	return quickfix.NewBusinessMessageRejectError("drop-copy sessions do not accept application messages", 3, nil)
}

// Cuts counts sessions cut for not reading.
func (d *DropCopy) Cuts() uint64 { return d.cuts.Load() }

// LogFactory returns the quickfixgo log factory of the drop-copy acceptor:
// it counts what each session's writer has put on the socket, which is how
// the drop copy sees a back office that stopped reading.
func (d *DropCopy) LogFactory() quickfix.LogFactory { return dcLogs{d} }

type dcLogs struct{ d *DropCopy }

func (f dcLogs) Create() (quickfix.Log, error) { return dcLog{}, nil }

func (f dcLogs) CreateSessionLog(id quickfix.SessionID) (quickfix.Log, error) {
	return dcLog{f.d, id.TargetCompID}, nil
}

// dcLog finds its session at each message: one added while the venue runs
// has its quickfixgo session (and log) made before it joins the set.
type dcLog struct {
	d    *DropCopy
	comp string
}

func (l dcLog) OnIncoming([]byte)               {}
func (l dcLog) OnEvent(string)                  {}
func (l dcLog) OnEventf(string, ...interface{}) {}
func (l dcLog) OnOutgoing(msg []byte) {
	s := l.d.cur().sessions[l.comp]
	if s == nil {
		return
	}
	i := bytes.Index(msg, []byte("\x0134="))
	if i < 0 {
		return
	}
	v := msg[i+4:]
	if j := bytes.IndexByte(v, 1); j >= 0 {
		v = v[:j]
	}
	if n, err := strconv.ParseInt(string(v), 10, 64); err == nil && n > s.written.Load() {
		s.written.Store(n)
	}
}
