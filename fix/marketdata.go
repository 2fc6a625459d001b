package fix

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/datadictionary"
	"go.uber.org/zap"

	"venue/matching"
	"venue/refdata"
	"venue/sequencer"
)

// ErrMarketDataBehind is returned by MarketData.Run when the sequencer
// dropped the market-data subscription: the replica of the books would be
// wrong, so every market-data session is cut and new logons are refused.
var ErrMarketDataBehind = errors.New("fix: market data fell behind the sequencer")

// MarketDataConfig configures MarketData. Zero values take the defaults
// named in each comment.
type MarketDataConfig struct {
	CompID         string // the venue's CompID
	DictionaryPath string // the data dictionary (the X and W group order)
	// MaxSubscriptions bounds the live subscriptions (MDReqIDs) of one
	// session (32); beyond it 35=Y 281=2.
	MaxSubscriptions int
	// MaxSymbolsPerRequest bounds NoRelatedSym (146) of one request (16);
	// beyond it 35=Y 281=2.
	MaxSymbolsPerRequest int
	// RequestsPerSecond bounds the MarketDataRequests of one session
	// (100 a second, as a burst too); beyond it 35=Y 281=2.
	RequestsPerSecond int
	// MaxDepth is the largest MarketDepth (264) N (100); beyond it, or
	// negative, 35=Y 281=5. 0 is the full book.
	MaxDepth int
	// QueueMax bounds the messages waiting for one session (2048), and
	// QueueMaxBytes their size (4 MiB, estimated); a session that lets
	// either fill is cut with a logged reason.
	QueueMax      int
	QueueMaxBytes int64
	// MaxEntriesPerMessage bounds the MDEntries of one X (256); more
	// changes go out as several X.
	MaxEntriesPerMessage int
	// MaxBurst bounds the published commands folded into one round of
	// updates (1024): what the engine changed in a burst goes out netted.
	MaxBurst int
	// Interval, when > 0, is the least time between two rounds of updates
	// (conflation): changes are folded in as they come and go out at most
	// once per Interval per feed, each level with its latest size; trades
	// are never netted. 0: a round after every burst.
	Interval time.Duration
	// ResendKept is how many sent messages each session keeps for resend
	// (0: none, the default: a ResendRequest is answered with a gap fill;
	// a client that missed market data sees the RptSeq gap and subscribes
	// again). Kept messages cost memory per session: an X can be 15 KB.
	ResendKept       int
	LogonMaxFailures int
	LogonWindow      time.Duration
	LogonLockout     time.Duration
	Now              func() time.Time
}

// cutGrace is how long a cut session's Logout has before its connection
// is closed.
const cutGrace = 500 * time.Millisecond

// maxConnsTracked bounds the connections remembered per CompID.
const maxConnsTracked = 16

// maxMDReqIDLen bounds MDReqID (262).
const maxMDReqIDLen = 64

// MarketData is the quickfix.Application of the market-data acceptor. It
// keeps a replica of every book built from the engine's EvLevel events,
// answers MarketDataRequest with a snapshot (W) and then incremental
// refreshes (X), and publishes trades and halts. One goroutine (Run) folds
// the published events into the books; each logged-on session has its own
// bounded queue and writer goroutine, so a slow reader delays nobody.
type MarketData struct {
	cfg       MarketDataConfig
	dir       *refdata.Directory
	uni       *refdata.Universe
	log       *zap.Logger
	auth      *lockout
	xTemplate quickfix.GroupTemplate
	wTemplate quickfix.GroupTemplate
	acc       *Acceptor

	mu       sync.Mutex
	books    map[matching.SymbolID]*mdBook
	order    []*mdBook // by symbol id
	sessions map[string]*mdSession
	cuts     []*mdSession // cut, their subscriptions not yet removed
	down     string       // why market data stopped ("" while it runs)
	scratch  []mdEntry

	stats mdStats
}

type mdStats struct {
	logons, logonFailures, requests, rejects, messagesOut, cut atomic.Uint64
	lastSeq                                                    atomic.Uint64
}

// MarketDataStats are counters for operators and tests.
type MarketDataStats struct {
	Logons, LogonFailures, Requests, Rejects, MessagesOut, Cut uint64
	Sessions, Subscriptions, Feeds                             int
	// LastSeq is the seq of the last command folded into the books: a
	// snapshot asked for now shows everything up to it.
	LastSeq uint64
}

