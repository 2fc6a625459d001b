package fix

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/quickfixgo/quickfix"
	"github.com/quickfixgo/quickfix/store/file"
	"go.uber.org/zap"

	"venue/fix/guard"
)

// listenerAnchor is the TargetCompID of the one static session.
const listenerAnchor = "__ANCHOR__"

// AcceptorConfig configures one FIX acceptor behind the guard.
type AcceptorConfig struct {
	Addr           string // public host:port
	CompID         string // the venue's SenderCompID
	DictionaryPath string // data dictionary file (spec.WriteFIX44)
	HeartBtInt     int    // seconds; the client's 108 wins
	// TLSCertFile and TLSKeyFile switch the public listener to TLS.
	TLSCertFile, TLSKeyFile string
	Guard                   guard.Options
	// StaticSessions, when set, are the only CompIDs that may connect;
	// their sessions live as long as the acceptor, keep their sequence
	// numbers across connections and venue restarts (no reset at Logon),
	// and store what they are sent in StoreDir, so a session that was away
	// gets what it missed by ordinary resend. Without: dynamic sessions,
	// reset at every Logon, a bounded in-memory store.
	StaticSessions []string
	StoreDir       string
	// LogFactory receives quickfixgo's session logs (default: none).
	LogFactory quickfix.LogFactory
	// ClientWriteTimeout bounds each write to a client: one that takes
	// nothing that long is cut (guard.Options.ClientWriteTimeout).
	ClientWriteTimeout time.Duration
	// Validator, when set, is quickfixgo's ConnectionValidator, installed
	// before the acceptor starts: it sees each session's connection.
	Validator quickfix.ConnectionValidator
	// ResendKept is how many sent messages a dynamic session keeps for
	// resend: 0 the default (ringStoreSize), negative none (a
	// ResendRequest is answered with a gap fill).
	ResendKept int
	// Anchor is the TargetCompID of the anchor session of a dynamic
	// acceptor (default listenerAnchor); each acceptor in a process needs
	// its own, since quickfixgo's session registry is per process.
	Anchor string
	// WrapStores, when set, wraps the static sessions' store factory
	// (tests put a failing store under the drop copy this way).
	WrapStores func(quickfix.MessageStoreFactory) quickfix.MessageStoreFactory
}

// Acceptor is a quickfixgo acceptor accepting on the guard's listener
// (third_party/quickfix's SetListener): quickfixgo reads each client's
// connection through the guard, which passes on only frames it validated
// (see fix/guard), and writes to it directly, each write bounded by
// ClientWriteTimeout. (It used to sit on a loopback port behind the
// guard's proxy: one more read and write of every byte each way; the
// proxy's copying was 8 % of the CPU in BenchmarkMDFanout's profile.)
type Acceptor struct {
	acc    *quickfix.Acceptor
	stores *storeCapture
	ln     *guard.Listener
}

