package fix

import (
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	"github.com/quickfixgo/quickfix"
	"go.uber.org/zap"

	"venue/fix/guard"
)

// startWatchedAcceptor is StartAcceptor with a quickfixgo
// ConnectionValidator installed before the acceptor starts: the validator
// sees each session's connection (the acceptor's side of the guard proxy),
// which is how market data can cut a subscriber that does not keep up.
// quickfixgo has no public way to disconnect a session, and setting the
// validator after Start would race with the accept loop.
//
// storeSize bounds the sent messages each session keeps for resend; 0
// keeps none (a ResendRequest is answered with a gap fill).
// It repeats StartAcceptor's settings; keep the two in step (or give
// AcceptorConfig a validator and drop this copy).
func startWatchedAcceptor(cfg AcceptorConfig, app quickfix.Application, v quickfix.ConnectionValidator, storeSize int, log *zap.Logger) (*Acceptor, error) {
	if log == nil {
		log = zap.NewNop()
	}
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fix: internal listener: %w", err)
	}
	port := inner.Addr().(*net.TCPAddr).Port
	_ = inner.Close()
	heart := cfg.HeartBtInt
	if heart <= 0 {
		heart = 30
	}
	settings := quickfix.NewSettings()
	gs := settings.GlobalSettings()
	for k, v := range map[string]string{
		"SocketAcceptHost":         "127.0.0.1",
		"SocketAcceptPort":         strconv.Itoa(port),
		"BeginString":              quickfix.BeginStringFIX44,
		"SenderCompID":             cfg.CompID,
		"DynamicSessions":          "Y",
		"ResetOnLogon":             "Y",
		"HeartBtInt":               strconv.Itoa(heart),
		"LogoutTimeout":            "2",
		"UseTCPProxy":              "Y",
		"PersistMessages":          yn(storeSize > 0),
		"DataDictionary":           cfg.DictionaryPath,
		"ValidateFieldsOutOfOrder": "N",
		"RejectInvalidMessage":     "Y",
	} {
		gs.Set(k, v)
	}
	// The anchor session (see StartAcceptor) has its own TargetCompID:
	// quickfixgo's session registry is per process.
	anchor := quickfix.NewSessionSettings()
	anchor.Set("TargetCompID", listenerAnchor+"MD__")
	if _, err := settings.AddSession(anchor); err != nil {
		return nil, fmt.Errorf("fix: settings: %w", err)
	}
	acc, err := quickfix.NewAcceptor(app, newRingStoreFactory(max(storeSize, 1)), settings, quickfix.NewNullLogFactory())
	if err != nil {
		return nil, fmt.Errorf("fix: acceptor: %w", err)
	}
	acc.SetConnectionValidator(v)
	if err := acc.Start(); err != nil {
		return nil, fmt.Errorf("fix: acceptor start: %w", err)
	}
	pub, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		acc.Stop()
		return nil, fmt.Errorf("fix: listen %s: %w", cfg.Addr, err)
	}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			_ = pub.Close()
			acc.Stop()
			return nil, fmt.Errorf("fix: tls: %w", err)
		}
		pub = tls.NewListener(pub, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	a := &Acceptor{acc: acc, done: make(chan error, 1)}
	a.ln = guard.Listen(pub, cfg.Guard, log)
	a.proxy = guard.NewProxy(a.ln, guard.ProxyOptions{Upstream: fmt.Sprintf("127.0.0.1:%d", port), SendProxyHeader: true}, log)
	go func() { a.done <- a.proxy.Serve() }()
	return a, nil
}