// mdSession is one market-data CompID's live state; MarketData.mu guards
// it.
type mdSession struct {
	info   refdata.Session
	qid    quickfix.SessionID
	online bool
	cut    bool
	subs   map[string]*mdSub
	out    *queue[mdOut]
	queued *atomic.Int64 // estimated bytes in out, for this logon
	limit  throttle
	quit   chan struct{}
	conns  []net.Conn
}

// stopWriter ends the session's writer: it sends nothing more, and its
// queue takes nothing more. The caller holds MarketData.mu.
func (s *mdSession) stopWriter() {
	if s.quit != nil {
		close(s.quit)
		s.quit = nil
	}
	if s.out != nil {
		s.out.close()
	}
}

// mdSub is one live subscription: an MDReqID and the feed of each of its
// symbols.
type mdSub struct {
	reqID string
	sess  *mdSession
	books []*mdBook
	feeds []*mdFeed
}

// mdOut is one message for a session: ready (msg), or an X to finish
// with the subscription's MDReqID and the feed's shared group.
type mdOut struct {
	msg   *quickfix.Message
	reqID string
	grp   mdGroup
	size  int64 // estimated bytes
}

// mdSize estimates the bytes of a message of n MDEntries.
func mdSize(n int) int64 { return int64(n)*48 + 160 }

// NewMarketData returns the market-data application; Seed it, Run it on
// a sequencer subscription, then Start its acceptor.
func NewMarketData(cfg MarketDataConfig, dir *refdata.Directory, uni *refdata.Universe, log *zap.Logger) (*MarketData, error) {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&cfg.MaxSubscriptions, 32)
	def(&cfg.MaxSymbolsPerRequest, 16)
	def(&cfg.MaxDepth, 100)
	def(&cfg.RequestsPerSecond, 100)
	def(&cfg.QueueMax, 2048)
	if cfg.QueueMaxBytes <= 0 {
		cfg.QueueMaxBytes = 4 << 20
	}
	def(&cfg.MaxEntriesPerMessage, 256)
	def(&cfg.MaxBurst, 1024)
	def(&cfg.LogonMaxFailures, 5)
	if cfg.LogonWindow <= 0 {
		cfg.LogonWindow = 5 * time.Minute
	}
	if cfg.LogonLockout <= 0 {
		cfg.LogonLockout = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if log == nil {
		log = zap.NewNop()
	}
	md := &MarketData{
		cfg: cfg, dir: dir, uni: uni, log: log,
		auth:     newLockout(cfg.LogonMaxFailures, cfg.LogonWindow, cfg.LogonLockout),
		books:    map[matching.SymbolID]*mdBook{},
		sessions: map[string]*mdSession{},
	}
	dd, err := datadictionary.Parse(cfg.DictionaryPath)
	if err != nil {
		return nil, fmt.Errorf("fix: market data: dictionary: %w", err)
	}
	if md.xTemplate, err = groupTemplate(dd, "X", []quickfix.Tag{tagMDUpdateAction, tagMDEntryType, tagSymbol,
		tagMDEntryPx, tagMDEntrySize, tagMDEntryDate, tagMDEntryTime, tagSide, tagRptSeq}); err != nil {
		return nil, err
	}
	if md.wTemplate, err = groupTemplate(dd, "W", []quickfix.Tag{tagMDEntryType, tagMDEntryPx, tagMDEntrySize}); err != nil {
		return nil, err
	}
	for _, s := range uni.Symbols() {
		md.book(s.Spec.ID)
	}
	return md, nil
}

