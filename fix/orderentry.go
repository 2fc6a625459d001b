// Package fix is the venue's FIX 4.4 front door: quickfixgo acceptors behind
// the frame guard (fix/guard), order entry turning messages into engine
// commands, and the router turning the engine's published events into
// ExecutionReports. Acknowledgments leave only after the command is durable:
// the router sees events only once the sequencer has fsynced them.
package fix

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/shopspring/decimal"
	"go.uber.org/zap"

	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// Submitter is the sequencer as order entry sees it.
type Submitter interface {
	SubmitAsync(cmd *matching.Command, done func(sequencer.Result)) error
}

// OrderEntryConfig configures OrderEntry.
type OrderEntryConfig struct {
	CompID            string // the venue's CompID
	ThrottlePerSecond int
	LogonMaxFailures  int
	LogonWindow       time.Duration
	LogonLockout      time.Duration
	// PendingMax bounds the reports kept for a session that is logged
	// out (cancel-on-disconnect cancels), sent at its next Logon.
	PendingMax int
	// DoneOrdersKept bounds the finished orders the gateway remembers for
	// status requests.
	DoneOrdersKept int
	// OutQueue bounds the reports waiting for one session's connection. A
	// session that lets it fill is not reading: it is disconnected (its
	// cancel-on-disconnect applies) and what was queued waits for its next
	// Logon.
	OutQueue int
	// CODLedger, when set, records the sessions logged on with
	// cancel-on-disconnect, so that a start after a crash cancels their
	// orders (server.Start does, from CODLedger.Pending).
	CODLedger *CODLedger
	Now       func() time.Time
}

// OrderEntry is the quickfix.Application of the order-entry acceptor.
type OrderEntry struct {
	renderer
	ledgerWG sync.WaitGroup // ledger updates under way (WaitLedger)
	cfg      OrderEntryConfig
	seq      Submitter
	log      *zap.Logger
	orders   *orderCache
	auth     *lockout

	// sendBatch queues reports with quickfixgo (nil: each sender's
	// batcher); tests put a refusing session behind it. Set before the
	// first session's state is made.
	sendBatch sendFunc

	mu       sync.Mutex
	sessions map[string]*sessState // by CompID
	byID     map[matching.SessionID]*sessState

	rejectSeq  atomic.Uint64 // ExecIDs of gateway rejects
	bootID     string
	stats      oeStats
	ackLatency Histogram // NewOrderSingle received -> its command durable
	acc        *Acceptor // to disconnect a session that stops reading
	lastSeq    atomic.Uint64
}

// Attach gives order entry its acceptor, to disconnect sessions that stop
// reading their reports.
func (g *OrderEntry) Attach(acc *Acceptor) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.acc = acc
}

type oeStats struct {
	logons, logonFailures, messagesIn, reportsOut, throttled, orders, cuts atomic.Uint64
}

// sessState is one order-entry session's live state.
type sessState struct {
	// info is the session's directory entry, replaced when the directory
	// changes; read it with sess().
	info atomic.Pointer[refdata.Session]
	qid  quickfix.SessionID

	// out is the session's queue of reports, drained by its own sender
	// goroutine: the router never waits on a connection.
	out      *queue[outMsg]
	cutting  atomic.Bool
	loggedOn atomic.Bool // between OnLogon and OnLogout

	mu         sync.Mutex
	online     bool
	cod        bool
	codLogon   bool // from a Logon's acceptance (FromAdmin) to its session's OnLogout
	codPending int  // cancel-on-disconnect cancels submitted, not yet journaled
	pending    []outMsg
	dropped    int
	throttle   throttle
}