// StartAcceptor starts app behind the guard on cfg.Addr.
//
// Sessions are dynamic (any CompID may connect; the application's
// FromAdmin decides at Logon) and start at MsgSeqNum 1 on every Logon
// (ResetOnLogon): the venue's state lives in its journal, not in the FIX
// session; what a session missed while away comes at its next Logon.
func StartAcceptor(cfg AcceptorConfig, app quickfix.Application, log *zap.Logger) (*Acceptor, error) {
	if log == nil {
		log = zap.NewNop()
	}
	pub, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("fix: listen %s: %w", cfg.Addr, err)
	}
	port := pub.Addr().(*net.TCPAddr).Port
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			_ = pub.Close()
			return nil, fmt.Errorf("fix: tls: %w", err)
		}
		pub = tls.NewListener(pub, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	gopts := cfg.Guard
	if cfg.ClientWriteTimeout != 0 {
		gopts.ClientWriteTimeout = cfg.ClientWriteTimeout
	}
	ln := guard.Listen(pub, gopts, log)
	heart := cfg.HeartBtInt
	if heart <= 0 {
		heart = 30
	}
	settings := quickfix.NewSettings()
	gs := settings.GlobalSettings()
	for k, v := range map[string]string{
		"SocketAcceptPort":         strconv.Itoa(port), // the guard's listener's: sessions are matched by port
		"BeginString":              quickfix.BeginStringFIX44,
		"SenderCompID":             cfg.CompID,
		"DynamicSessions":          yn(len(cfg.StaticSessions) == 0),
		"ResetOnLogon":             yn(len(cfg.StaticSessions) == 0),
		"HeartBtInt":               strconv.Itoa(heart),
		"LogoutTimeout":            "2",
		"PersistMessages":          yn(cfg.ResendKept >= 0),
		"DataDictionary":           cfg.DictionaryPath,
		"ValidateFieldsOutOfOrder": "N",
		"RejectInvalidMessage":     "Y",
	} {
		gs.Set(k, v)
	}
	kept := ringStoreSize
	if cfg.ResendKept != 0 {
		kept = max(cfg.ResendKept, 1)
	}
	var stores quickfix.MessageStoreFactory = newRingStoreFactory(kept)
	var capture *storeCapture
	if len(cfg.StaticSessions) > 0 {
		gs.Set("FileStorePath", cfg.StoreDir)
		gs.Set("FileStoreSync", "N")
		for _, comp := range cfg.StaticSessions {
			ss := quickfix.NewSessionSettings()
			ss.Set("TargetCompID", comp)
			if _, err := settings.AddSession(ss); err != nil {
				return nil, fmt.Errorf("fix: settings: %w", err)
			}
		}
		var inner quickfix.MessageStoreFactory = file.NewStoreFactory(settings)
		if cfg.WrapStores != nil {
			inner = cfg.WrapStores(inner)
		}
		capture = &storeCapture{inner: inner, stores: map[string]quickfix.MessageStore{}}
		stores = capture
	} else {
		// quickfixgo opens its listener only for declared sessions: declare
		// one that no directory entry matches (its Logon is refused like any
		// unknown CompID); every real session is dynamic.
		anchor := quickfix.NewSessionSettings()
		anchor.Set("TargetCompID", cmp.Or(cfg.Anchor, listenerAnchor))
		if _, err := settings.AddSession(anchor); err != nil {
			return nil, fmt.Errorf("fix: settings: %w", err)
		}
	}
	logs := cfg.LogFactory
	if logs == nil {
		logs = quickfix.NewNullLogFactory()
	}
	acc, err := quickfix.NewAcceptor(app, stores, settings, logs)
	if err != nil {
		_ = pub.Close()
		return nil, fmt.Errorf("fix: acceptor: %w", err)
	}
	if cfg.Validator != nil {
		acc.SetConnectionValidator(cfg.Validator)
	}
	acc.SetListener(ln)
	if err := acc.Start(); err != nil {
		_ = pub.Close()
		return nil, fmt.Errorf("fix: acceptor start: %w", err)
	}
	return &Acceptor{acc: acc, stores: capture, ln: ln}, nil
}

func yn(b bool) string {
	if b {
		return "Y"
	}
	return "N"
}

// storeCapture is the file store factory of static sessions, keeping each
// session's store so the venue can read what it last sent.
type storeCapture struct {
	inner  quickfix.MessageStoreFactory
	mu     sync.Mutex
	stores map[string]quickfix.MessageStore // by TargetCompID
}

func (c *storeCapture) Create(id quickfix.SessionID) (quickfix.MessageStore, error) {
	inner, err := c.inner.Create(id)
	if err != nil {
		return nil, err
	}
	st := &lockedStore{inner: inner}
	c.mu.Lock()
	c.stores[id.TargetCompID] = st
	c.mu.Unlock()
	return st, nil
}

// Store returns the message store of a static session.
func (a *Acceptor) Store(comp string) (quickfix.MessageStore, bool) {
	if a.stores == nil {
		return nil, false
	}
	a.stores.mu.Lock()
	defer a.stores.mu.Unlock()
	st, ok := a.stores.stores[comp]
	return st, ok
}