// groupTemplate orders the tags the venue writes in a NoMDEntries group
// as the dictionary declares them (quickfixgo validates a group's fields
// in that order); tags the dictionary's group lacks go last.
func groupTemplate(dd *datadictionary.DataDictionary, msgType string, tags []quickfix.Tag) (quickfix.GroupTemplate, error) {
	m, ok := dd.Messages[msgType]
	if !ok {
		return nil, fmt.Errorf("fix: market data: dictionary has no message %s", msgType)
	}
	g, ok := m.Fields[int(tagNoMDEntries)]
	if !ok || !g.IsGroup() {
		return nil, fmt.Errorf("fix: market data: dictionary message %s has no NoMDEntries group", msgType)
	}
	var out quickfix.GroupTemplate
	used := map[quickfix.Tag]bool{}
	for _, f := range g.Fields {
		t := quickfix.Tag(f.Tag())
		if slices.Contains(tags, t) && !used[t] {
			out = append(out, quickfix.GroupElement(t))
			used[t] = true
		}
	}
	if len(out) == 0 || out[0].Tag() != tags[0] {
		return nil, fmt.Errorf("fix: market data: dictionary group NoMDEntries of %s does not start with tag %d", msgType, tags[0])
	}
	for _, t := range tags {
		if !used[t] {
			out = append(out, quickfix.GroupElement(t))
		}
	}
	return out, nil
}

func (md *MarketData) book(id matching.SymbolID) *mdBook {
	if b := md.books[id]; b != nil {
		return b
	}
	sym, ok := md.uni.SymbolByID(id)
	if !ok {
		return nil
	}
	b := newMDBook(sym)
	md.books[id] = b
	i, _ := slices.BinarySearchFunc(md.order, id, func(x *mdBook, id matching.SymbolID) int {
		return int(x.sym.Spec.ID) - int(id)
	})
	md.order = slices.Insert(md.order, i, b)
	return b
}

// BookSource is the engine as Seed reads it.
type BookSource interface {
	Book(id matching.SymbolID, depth int) (bids, asks []matching.Level)
	Symbol(id matching.SymbolID) (matching.SymbolSpec, matching.SymbolStatus, bool)
}

// Seed copies the engine's books and symbol status into the replica. Call
// it after subscribing and before any command is submitted: the events
// Run then receives set absolute levels, so any already seen do no harm.
func (md *MarketData) Seed(eng BookSource) {
	md.mu.Lock()
	defer md.mu.Unlock()
	for _, sym := range md.uni.Symbols() {
		b := md.book(sym.Spec.ID)
		bids, asks := eng.Book(sym.Spec.ID, 0)
		for i, ls := range [2][]matching.Level{bids, asks} {
			levels := slices.Clone(ls)
			slices.Reverse(levels) // best last
			b.sides[i].levels = levels
		}
		if _, st, ok := eng.Symbol(sym.Spec.ID); ok {
			b.status = st
		}
		b.endBurst()
	}
}

// Start opens the acceptor (cfg.CompID and cfg.DictionaryPath default to
// the MarketDataConfig's).
func (md *MarketData) Start(cfg AcceptorConfig) error {
	if cfg.CompID == "" {
		cfg.CompID = md.cfg.CompID
	}
	if cfg.DictionaryPath == "" {
		cfg.DictionaryPath = md.cfg.DictionaryPath
	}
	acc, err := startWatchedAcceptor(cfg, md, md, md.cfg.ResendKept, md.log)
	if err != nil {
		return err
	}
	md.acc = acc
	return nil
}

// Addr is the acceptor's public address.
func (md *MarketData) Addr() net.Addr { return md.acc.Addr() }

// Stop closes the acceptor: every session ends, and its subscriptions.
func (md *MarketData) Stop() error {
	if md.acc == nil {
		return nil
	}
	return md.acc.Stop()
}

// Stats returns the counters.
func (md *MarketData) Stats() MarketDataStats {
	md.mu.Lock()
	st := MarketDataStats{}
	for _, s := range md.sessions {
		if s.online {
			st.Sessions++
		}
		st.Subscriptions += len(s.subs)
	}
	for _, b := range md.order {
		st.Feeds += len(b.feeds)
	}
	md.mu.Unlock()
	st.Logons = md.stats.logons.Load()
	st.LogonFailures = md.stats.logonFailures.Load()
	st.Requests = md.stats.requests.Load()
	st.Rejects = md.stats.rejects.Load()
	st.MessagesOut = md.stats.messagesOut.Load()
	st.Cut = md.stats.cut.Load()
	st.LastSeq = md.stats.lastSeq.Load()
	return st
}

