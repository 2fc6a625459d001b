package fix

import (
	"github.com/quickfixgo/quickfix"
	"go.uber.org/zap"
)

// startWatchedAcceptor is StartAcceptor with a quickfixgo
// ConnectionValidator installed before the acceptor starts: the validator
// sees each session's connection (the guard's, on the client's own socket),
// which is how market data can cut a subscriber that does not keep up.
// storeSize bounds the sent messages each session keeps for resend; 0
// keeps none (a ResendRequest is answered with a gap fill).
func startWatchedAcceptor(cfg AcceptorConfig, app quickfix.Application, v quickfix.ConnectionValidator, storeSize int, log *zap.Logger) (*Acceptor, error) {
	cfg.Validator = v
	cfg.ResendKept = storeSize
	if storeSize == 0 {
		cfg.ResendKept = -1
	}
	cfg.Anchor = listenerAnchor + "MD__"
	return StartAcceptor(cfg, app, log)
}