// Disconnect closes the connection of a session (the client's TCP
// connection, through the guard's listener) and reports whether it found one.
func (a *Acceptor) Disconnect(id quickfix.SessionID) bool {
	addr, ok := a.acc.RemoteAddr(id)
	if !ok {
		return false
	}
	return a.ln.CloseClient(addr.String()) > 0
}

// AddStaticSession adds a static session for comp to a running acceptor
// of static sessions (a drop-copy session added while the venue runs): its
// store is created in StoreDir like the others'.
func (a *Acceptor) AddStaticSession(comp string) error {
	if a.stores == nil {
		return fmt.Errorf("fix: acceptor: %s: not an acceptor of static sessions", comp)
	}
	ss := quickfix.NewSessionSettings()
	ss.Set("TargetCompID", comp)
	_, err := a.acc.AddStaticSession(ss)
	return err
}

// Addr is the public address.
func (a *Acceptor) Addr() net.Addr { return a.ln.Addr() }

// GuardStats are the guard's counters.
func (a *Acceptor) GuardStats() guard.Stats { return a.ln.Stats() }

// Stop closes the public listener and every connection, then the acceptor
// (which logs every session out).
func (a *Acceptor) Stop() error {
	err := a.ln.Close()
	a.ln.CloseAll()
	a.acc.Stop()
	return err
}

// lockedStore serializes a message store. quickfixgo calls its store from
// the session goroutine (Logon, resend) and from whoever calls
// SendToTarget; the file store's in-memory cache has no lock of its own.
type lockedStore struct {
	mu    sync.Mutex
	inner quickfix.MessageStore
}

func (s *lockedStore) NextSenderMsgSeqNum() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.NextSenderMsgSeqNum()
}

func (s *lockedStore) NextTargetMsgSeqNum() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.NextTargetMsgSeqNum()
}

func (s *lockedStore) IncrNextSenderMsgSeqNum() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.IncrNextSenderMsgSeqNum()
}

func (s *lockedStore) IncrNextTargetMsgSeqNum() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.IncrNextTargetMsgSeqNum()
}

func (s *lockedStore) SetNextSenderMsgSeqNum(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.SetNextSenderMsgSeqNum(n)
}

func (s *lockedStore) SetNextTargetMsgSeqNum(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.SetNextTargetMsgSeqNum(n)
}

func (s *lockedStore) CreationTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.CreationTime()
}

func (s *lockedStore) SetCreationTime(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inner.SetCreationTime(t)
}

func (s *lockedStore) SaveMessage(seq int, msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.SaveMessage(seq, msg)
}

func (s *lockedStore) SaveMessageAndIncrNextSenderMsgSeqNum(seq int, msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.SaveMessageAndIncrNextSenderMsgSeqNum(seq, msg)
}

// SaveMessagesAndIncrNextSenderMsgSeqNum saves a batch in one go when the
// inner store can (quickfix.BatchMessageStore: the file store writes each
// of its files once), one by one otherwise.
func (s *lockedStore) SaveMessagesAndIncrNextSenderMsgSeqNum(first int, msgs [][]byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return quickfix.SaveBatch(s.inner, first, msgs)
}

// GetMessages and IterateMessages go to the file store without the lock:
// they read the store's files through their own handles (after syncing
// under the store's file lock) and touch none of its cached counters; the
// callback sends, and sending uses the store. Each call scans the store's
// header file from its start, so call them for whole ranges, not chunks.
func (s *lockedStore) GetMessages(begin, end int) ([][]byte, error) {
	return s.inner.GetMessages(begin, end)
}

func (s *lockedStore) IterateMessages(begin, end int, cb func([]byte) error) error {
	return s.inner.IterateMessages(begin, end, cb)
}

func (s *lockedStore) Refresh() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.Refresh()
}

func (s *lockedStore) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.Reset()
}

func (s *lockedStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.inner.Close()
}