// Run folds every published command's events into the books and sends
// what changed. It takes what is already waiting, up to MaxBurst
// commands, before it publishes, so under load a level that changes many
// times goes out once with its latest quantity. It returns when the
// subscription ends: nil after the sequencer closed it cleanly.
func (md *MarketData) Run(sub *sequencer.Subscription, stopped <-chan struct{}) error {
	if md.cfg.Interval > 0 {
		md.runConflated(sub)
	} else {
		md.runBursts(sub)
	}
	select {
	case <-stopped:
		return nil
	default:
	}
	if r := sub.Reason(); r != "" && r != sequencer.ErrClosed.Error() {
		md.log.Error("market data dropped by the sequencer: cutting every session", zap.String("reason", r))
		md.mu.Lock()
		md.down = r
		for _, s := range md.sessions {
			md.cut(s, "market data fell behind the engine")
		}
		md.reap()
		md.mu.Unlock()
		return ErrMarketDataBehind
	}
	return nil
}

// runBursts publishes after every burst of waiting commands.
func (md *MarketData) runBursts(sub *sequencer.Subscription) {
	for p := range sub.C {
		md.mu.Lock()
		md.apply(p)
		for n := 1; n < md.cfg.MaxBurst; n++ {
			more := false
			select {
			case q, ok := <-sub.C:
				if ok {
					md.apply(q)
					more = true
				}
			default:
			}
			if !more {
				break
			}
		}
		md.flush()
		md.mu.Unlock()
	}
}

// runConflated folds commands in as they come and publishes at most once
// per Interval, and once more when the subscription ends.
func (md *MarketData) runConflated(sub *sequencer.Subscription) {
	tick := time.NewTicker(md.cfg.Interval)
	defer tick.Stop()
	dirty := false
	for {
		select {
		case p, ok := <-sub.C:
			if !ok {
				if dirty {
					md.mu.Lock()
					md.flush()
					md.mu.Unlock()
				}
				return
			}
			md.mu.Lock()
			md.apply(p)
			md.mu.Unlock()
			dirty = true
		case <-tick.C:
			if dirty {
				md.mu.Lock()
				md.flush()
				md.mu.Unlock()
				dirty = false
			}
		}
	}
}

// apply folds one command's events into the books.
func (md *MarketData) apply(p *sequencer.Published) {
	for i := range p.Events {
		ev := &p.Events[i]
		switch ev.Kind {
		case matching.EvLevel:
			if b := md.book(ev.Symbol); b != nil {
				b.level(ev.Side, ev.Px, ev.Qty)
			}
		case matching.EvTrade:
			if b := md.book(ev.Symbol); b != nil {
				b.trades = append(b.trades, mdTrade{px: ev.Px, qty: ev.Qty, aggressor: ev.Aggressor, time: ev.Time})
			}
		case matching.EvSymbolStatus:
			if b := md.book(ev.Symbol); b != nil && b.status != ev.Status {
				b.status = ev.Status
				b.statuses = append(b.statuses, ev.Status)
				b.statusAt = append(b.statusAt, ev.Time)
			}
		}
	}
	md.stats.lastSeq.Store(p.Seq)
}

// flush sends each feed what the burst changed, then the status changes.
func (md *MarketData) flush() {
	for _, b := range md.order {
		if !b.busy() {
			continue
		}
		for _, f := range b.feeds {
			entries := b.diff(f, md.scratch[:0])
			md.scratch = entries[:0]
			for len(entries) > 0 {
				n := min(len(entries), md.cfg.MaxEntriesPerMessage)
				grp := md.xGroup(b.sym.Name, entries[:n])
				for _, sub := range f.subs {
					md.enqueue(sub.sess, mdOut{reqID: sub.reqID, grp: grp, size: mdSize(n)})
				}
				entries = entries[n:]
			}
		}
		for i, st := range b.statuses {
			for _, s := range md.subscribersOf(b) {
				md.enqueue(s, mdOut{msg: statusMsg(b.sym.Name, st, b.statusAt[i], true)})
			}
		}
		b.endBurst()
	}
	md.reap()
}

// subscribersOf lists the sessions with a subscription to b, once each.
func (md *MarketData) subscribersOf(b *mdBook) []*mdSession {
	var out []*mdSession
	for _, f := range b.feeds {
		for _, sub := range f.subs {
			if !slices.Contains(out, sub.sess) {
				out = append(out, sub.sess)
			}
		}
	}
	return out
}