// NewOrderEntry returns the order-entry application. It reads identities
// and entitlements from dir at each Logon, so sessions added there can log
// on without a restart.
func NewOrderEntry(cfg OrderEntryConfig, dir *refdata.Directory, uni *refdata.Universe, seq Submitter, log *zap.Logger) *OrderEntry {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PendingMax <= 0 {
		cfg.PendingMax = 10_000
	}
	if cfg.DoneOrdersKept <= 0 {
		cfg.DoneOrdersKept = 1_000_000
	}
	if cfg.OutQueue <= 0 {
		cfg.OutQueue = 50_000
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
	if cfg.ThrottlePerSecond <= 0 {
		cfg.ThrottlePerSecond = 100_000
	}
	if log == nil {
		log = zap.NewNop()
	}
	return &OrderEntry{
		renderer: renderer{dir: dir, uni: uni},
		cfg:      cfg, seq: seq, log: log,
		orders:   newOrderCache(cfg.DoneOrdersKept),
		auth:     newLockout(cfg.LogonMaxFailures, cfg.LogonWindow, cfg.LogonLockout),
		sessions: map[string]*sessState{},
		byID:     map[matching.SessionID]*sessState{},
		bootID:   strings.ToUpper(fmt.Sprintf("%x", cfg.Now().UnixNano())),
	}
}

// Seed puts the engine's working orders into the gateway's view; call it
// once after recovery, before the router runs.
func (g *OrderEntry) Seed(eng interface {
	OpenOrders(func(matching.OrderView))
}) {
	eng.OpenOrders(func(v matching.OrderView) {
		g.orders.put(&v, g.firmOf(v.Account))
	})
}

func (g *OrderEntry) firmOf(acct matching.AccountID) matching.FirmID {
	if a, ok := g.dir.Account(acct); ok {
		return a.Spec.Firm
	}
	return 0
}

// rateOf is a session's throttle: its own setting, else the venue's.
func (g *OrderEntry) rateOf(info *refdata.Session) float64 {
	if info.ThrottlePerSecond > 0 {
		return float64(info.ThrottlePerSecond)
	}
	return float64(g.cfg.ThrottlePerSecond)
}

// sess is the session's current directory entry.
func (st *sessState) sess() *refdata.Session { return st.info.Load() }

// state returns the live state of an order-entry CompID, creating it from
// the directory.
func (g *OrderEntry) state(comp string) *sessState {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := g.sessions[comp]
	if st != nil {
		if info, ok := g.dir.Session(comp); ok {
			st.info.Store(&info)
			st.mu.Lock()
			st.throttle.rate = g.rateOf(&info)
			st.mu.Unlock()
		}
		return st
	}
	info, ok := g.dir.Session(comp)
	if !ok || info.Kind != refdata.OrderEntry {
		return nil
	}
	st = &sessState{
		qid:      quickfix.SessionID{BeginString: quickfix.BeginStringFIX44, SenderCompID: g.cfg.CompID, TargetCompID: comp},
		cod:      info.CancelOnDisconnect,
		throttle: throttle{rate: g.rateOf(&info)},
		out:      newQueue[outMsg](g.cfg.OutQueue),
	}
	st.info.Store(&info)
	go g.sender(st)
	g.sessions[comp] = st
	g.byID[info.ID] = st
	return st
}

// stateByID returns the state of an engine session id, or nil.
func (g *OrderEntry) stateByID(id matching.SessionID) *sessState {
	g.mu.Lock()
	st := g.byID[id]
	g.mu.Unlock()
	if st != nil {
		return st
	}
	info, ok := g.dir.SessionByID(id)
	if !ok || info.Kind != refdata.OrderEntry {
		return nil
	}
	return g.state(info.CompID)
}

// send queues m for the session. A session whose queue is full has not
// taken OutQueue reports off its connection: it is cut, and the router
// waits only until its sender has moved them to pending (which a
// logged-out session's sender does at once).
func (g *OrderEntry) send(st *sessState, m *quickfix.Message) { g.sendOut(st, outMsg{msg: m}) }

// sendOut is send for a message or a rendered body.
func (g *OrderEntry) sendOut(st *sessState, m outMsg) {
	if st.out.tryPut(m) {
		return
	}
	if st.cutting.CompareAndSwap(false, true) {
		g.stats.cuts.Add(1)
		g.log.Warn("order-entry session cut: not reading its reports", zap.String("comp_id", st.sess().CompID),
			zap.Int("queued", st.out.len()))
		g.mu.Lock()
		acc := g.acc
		g.mu.Unlock()
		if acc != nil {
			acc.Disconnect(st.qid)
		}
	}
	st.out.put(m)
}

// logonMarker in a session's queue tells its sender that the session
// logged on: send what is pending first, then the rest, in order.
var logonMarker = quickfix.NewMessage()

// sender delivers a session's queued reports in order, for ever. It alone
// sends to the session, so quickfixgo blocking on a slow connection holds
// up this session only. Whatever is queued when it wakes goes as one
// batch, split at Logon markers.
func (g *OrderEntry) sender(st *sessState) {
	runSender(st.out, g.sendBatch, func(send sendFunc, batch []outMsg) {
		for rest := batch; len(rest) > 0; {
			k := 0
			for k < len(rest) && rest[k].msg != logonMarker {
				k++
			}
			if k > 0 {
				g.deliver(st, send, rest[:k])
			}
			if k < len(rest) {
				g.flushPending(st, send)
				k++
			}
			rest = rest[k:]
		}
	})
}

// deliver sends ms to the session now, or keeps them for the session's
// next Logon when it is not logged on or being cut. From the first one
// quickfixgo refuses (the session is gone), they are kept, and so is
// everything after them until the next Logon: the session counts as
// offline, so no later report overtakes a kept one. No lock is held while
// quickfixgo sends.
func (g *OrderEntry) deliver(st *sessState, send sendFunc, ms []outMsg) {
	st.mu.Lock()
	online := st.online && !st.cutting.Load()
	if !online {
		for _, m := range ms {
			g.keep(st, m)
		}
		st.mu.Unlock()
		return
	}
	st.mu.Unlock()
	n, _, err := send(st.qid, ms)
	g.stats.reportsOut.Add(uint64(n))
	if err == nil {
		return
	}
	st.mu.Lock()
	st.online = false
	for _, m := range ms[n:] {
		g.keep(st, m)
	}
	st.mu.Unlock()
	g.log.Warn("reports not sent: kept for the next Logon", zap.String("comp_id", st.sess().CompID),
		zap.Int("reports", len(ms)-n), zap.Error(err))
}

// keep adds m to the session's pending reports; st.mu is held.
func (g *OrderEntry) keep(st *sessState, m outMsg) {
	if len(st.pending) >= g.cfg.PendingMax {
		st.pending = st.pending[1:]
		st.dropped++
		if st.dropped == 1 {
			g.log.Warn("pending reports full: dropping the oldest", zap.String("comp_id", st.sess().CompID), zap.Int("max", g.cfg.PendingMax))
		}
	}
	st.pending = append(st.pending, m)
}

// flushPending runs on the sender at Logon: what the session missed goes
// out before anything queued after the Logon.
func (g *OrderEntry) flushPending(st *sessState, send sendFunc) {
	st.mu.Lock()
	pending := st.pending
	st.pending, st.dropped = nil, 0
	st.online = st.loggedOn.Load()
	st.mu.Unlock()
	n, _, err := send(st.qid, pending)
	g.stats.reportsOut.Add(uint64(n))
	if err != nil {
		st.mu.Lock()
		st.online = false
		st.pending = append(pending[n:len(pending):len(pending)], st.pending...)
		st.mu.Unlock()
		g.log.Warn("pending reports not sent: kept for the next Logon", zap.String("comp_id", st.sess().CompID), zap.Error(err))
		return
	}
	if len(pending) > 0 {
		g.log.Info("pending reports sent", zap.String("comp_id", st.sess().CompID), zap.Int("reports", len(pending)))
	}
}

// OnCreate implements quickfix.Application.
func (g *OrderEntry) OnCreate(quickfix.SessionID) {}

// OnLogon sends what the session missed while logged out, through its
// sender so that order is kept.
func (g *OrderEntry) OnLogon(id quickfix.SessionID) {
	st := g.state(id.TargetCompID)
	if st == nil {
		return
	}
	st.loggedOn.Store(true)
	st.cutting.Store(false)
	st.out.put(outMsg{msg: logonMarker})
	g.stats.logons.Add(1)
	st.mu.Lock()
	cod := st.cod
	st.mu.Unlock()
	g.log.Info("logon", zap.String("comp_id", id.TargetCompID), zap.Bool("cancel_on_disconnect", cod))
}

// WaitLedger waits for the cancel-on-disconnect ledger's updates after
// cancels the sequencer journaled; call it after the sequencer closed, so
// nothing writes to the data directory once the venue is stopped.
func (g *OrderEntry) WaitLedger() { g.ledgerWG.Wait() }

// OnLogout cancels the session's resting orders when cancel-on-disconnect
// is on.
func (g *OrderEntry) OnLogout(id quickfix.SessionID) {
	st := g.state(id.TargetCompID)
	if st == nil {
		return
	}
	was := st.loggedOn.Swap(false)
	st.mu.Lock()
	st.online = false
	st.codLogon = false
	cod := st.cod
	info := *st.sess()
	st.mu.Unlock()
	g.log.Info("logout", zap.String("comp_id", id.TargetCompID), zap.Bool("cancel_on_disconnect", cod && was))
	if !was || !cod {
		if g.cfg.CODLedger != nil { // a Logon accepted that never became a session
			st.mu.Lock()
			if err := g.recordCOD(st); err != nil {
				g.log.Error("cancel-on-disconnect ledger not updated", zap.String("comp_id", id.TargetCompID), zap.Error(err))
			}
			st.mu.Unlock()
		}
		return
	}
	cmd := matching.Command{
		Kind: matching.CmdMassCancel, Session: info.ID, Firm: info.Firm,
		OnlySession: true, Reason: matching.ReasonDisconnect,
	}
	st.mu.Lock()
	st.codPending++
	st.mu.Unlock()
	// Once the cancel is journaled the ledger may forget the session
	// (unless it logged on again with cancel-on-disconnect). Not on the
	// sequencer's goroutine: the ledger write waits for the disk.
	journaled := func(r sequencer.Result) {
		if r.Err != nil {
			// Not journaled: the session stays listed, so the next start
			// cancels its orders.
			return
		}
		g.ledgerWG.Add(1)
		go func() {
			defer g.ledgerWG.Done()
			st.mu.Lock()
			defer st.mu.Unlock()
			st.codPending--
			if err := g.recordCOD(st); err != nil {
				g.log.Error("cancel-on-disconnect ledger not updated", zap.String("comp_id", id.TargetCompID), zap.Error(err))
			}
		}()
	}
	// A full queue must not leave the orders resting: retry for a minute.
	go func() {
		for deadline := time.Now().Add(time.Minute); ; {
			err := g.seq.SubmitAsync(&cmd, journaled)
			if err == nil {
				return
			}
			if !errors.Is(err, sequencer.ErrQueueFull) || time.Now().After(deadline) {
				g.log.Error("cancel on disconnect not submitted: the session's orders rest", zap.String("comp_id", id.TargetCompID), zap.Error(err))
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
}

// ToAdmin implements quickfix.Application.
func (g *OrderEntry) ToAdmin(*quickfix.Message, quickfix.SessionID) {}

// ToApp implements quickfix.Application.
func (g *OrderEntry) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }

// FromAdmin authenticates Logon: Username (553) must be the CompID and
// Password (554) match its stored hash; repeated failures lock the CompID.
func (g *OrderEntry) FromAdmin(msg *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	mt, _ := msg.Header.GetString(tagMsgType)
	if mt != "A" {
		return nil
	}
	return g.logon(msg, id.TargetCompID)
}

func (g *OrderEntry) logon(msg *quickfix.Message, comp string) quickfix.MessageRejectError {
	now := g.cfg.Now()
	reject := func(reason, text string) quickfix.MessageRejectError {
		g.stats.logonFailures.Add(1)
		g.log.Warn("logon refused", zap.String("comp_id", comp), zap.String("reason", reason))
		return quickfix.RejectLogon{Text: text}
	}
	info, reason, text := authenticate(g.dir, g.auth, g.cfg.LogonLockout, now, msg, comp, refdata.OrderEntry)
	if reason != "" {
		return reject(reason, text)
	}
	st := g.state(comp)
	if st == nil {
		return reject("unknown CompID", "unknown CompID "+comp)
	}
	cod := info.CancelOnDisconnect
	if msg.Body.Has(tagCancelOnDisconnect) {
		v, err := msg.Body.GetString(tagCancelOnDisconnect)
		if err != nil || (v != "Y" && v != "N") {
			return reject("bad 8013", "CancelOnDisconnect (8013) must be Y or N")
		}
		cod = v == "Y"
	}
	st.mu.Lock()
	st.cod = cod
	st.codLogon = true
	err := g.recordCOD(st)
	if err != nil {
		st.codLogon = false
	}
	st.mu.Unlock()
	if err != nil {
		g.log.Error("cancel-on-disconnect not recorded: logon refused", zap.String("comp_id", comp), zap.Error(err))
		return reject("cancel-on-disconnect not recorded", "the venue cannot record cancel-on-disconnect now; try again")
	}
	return nil
}

// recordCOD makes the ledger list the session exactly while it is logged
// on (from the acceptance of its Logon) with cancel-on-disconnect, or a
// cancel of its orders for a disconnect is not journaled; st.mu is held.
func (g *OrderEntry) recordCOD(st *sessState) error {
	if g.cfg.CODLedger == nil {
		return nil
	}
	id := st.sess().ID
	if (st.codLogon && st.cod) || st.codPending > 0 {
		return g.cfg.CODLedger.Add(id)
	}
	return g.cfg.CODLedger.Remove(id)
}

// FromApp handles the application messages of a logged-on session.
func (g *OrderEntry) FromApp(msg *quickfix.Message, id quickfix.SessionID) (rej quickfix.MessageRejectError) {
	defer func() {
		if r := recover(); r != nil {
			g.log.Error("bug: panic handling a message", zap.String("comp_id", id.TargetCompID), zap.Any("panic", r), zap.Stack("stack"))
			rej = quickfix.NewBusinessMessageRejectError("internal error", 0, nil)
		}
	}()
	st := g.state(id.TargetCompID)
	if st == nil {
		return quickfix.NewBusinessMessageRejectError("unknown session", 0, nil)
	}
	g.stats.messagesIn.Add(1)
	mt, _ := msg.Header.GetString(tagMsgType)
	switch mt {
	case "D", "F", "G", "q":
		st.mu.Lock()
		ok := st.throttle.allow(g.cfg.Now())
		st.mu.Unlock()
		if !ok {
			g.stats.throttled.Add(1)
			g.throttled(st, mt, msg)
			return nil
		}
	}
	switch mt {
	case "D":
		return g.newOrder(st, msg)
	case "F":
		return g.cancel(st, msg)
	case "G":
		return g.replace(st, msg)
	case "H":
		return g.status(st, msg)
	case "q":
		return g.massCancel(st, msg)
	case "AF":
		return g.massStatus(st, msg)
	case "x":
		return g.securityList(st, msg)
	}
	return quickfix.UnsupportedMessageType()
}

func (g *OrderEntry) throttled(st *sessState, mt string, msg *quickfix.Message) {
	text := fmt.Sprintf("throttle: more than %d messages per second", int(g.rateOf(st.sess())))
	cl, _ := msg.Body.GetString(tagClOrdID)
	switch mt {
	case "D":
		g.send(st, g.gatewayReject(st, msg, 99, text))
	case "F", "G":
		orig, _ := msg.Body.GetString(tagOrigClOrdID)
		to := 1
		if mt == "G" {
			to = 2
		}
		g.send(st, cancelRejectMsg(0, cl, orig, matching.StatusRejected, to, 99, text))
	default:
		m := newMsg("j")
		m.Body.SetString(tagBusinessRejectRef, cl)
		m.Body.SetInt(tagBusinessRejectRsn, 0)
		m.Body.SetString(tagText, text)
		m.Body.SetString(quickfix.Tag(372), mt)
		g.send(st, m)
	}
}

// gatewayReject answers a NewOrderSingle the gateway refuses before the
// engine sees it (a price off the tick, an unknown symbol, ...).
func (g *OrderEntry) gatewayReject(st *sessState, msg *quickfix.Message, code int, text string) *quickfix.Message {
	m := newMsg("8")
	b := &m.Body
	cl, _ := msg.Body.GetString(tagClOrdID)
	b.SetString(tagOrderID, "NONE")
	b.SetString(tagExecID, fmt.Sprintf("GW%s-%d", g.bootID, g.rejectSeq.Add(1)))
	b.SetString(tagClOrdID, cl)
	b.SetString(tagExecType, "8")
	b.SetString(tagOrdStatus, "8")
	for _, t := range []quickfix.Tag{tagSymbol, tagSide, tagOrdType, tagAccount} {
		if v, err := msg.Body.GetString(t); err == nil {
			b.SetString(t, v)
		}
	}
	if v, err := msg.Body.GetString(tagOrderQty); err == nil {
		b.SetString(tagOrderQty, v)
	} else {
		b.SetString(tagOrderQty, "0")
	}
	b.SetString(tagCumQty, "0")
	b.SetString(tagLeavesQty, "0")
	b.SetString(tagAvgPx, "0")
	b.SetField(tagTransactTime, utc(g.cfg.Now().UnixNano()))
	b.SetInt(tagOrdRejReason, code)
	b.SetString(tagText, text)
	return m
}

// errReject is a gateway reject of an order: OrdRejReason and text.
type errReject struct {
	code int
	text string
}

func (e *errReject) Error() string { return e.text }

func rejectf(code int, format string, args ...any) *errReject {
	return &errReject{code, fmt.Sprintf(format, args...)}
}

// orderFields are the order fields of D and G, decoded and checked.
type orderFields struct {
	sym      *refdata.Symbol
	side     matching.Side
	typ      matching.OrdType
	tif      matching.TIF
	px, stop int64
	qty      int64
	expire   int64
	postOnly bool
	stp      matching.STPMode
	account  matching.AccountID
}

// decodeOrder reads the order fields of D or G. A field the dictionary
// accepts but the venue does not offer is an errReject; a missing
// conditionally required field a MessageRejectError. prev fills what a
// replace leaves out.
func (g *OrderEntry) decodeOrder(st *sessState, msg *quickfix.Message, prev *matching.OrderView) (orderFields, *errReject, quickfix.MessageRejectError) {
	var f orderFields
	b := &msg.Body
	symName, _ := b.GetString(tagSymbol)
	sym, ok := g.uni.SymbolByName(symName)
	if !ok {
		return f, rejectf(1, "unknown symbol %q", symName), nil
	}
	f.sym = sym
	side, _ := b.GetString(tagSide)
	switch side {
	case "1":
		f.side = matching.Buy
	case "2":
		f.side = matching.Sell
	default:
		return f, rejectf(11, "Side (54) %q is not offered: 1 buy or 2 sell", side), nil
	}
	typ, _ := b.GetString(tagOrdType)
	switch typ {
	case "1", "2", "3", "4":
		f.typ = matching.OrdType(typ[0] - '0')
	default:
		return f, rejectf(11, "OrdType (40) %q is not offered: 1 market, 2 limit, 3 stop, 4 stop limit", typ), nil
	}
	tif := "1"
	if prev != nil {
		tif = fmt.Sprint(int(prev.TIF))
	}
	if b.Has(tagTimeInForce) {
		tif, _ = b.GetString(tagTimeInForce)
	}
	switch tif {
	case "0", "1", "3", "4", "6":
		f.tif = matching.TIF(tif[0] - '0')
	default:
		return f, rejectf(11, "TimeInForce (59) %q is not offered: 0 Day, 1 GTC, 3 IOC, 4 FOK, 6 GTD", tif), nil
	}
	dec := func(tag quickfix.Tag) (decimal.Decimal, bool, quickfix.MessageRejectError) {
		if !b.Has(tag) {
			return decimal.Decimal{}, false, nil
		}
		s, _ := b.GetString(tag)
		d, err := decimal.NewFromString(s)
		if err != nil {
			return d, true, quickfix.IncorrectDataFormatForValue(tag)
		}
		return d, true, nil
	}
	qty, has, rerr := dec(tagOrderQty)
	if rerr != nil {
		return f, nil, rerr
	}
	if !has {
		return f, nil, quickfix.RequiredTagMissing(tagOrderQty)
	}
	var err error
	if f.qty, err = sym.Qty(qty); err != nil {
		if errors.Is(err, refdata.ErrTooLarge) {
			return f, rejectf(3, "OrderQty (38) %s exceeds the maximum order quantity", qty), nil
		}
		return f, rejectf(13, "OrderQty (38) %s must be positive and a multiple of %s", qty, sym.QtyStep), nil
	}
	px, hasPx, rerr := dec(tagPrice)
	if rerr != nil {
		return f, nil, rerr
	}
	stop, hasStop, rerr := dec(tagStopPx)
	if rerr != nil {
		return f, nil, rerr
	}
	needPx := f.typ == matching.Limit || f.typ == matching.StopLimit
	needStop := f.typ == matching.Stop || f.typ == matching.StopLimit
	switch {
	case needPx && !hasPx:
		return f, nil, quickfix.ConditionallyRequiredFieldMissing(tagPrice)
	case needStop && !hasStop:
		return f, nil, quickfix.ConditionallyRequiredFieldMissing(tagStopPx)
	case !needPx && hasPx:
		return f, rejectf(11, "Price (44) is not allowed on OrdType (40) %s", typ), nil
	case !needStop && hasStop:
		return f, rejectf(11, "StopPx (99) is not allowed on OrdType (40) %s", typ), nil
	}
	var bad *errReject
	if hasPx {
		if f.px, bad = priceUnits(sym, px, "Price (44)"); bad != nil {
			return f, bad, nil
		}
	}
	if hasStop {
		if f.stop, bad = priceUnits(sym, stop, "StopPx (99)"); bad != nil {
			return f, bad, nil
		}
	}
	if f.tif == matching.GTD && !b.Has(tagExpireTime) && prev != nil && prev.TIF == matching.GTD {
		f.expire = prev.ExpireTime // a replace that leaves 126 out keeps it
	} else if f.tif == matching.GTD {
		if !b.Has(tagExpireTime) {
			return f, nil, quickfix.ConditionallyRequiredFieldMissing(tagExpireTime)
		}
		var t quickfix.FIXUTCTimestamp
		if err := b.GetField(tagExpireTime, &t); err != nil {
			return f, nil, quickfix.IncorrectDataFormatForValue(tagExpireTime)
		}
		f.expire = t.Time.UnixNano()
	} else if b.Has(tagExpireTime) {
		return f, rejectf(11, "ExpireTime (126) is only allowed with TimeInForce (59) 6 GTD"), nil
	}
	if prev != nil {
		f.postOnly = prev.PostOnly
	}
	if b.Has(tagExecInst) {
		inst, _ := b.GetString(tagExecInst)
		f.postOnly = false
		for _, v := range strings.Fields(inst) {
			if v != "6" {
				return f, rejectf(11, "ExecInst (18) %q is not offered: only 6 (post only)", v), nil
			}
			f.postOnly = true
		}
	}
	if b.Has(tagSelfTradePrevent) {
		v, _ := b.GetString(tagSelfTradePrevent)
		switch v {
		case "O", "N", "B", "D":
			f.stp = matching.STPMode(v[0])
		default:
			return f, nil, quickfix.ValueIsIncorrect(tagSelfTradePrevent)
		}
	}
	f.account = st.sess().Account
	if b.Has(tagAccount) {
		name, _ := b.GetString(tagAccount)
		a, ok := g.dir.AccountByName(name)
		if !ok || a.Spec.Firm != st.sess().Firm {
			return f, rejectf(15, "unknown account %q", name), nil
		}
		if sess := st.sess(); !sess.MayActFor(a.Spec.ID) {
			return f, rejectf(15, "account %s is not granted to session %s (venue admin session grant)", name, sess.CompID), nil
		}
		f.account = a.Spec.ID
	}
	if a, ok := g.dir.Account(f.account); ok && a.Suspended {
		return f, rejectf(99, "account %s is suspended", a.Name), nil
	}
	return f, nil, nil
}

func priceUnits(sym *refdata.Symbol, d decimal.Decimal, name string) (int64, *errReject) {
	n, err := sym.Px(d)
	switch {
	case err == nil:
		return n, nil
	case errors.Is(err, refdata.ErrTooLarge):
		return 0, rejectf(3, "%s %s is outside the price band", name, d)
	default:
		return 0, rejectf(99, "%s %s must be positive and a multiple of the tick %s", name, d, sym.Tick)
	}
}

func possDup(msg *quickfix.Message) bool {
	for _, t := range []quickfix.Tag{tagPossDupFlag, tagPossResend} {
		if v, err := msg.Header.GetString(t); err == nil && v == "Y" {
			return true
		}
	}
	return false
}

func (g *OrderEntry) submit(st *sessState, cmd *matching.Command) error {
	err := g.seq.SubmitAsync(cmd, nil)
	if err == nil {
		return nil
	}
	return g.submitErr(st, err)
}

// submitErr is what a client is told when its command was not queued.
func (g *OrderEntry) submitErr(st *sessState, err error) error {
	if errors.Is(err, sequencer.ErrQueueFull) {
		return errors.New("venue busy: the command queue is full, send again")
	}
	g.log.Error("submit", zap.String("comp_id", st.sess().CompID), zap.Error(err))
	return errors.New("venue is not accepting commands")
}

func (g *OrderEntry) newOrder(st *sessState, msg *quickfix.Message) quickfix.MessageRejectError {
	cl, _ := msg.Body.GetString(tagClOrdID)
	if possDup(msg) {
		if v, _, ok := g.orders.byClOrdID(st.sess().ID, cl); ok {
			g.send(st, g.statusReport(&v))
			return nil
		}
	}
	f, rej, rerr := g.decodeOrder(st, msg, nil)
	if rerr != nil {
		return rerr
	}
	if rej != nil {
		g.send(st, g.gatewayReject(st, msg, rej.code, rej.text))
		return nil
	}
	cmd := matching.Command{
		Kind: matching.CmdNewOrder, Session: st.sess().ID, Firm: st.sess().Firm, Account: f.account,
		Symbol: f.sym.Spec.ID, Side: f.side, Type: f.typ, TIF: f.tif, STP: f.stp, PostOnly: f.postOnly,
		Px: f.px, StopPx: f.stop, Qty: f.qty, ExpireTime: f.expire, ClOrdID: cl,
	}
	t0 := time.Now()
	err := g.seq.SubmitAsync(&cmd, func(sequencer.Result) { g.ackLatency.Observe(time.Since(t0)) })
	if err != nil {
		err = g.submitErr(st, err)
		g.send(st, g.gatewayReject(st, msg, 99, err.Error()))
		return nil
	}
	g.stats.orders.Add(1)
	return nil
}

// target reads OrigClOrdID (41) and OrderID (37) of F, G and H.
func (g *OrderEntry) target(msg *quickfix.Message) (orig string, id matching.OrderID, idOK bool) {
	orig, _ = msg.Body.GetString(tagOrigClOrdID)
	idOK = true
	if msg.Body.Has(tagOrderID) {
		s, _ := msg.Body.GetString(tagOrderID)
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 || strconv.FormatUint(n, 10) != s { // canonical: no sign, no leading zero
			idOK = false
		}
		id = matching.OrderID(n)
	}
	return orig, id, idOK
}

func (g *OrderEntry) cancel(st *sessState, msg *quickfix.Message) quickfix.MessageRejectError {
	cl, _ := msg.Body.GetString(tagClOrdID)
	orig, id, idOK := g.target(msg)
	if !idOK {
		g.send(st, cancelRejectMsg(0, cl, orig, matching.StatusRejected, 1, 1, matching.CxlUnknownOrder.String()))
		return nil
	}
	cmd := matching.Command{
		Kind: matching.CmdCancel, Session: st.sess().ID, Firm: st.sess().Firm,
		OrderID: id, ClOrdID: cl, OrigClOrdID: orig,
	}
	if err := g.submit(st, &cmd); err != nil {
		g.send(st, cancelRejectMsg(id, cl, orig, matching.StatusRejected, 1, 99, err.Error()))
	}
	return nil
}

func (g *OrderEntry) replace(st *sessState, msg *quickfix.Message) quickfix.MessageRejectError {
	cl, _ := msg.Body.GetString(tagClOrdID)
	orig, id, idOK := g.target(msg)
	if !idOK {
		g.send(st, cancelRejectMsg(0, cl, orig, matching.StatusRejected, 2, 1, matching.CxlUnknownOrder.String()))
		return nil
	}
	var prev *matching.OrderView
	if id != 0 {
		if v, firm, ok := g.orders.byOrderID(id); ok && firm == st.sess().Firm {
			prev = &v
		}
	} else if v, _, ok := g.orders.byClOrdID(st.sess().ID, orig); ok {
		prev = &v
	}
	f, rej, rerr := g.decodeOrder(st, msg, prev)
	if rerr != nil {
		return rerr
	}
	if rej != nil {
		status := matching.StatusRejected
		if prev != nil {
			status = prev.Status
		}
		g.send(st, cancelRejectMsg(id, cl, orig, status, 2, 99, rej.text))
		return nil
	}
	cmd := matching.Command{
		Kind: matching.CmdReplace, Session: st.sess().ID, Firm: st.sess().Firm, Account: f.account,
		Symbol: f.sym.Spec.ID, Side: f.side, Type: f.typ, TIF: f.tif, STP: f.stp, PostOnly: f.postOnly,
		Px: f.px, StopPx: f.stop, Qty: f.qty, ExpireTime: f.expire,
		OrderID: id, ClOrdID: cl, OrigClOrdID: orig,
	}
	if err := g.submit(st, &cmd); err != nil {
		g.send(st, cancelRejectMsg(id, cl, orig, matching.StatusRejected, 2, 99, err.Error()))
	}
	return nil
}

// status answers OrderStatusRequest from the gateway's view of the orders:
// by OrderID (37) among the firm's orders, else by ClOrdID (11) of this
// session. Other firms' orders look unknown.
func (g *OrderEntry) status(st *sessState, msg *quickfix.Message) quickfix.MessageRejectError {
	cl, _ := msg.Body.GetString(tagClOrdID)
	_, id, idOK := g.target(msg)
	var (
		v     matching.OrderView
		firm  matching.FirmID
		found bool
	)
	if idOK && id != 0 {
		v, firm, found = g.orders.byOrderID(id)
	} else if idOK {
		v, firm, found = g.orders.byClOrdID(st.sess().ID, cl)
	}
	req, hasReq := msg.Body.GetString(tagOrdStatusReqID)
	if found && firm == st.sess().Firm {
		g.send(st, g.statusReport(&v, func(b *body) {
			if hasReq == nil {
				b.str(tagOrdStatusReqID, req)
			}
		}))
		return nil
	}
	m := g.gatewayReject(st, msg, 0, "unknown order")
	m.Body.SetString(tagExecID, g.statusExecID())
	m.Body.SetString(tagExecType, "I")
	m.Body.Remove(tagOrdRejReason)
	if hasReq == nil {
		m.Body.SetString(tagOrdStatusReqID, req)
	}
	g.send(st, m)
	return nil
}

// statusExecID is the ExecID of a status answer (150=I): not an event of
// the journal, so not "<seq>-<i>".
func (g *OrderEntry) statusExecID() string {
	return fmt.Sprintf("ST%s-%d", g.bootID, g.rejectSeq.Add(1))
}

// statusReport renders an order's current state as a 150=I report, with
// the fields extra adds (the request's id, the mass status counts). It
// runs on a session's goroutine: its own body, not the router's.
func (g *OrderEntry) statusReport(v *matching.OrderView, extra ...func(*body)) *quickfix.Message {
	var b body
	g.report(&b, v, g.statusExecID(), 'I', g.cfg.Now().UnixNano())
	for _, f := range extra {
		f(&b)
	}
	return b.message("8")
}

// massCancel submits OrderMassCancelRequest: 530=1 one symbol, 7 all; an
// optional Side (54) and Account (1) narrow it. The report (35=r) and the
// cancels come from the router.
func (g *OrderEntry) massCancel(st *sessState, msg *quickfix.Message) quickfix.MessageRejectError {
	cl, _ := msg.Body.GetString(tagClOrdID)
	typ, _ := msg.Body.GetString(tagMassCancelReqType)
	rejectMC := func(reason int, text string) quickfix.MessageRejectError {
		m := newMsg("r")
		m.Body.SetString(tagClOrdID, cl)
		m.Body.SetString(tagOrderID, "NONE")
		m.Body.SetString(tagMassCancelReqType, typ)
		m.Body.SetString(tagMassCancelResponse, "0")
		m.Body.SetInt(tagMassCancelRejRsn, reason)
		m.Body.SetString(tagText, text)
		g.send(st, m)
		return nil
	}
	cmd := matching.Command{
		Kind: matching.CmdMassCancel, Session: st.sess().ID, Firm: st.sess().Firm,
		ClOrdID: cl, Reason: matching.ReasonMassCancel,
	}
	switch typ {
	case "7":
	case "1":
		name, _ := msg.Body.GetString(tagSymbol)
		sym, ok := g.uni.SymbolByName(name)
		if !ok {
			return rejectMC(1, fmt.Sprintf("unknown symbol %q", name))
		}
		cmd.Symbol = sym.Spec.ID
	default:
		return rejectMC(0, fmt.Sprintf("MassCancelRequestType (530) %q is not offered: 1 symbol, 7 all", typ))
	}
	if msg.Body.Has(tagSide) {
		side, _ := msg.Body.GetString(tagSide)
		switch side {
		case "1", "2":
			cmd.Side = matching.Side(side[0] - '0')
		default:
			return rejectMC(99, fmt.Sprintf("Side (54) %q: 1 buy or 2 sell", side))
		}
	}
	if msg.Body.Has(tagAccount) {
		name, _ := msg.Body.GetString(tagAccount)
		a, ok := g.dir.AccountByName(name)
		if !ok || a.Spec.Firm != st.sess().Firm {
			return rejectMC(99, fmt.Sprintf("unknown account %q", name))
		}
		if sess := st.sess(); !sess.MayActFor(a.Spec.ID) {
			return rejectMC(99, fmt.Sprintf("account %s is not granted to session %s", name, sess.CompID))
		}
		cmd.Account = a.Spec.ID
	}
	if err := g.submit(st, &cmd); err != nil {
		return rejectMC(99, err.Error())
	}
	return nil
}

// massStatus answers OrderMassStatusRequest (585=7 all, 1 one symbol) with
// one 150=I report per working order of the firm, the last with 912=Y.
func (g *OrderEntry) massStatus(st *sessState, msg *quickfix.Message) quickfix.MessageRejectError {
	reqID, _ := msg.Body.GetString(tagMassStatusReqID)
	typ, _ := msg.Body.GetString(tagMassStatusReqType)
	var symID matching.SymbolID
	switch typ {
	case "7":
	case "1":
		name, _ := msg.Body.GetString(tagSymbol)
		sym, ok := g.uni.SymbolByName(name)
		if !ok {
			return quickfix.NewBusinessMessageRejectErrorWithRefID(fmt.Sprintf("unknown symbol %q", name), 0, reqID, nil)
		}
		symID = sym.Spec.ID
	default:
		return quickfix.NewBusinessMessageRejectErrorWithRefID(fmt.Sprintf("MassStatusReqType (585) %q is not offered: 1 symbol, 7 all", typ), 0, reqID, nil)
	}
	var acct matching.AccountID
	if msg.Body.Has(tagAccount) {
		name, _ := msg.Body.GetString(tagAccount)
		a, ok := g.dir.AccountByName(name)
		if !ok || a.Spec.Firm != st.sess().Firm {
			return quickfix.NewBusinessMessageRejectErrorWithRefID(fmt.Sprintf("unknown account %q", name), 0, reqID, nil)
		}
		acct = a.Spec.ID
	}
	open := g.orders.open(st.sess().Firm, func(v *matching.OrderView) bool {
		return (symID == 0 || v.Symbol == symID) && (acct == 0 || v.Account == acct)
	})
	now := g.cfg.Now().UnixNano()
	if len(open) == 0 {
		// One report says there is nothing: 37=NONE 11=NONE 39=8, 912=Y.
		m := newMsg("8")
		b := &m.Body
		b.SetString(tagOrderID, "NONE")
		b.SetString(tagClOrdID, "NONE")
		b.SetString(tagExecID, fmt.Sprintf("ST%s-%d", g.bootID, g.rejectSeq.Add(1)))
		b.SetString(tagExecType, "I")
		b.SetString(tagOrdStatus, "8")
		name := "ALL"
		if s, ok := g.uni.SymbolByID(symID); ok {
			name = s.Name
		}
		b.SetString(tagSymbol, name)
		b.SetString(tagSide, "1")
		for _, t := range []quickfix.Tag{tagOrderQty, tagCumQty, tagLeavesQty, tagAvgPx} {
			b.SetString(t, "0")
		}
		b.SetField(tagTransactTime, utc(now))
		b.SetString(tagText, "no working orders")
		b.SetString(tagMassStatusReqID, reqID)
		b.SetInt(tagTotNumReports, 0)
		b.SetString(tagLastRptRequested, "Y")
		g.send(st, m)
		return nil
	}
	for i := range open {
		g.send(st, g.statusReport(&open[i], func(b *body) {
			b.str(tagMassStatusReqID, reqID)
			b.int(tagTotNumReports, int64(len(open)))
			if i == len(open)-1 {
				b.str(tagLastRptRequested, "Y")
			}
		}))
	}
	return nil
}

// securityList answers SecurityListRequest (559=0 one symbol, 4 all).
func (g *OrderEntry) securityList(st *sessState, msg *quickfix.Message) quickfix.MessageRejectError {
	reqID, _ := msg.Body.GetString(tagSecurityReqID)
	typ, _ := msg.Body.GetString(tagSecurityListReqTyp)
	var syms []*refdata.Symbol
	result := "0"
	switch typ {
	case "4":
		syms = g.uni.Symbols()
	case "0":
		name, _ := msg.Body.GetString(tagSymbol)
		if s, ok := g.uni.SymbolByName(name); ok {
			syms = []*refdata.Symbol{s}
		} else {
			result = "2"
		}
	default:
		result = "1" // invalid or unsupported request
	}
	m := newMsg("y")
	m.Body.SetString(tagSecurityReqID, reqID)
	m.Body.SetString(tagSecurityResponseID, fmt.Sprintf("SL%s-%d", g.bootID, g.rejectSeq.Add(1)))
	m.Body.SetString(tagSecurityReqResult, result)
	if len(syms) > 0 {
		grp := quickfix.NewRepeatingGroup(tagNoRelatedSym, quickfix.GroupTemplate{
			quickfix.GroupElement(tagSymbol), quickfix.GroupElement(tagCurrency),
			quickfix.GroupElement(tagMinPriceIncrement), quickfix.GroupElement(tagRoundLot),
			quickfix.GroupElement(tagMinTradeVol),
		})
		for _, s := range syms {
			r := grp.Add()
			r.SetString(tagSymbol, s.Name)
			r.SetString(tagCurrency, s.Quote)
			r.SetField(tagMinPriceIncrement, quickfix.FIXString(s.Tick.String()))
			r.SetField(tagRoundLot, quickfix.FIXString(s.QtyStep.String()))
			r.SetField(tagMinTradeVol, quickfix.FIXString(s.MinQty.String()))
		}
		m.Body.SetGroup(grp)
	}
	g.send(st, m)
	return nil
}