// securityTradingStatus is SecurityTradingStatus (326) of a status.
func securityTradingStatus(st matching.SymbolStatus) int {
	switch st {
	case matching.StatusOpen:
		return 3 // resume
	case matching.StatusHalted:
		return 2 // trading halt
	}
	return 18 // not available for trading: closed between sessions
}

func statusMsg(sym string, st matching.SymbolStatus, t int64, unsolicited bool) *quickfix.Message {
	m := newMsg("f")
	m.Body.SetString(tagSymbol, sym)
	m.Body.SetInt(tagSecurityTradingStat, securityTradingStatus(st))
	u := "N"
	if unsolicited {
		u = "Y"
	}
	m.Body.SetString(tagUnsolicitedIndicator, u)
	m.Body.SetField(tagTransactTime, utc(t))
	return m
}

// enqueue hands m to the session's writer without waiting; a session
// whose queue is full is cut. The caller holds mu.
func (md *MarketData) enqueue(s *mdSession, o mdOut) {
	if !s.online || s.cut {
		return
	}
	if o.size == 0 {
		o.size = mdSize(0)
	}
	if q := s.queued.Load(); q+o.size > md.cfg.QueueMaxBytes {
		md.cut(s, fmt.Sprintf("too slow: %d bytes waiting", q))
		return
	}
	if s.out.tryPut(o) {
		s.queued.Add(o.size)
		return
	}
	md.cut(s, fmt.Sprintf("too slow: %d messages waiting", md.cfg.QueueMax))
}

// cut disconnects a session: a Logout saying why, then its connection is
// closed after cutGrace whether the Logout could be written or not.
// quickfixgo has no public disconnect, so the connection is the one the
// ConnectionValidator saw. Its subscriptions are removed by reap. The
// caller holds mu.
func (md *MarketData) cut(s *mdSession, reason string) {
	if !s.online || s.cut {
		return
	}
	s.cut = true
	md.stats.cut.Add(1)
	md.cuts = append(md.cuts, s)
	s.stopWriter()
	md.log.Warn("market-data session cut", zap.String("comp_id", s.info.CompID), zap.String("reason", reason))
	qid, conns := s.qid, slices.Clone(s.conns)
	go func() {
		m := newMsg("5")
		m.Body.SetString(tagText, reason)
		_ = quickfix.SendToTarget(m, qid) // may wait for a wedged socket: its own goroutine
	}()
	time.AfterFunc(cutGrace, func() {
		for _, c := range conns {
			_ = c.Close()
		}
	})
}

// reap removes the subscriptions of cut sessions. The caller holds mu.
func (md *MarketData) reap() {
	for _, s := range md.cuts {
		md.unsubscribeAll(s)
	}
	md.cuts = md.cuts[:0]
}

func (md *MarketData) unsubscribeAll(s *mdSession) {
	for _, sub := range s.subs {
		md.unsubscribe(sub)
	}
}

func (md *MarketData) unsubscribe(sub *mdSub) {
	for i, f := range sub.feeds {
		f.subs = slices.DeleteFunc(f.subs, func(x *mdSub) bool { return x == sub })
		if len(f.subs) == 0 {
			delete(sub.books[i].feeds, f.key)
		}
	}
	delete(sub.sess.subs, sub.reqID)
}

// write sends a session's queue, on its own goroutine: sending can wait
// while quickfixgo's session goroutine writes to a slow socket. What it
// takes at once goes to quickfixgo as one batch (batcher: each run of X
// bodies saved and queued at once, and the connection's writer woken
// once), as order entry and the drop copy send their reports.
func (md *MarketData) write(s *mdSession, out *queue[mdOut], queued *atomic.Int64, quit <-chan struct{}) {
	var b batcher
	var bodies []byte // the batch's X bodies; quickfixgo copies them
	var batch []mdOut
	var ms []outMsg
	for {
		var ok bool
		if batch, ok = out.take(batch[:0], 64); !ok {
			return
		}
		select {
		case <-quit:
			return
		default:
		}
		bodies, ms = bodies[:0], ms[:0]
		for _, o := range batch {
			queued.Add(-o.size)
			if o.msg != nil {
				ms = append(ms, outMsg{msg: o.msg})
				continue
			}
			at := len(bodies)
			bodies = append(append(append(bodies, "262="...), o.reqID...), '\x01')
			sum := o.grp.sum
			for _, c := range bodies[at:] {
				sum += int(c)
			}
			bodies = append(bodies, o.grp.b...)
			ms = append(ms, outMsg{typ: "X", body: bodies[at:len(bodies):len(bodies)], sum: sum})
		}
		n, _, err := b.send(s.qid, ms)
		md.stats.messagesOut.Add(uint64(n))
		clear(batch)
		clear(ms)
		if err != nil {
			md.log.Warn("market-data send", zap.String("comp_id", s.qid.TargetCompID), zap.Error(err))
			return
		}
	}
}

// session returns the live state of a market-data CompID, creating it
// from the directory; nil for any other CompID. The caller holds mu.
func (md *MarketData) session(comp string) *mdSession {
	if s := md.sessions[comp]; s != nil {
		return s
	}
	info, ok := md.dir.Session(comp)
	if !ok || info.Kind != refdata.MarketData {
		return nil
	}
	s := &mdSession{info: info, subs: map[string]*mdSub{},
		qid: quickfix.SessionID{BeginString: quickfix.BeginStringFIX44, SenderCompID: md.cfg.CompID, TargetCompID: comp}}
	md.sessions[comp] = s
	return s
}

// Validate implements quickfix.ConnectionValidator: it remembers each
// market-data CompID's connections (to cut a slow one) and refuses a
// second connection while the CompID is logged on, keeping the first.
func (md *MarketData) Validate(c net.Conn, id quickfix.SessionID) error {
	md.mu.Lock()
	defer md.mu.Unlock()
	s := md.session(id.TargetCompID)
	if s == nil {
		return nil // not a market-data CompID: Logon refuses it with a Text
	}
	if s.online {
		md.log.Warn("second connection refused", zap.String("comp_id", id.TargetCompID))
		return errors.New("already logged on")
	}
	if len(s.conns) == maxConnsTracked {
		s.conns = slices.Delete(s.conns, 0, 1)
	}
	s.conns = append(s.conns, c)
	return nil
}

// OnCreate implements quickfix.Application.
func (md *MarketData) OnCreate(quickfix.SessionID) {}

// OnLogon starts the session's queue and writer.
func (md *MarketData) OnLogon(id quickfix.SessionID) {
	md.mu.Lock()
	defer md.mu.Unlock()
	s := md.session(id.TargetCompID)
	if s == nil {
		return
	}
	s.online, s.cut = true, false
	s.subs = map[string]*mdSub{}
	s.limit = throttle{rate: float64(md.cfg.RequestsPerSecond)}
	s.out = newQueue[mdOut](md.cfg.QueueMax)
	s.quit = make(chan struct{})
	s.queued = new(atomic.Int64)
	go md.write(s, s.out, s.queued, s.quit)
	md.stats.logons.Add(1)
	md.log.Info("logon", zap.String("comp_id", id.TargetCompID))
}

// OnLogout ends the session's subscriptions.
func (md *MarketData) OnLogout(id quickfix.SessionID) {
	md.mu.Lock()
	defer md.mu.Unlock()
	s := md.sessions[id.TargetCompID]
	if s == nil {
		return
	}
	md.unsubscribeAll(s)
	s.stopWriter()
	s.online, s.cut = false, false
	s.out, s.conns = nil, nil
	md.log.Info("logout", zap.String("comp_id", id.TargetCompID))
}

// ToAdmin implements quickfix.Application.
func (md *MarketData) ToAdmin(*quickfix.Message, quickfix.SessionID) {}

// ToApp implements quickfix.Application.
func (md *MarketData) ToApp(*quickfix.Message, quickfix.SessionID) error { return nil }

// FromAdmin authenticates Logon as order entry does: Username (553) the
// CompID, Password (554) its stored hash, lockout after repeated failures;
// only market-data CompIDs may log on here.
func (md *MarketData) FromAdmin(msg *quickfix.Message, id quickfix.SessionID) quickfix.MessageRejectError {
	if mt, _ := msg.Header.GetString(tagMsgType); mt != "A" {
		return nil
	}
	comp := id.TargetCompID
	now := md.cfg.Now()
	reject := func(reason, text string) quickfix.MessageRejectError {
		md.stats.logonFailures.Add(1)
		md.log.Warn("logon refused", zap.String("comp_id", comp), zap.String("reason", reason))
		return quickfix.RejectLogon{Text: text}
	}
	if info, ok := md.dir.Session(comp); ok && info.Kind == refdata.MarketData {
		md.mu.Lock()
		down := md.down
		md.mu.Unlock()
		if down != "" {
			return reject("market data down", "market data is unavailable")
		}
	}
	if _, reason, text := authenticate(md.dir, md.auth, md.cfg.LogonLockout, now, msg, comp, refdata.MarketData); reason != "" {
		return reject(reason, text)
	}
	return nil
}

// FromApp handles MarketDataRequest; market-data sessions never accept
// orders.
func (md *MarketData) FromApp(msg *quickfix.Message, id quickfix.SessionID) (rej quickfix.MessageRejectError) {
	defer func() {
		if r := recover(); r != nil {
			md.log.Error("bug: panic handling a message", zap.String("comp_id", id.TargetCompID), zap.Any("panic", r), zap.Stack("stack"))
			rej = quickfix.NewBusinessMessageRejectError("internal error", 0, nil)
		}
	}()
	mt, _ := msg.Header.GetString(tagMsgType)
	switch mt {
	case "V":
		md.stats.requests.Add(1)
		md.request(id.TargetCompID, msg)
		return nil
	case "D", "F", "G", "q":
		return quickfix.NewBusinessMessageRejectError("market-data sessions do not accept orders", 3, nil)
	}
	return quickfix.UnsupportedMessageType()
}

// mdRequest is a decoded MarketDataRequest.
type mdRequest struct {
	reqID      string
	subType    string // 263
	depth      int    // 264
	updateType string // 265, "" absent
	aggregated string // 266, "" absent
	types      []string
	symbols    []string
}

// decodeRequest reads V from its frame, in order: quickfixgo has already
// checked it against the dictionary, and its repeating groups (267, 146)
// are read as the sequence of their 269 and 55 fields.
func decodeRequest(msg *quickfix.Message) (mdRequest, error) {
	var r mdRequest
	body := msg.String()
	for len(body) > 0 {
		var f string
		f, body, _ = strings.Cut(body, "\x01")
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch k {
		case "262":
			r.reqID = v
		case "263":
			r.subType = v
		case "264":
			n, err := strconv.Atoi(v)
			if err != nil {
				return r, fmt.Errorf("MarketDepth (264) %q is not a number", v)
			}
			r.depth = n
		case "265":
			r.updateType = v
		case "266":
			r.aggregated = v
		case "269":
			r.types = append(r.types, v)
		case "55":
			r.symbols = append(r.symbols, v)
		}
	}
	return r, nil
}

// request answers one MarketDataRequest.
func (md *MarketData) request(comp string, msg *quickfix.Message) {
	md.mu.Lock()
	defer md.mu.Unlock()
	defer md.reap()
	s := md.session(comp)
	if s == nil || !s.online || s.cut {
		return
	}
	r, err := decodeRequest(msg)
	reject := func(reason, text string) {
		md.stats.rejects.Add(1)
		m := newMsg("Y")
		m.Body.SetString(tagMDReqID, r.reqID)
		if reason != "" {
			m.Body.SetString(tagMDReqRejReason, reason)
		}
		m.Body.SetString(tagText, text)
		md.enqueue(s, mdOut{msg: m})
	}
	if err != nil {
		reject("", err.Error())
		return
	}
	if !s.limit.allow(md.cfg.Now()) {
		reject("2", fmt.Sprintf("throttle: more than %d requests per second", md.cfg.RequestsPerSecond))
		return
	}
	if r.subType == "2" {
		sub := s.subs[r.reqID]
		if sub == nil {
			reject("", fmt.Sprintf("unknown MDReqID %q: nothing to unsubscribe", r.reqID))
			return
		}
		md.unsubscribe(sub)
		return
	}
	key := feedKey{depth: r.depth}
	switch {
	case len(r.reqID) > maxMDReqIDLen:
		reject("", fmt.Sprintf("MDReqID (262) longer than %d characters", maxMDReqIDLen))
		return
	case r.subType == "1" && s.subs[r.reqID] != nil:
		reject("1", fmt.Sprintf("duplicate MDReqID %q: already subscribed", r.reqID))
		return
	case r.depth < 0 || r.depth > md.cfg.MaxDepth:
		reject("5", fmt.Sprintf("MarketDepth (264) %d is not offered: 0 full book or 1 to %d", r.depth, md.cfg.MaxDepth))
		return
	case r.subType == "1" && r.updateType != "" && r.updateType != "1":
		reject("6", "MDUpdateType (265) must be 1 (incremental refresh)")
		return
	case r.aggregated == "N":
		reject("7", "AggregatedBook (266) must be Y: the venue publishes aggregated price levels")
		return
	}
	for _, t := range r.types {
		switch t {
		case "0":
			key.types |= mdTypeBid
		case "1":
			key.types |= mdTypeOffer
		case "2":
			key.types |= mdTypeTrade
		default:
			reject("8", fmt.Sprintf("MDEntryType (269) %q is not offered: 0 bid, 1 offer, 2 trade", t))
			return
		}
	}
	if key.types == 0 {
		reject("8", "no MDEntryType (269)")
		return
	}
	if len(r.symbols) > md.cfg.MaxSymbolsPerRequest {
		reject("2", fmt.Sprintf("at most %d symbols per request", md.cfg.MaxSymbolsPerRequest))
		return
	}
	var books []*mdBook
	for _, name := range r.symbols {
		sym, ok := md.uni.SymbolByName(name)
		if !ok {
			reject("0", fmt.Sprintf("unknown symbol %q", name))
			return
		}
		if b := md.book(sym.Spec.ID); b != nil && !slices.Contains(books, b) {
			books = append(books, b)
		}
	}
	if len(books) == 0 {
		reject("0", "no Symbol (55)")
		return
	}
	if r.subType == "1" && len(s.subs) >= md.cfg.MaxSubscriptions {
		reject("2", fmt.Sprintf("at most %d subscriptions per session", md.cfg.MaxSubscriptions))
		return
	}
	sub := &mdSub{reqID: r.reqID, sess: s}
	now := md.cfg.Now().UnixNano()
	// A snapshot shows the book as published: changes folded in and not
	// yet sent (conflation) go out first, to the feeds that had them.
	for _, b := range books {
		if b.busy() {
			md.flush()
			break
		}
	}
	for _, b := range books {
		f := b.feeds[key]
		if f == nil {
			f = b.newFeed(key)
		}
		w, n := md.snapshotMsg(r.reqID, b, f)
		md.enqueue(s, mdOut{msg: w, size: mdSize(n)})
		if b.status != matching.StatusOpen {
			md.enqueue(s, mdOut{msg: statusMsg(b.sym.Name, b.status, now, false)})
		}
		if r.subType == "1" {
			f.subs = append(f.subs, sub)
			b.feeds[key] = f
			sub.books = append(sub.books, b)
			sub.feeds = append(sub.feeds, f)
		}
	}
	if r.subType == "1" {
		s.subs[r.reqID] = sub
	}
}

// snapshotMsg is the W of feed f: its book now and the RptSeq of the last
// update it includes; the next X of the feed carries RptSeq + 1.
func (md *MarketData) snapshotMsg(reqID string, b *mdBook, f *mdFeed) (*quickfix.Message, int) {
	m := newMsg("W")
	m.Body.SetString(tagMDReqID, reqID)
	m.Body.SetString(tagSymbol, b.sym.Name)
	m.Body.SetString(tagRptSeq, strconv.FormatUint(f.rptSeq, 10))
	grp := quickfix.NewRepeatingGroup(tagNoMDEntries, md.wTemplate)
	entries := b.snapshot(f)
	for _, e := range entries {
		r := grp.Add()
		r.SetString(tagMDEntryType, string(e.typ))
		r.SetField(tagMDEntryPx, quickfix.FIXString(e.px))
		r.SetField(tagMDEntrySize, quickfix.FIXString(e.size))
	}
	m.Body.SetGroup(grp)
	return m, len(entries)
}
