package guard_test

import (
	"log"
	"net"
	"strings"

	"github.com/quickfixgo/quickfix"
	"go.uber.org/zap"

	"venue/fix/guard"
)

// How the acceptor wires the guard in: quickfixgo listens on a loopback
// port no client can reach, with UseTCPProxy=Y so it sees each client's own
// address; the public port is a guard Listener behind a Proxy. TLS, when
// configured, terminates in front of the guard (wrap the public listener
// with tls.NewListener), since the guard must read plain FIX.
func Example() {
	settings, err := quickfix.ParseSettings(strings.NewReader(`
[DEFAULT]
SocketAcceptHost=127.0.0.1
SocketAcceptPort=19878
UseTCPProxy=Y
BeginString=FIX.4.4
SenderCompID=VENUE
DataDictionary=spec/FIX44.xml
[SESSION]
TargetCompID=FIRM_A
`))
	if err != nil {
		log.Fatal(err)
	}
	var app quickfix.Application // the venue's order entry
	acc, err := quickfix.NewAcceptor(app, quickfix.NewMemoryStoreFactory(), settings, quickfix.NewNullLogFactory())
	if err != nil {
		log.Fatal(err)
	}
	if err := acc.Start(); err != nil {
		log.Fatal(err)
	}
	defer acc.Stop()

	public, err := net.Listen("tcp", "127.0.0.1:9878")
	if err != nil {
		log.Fatal(err)
	}
	logger := zap.NewExample().Named("fix")
	proxy := guard.NewProxy(
		guard.Listen(public, guard.Options{MaxBodyLength: 64 << 10}, logger),
		guard.ProxyOptions{Upstream: "127.0.0.1:19878", SendProxyHeader: true},
		logger)
	go func() {
		if err := proxy.Serve(); err != nil {
			logger.Error("fix guard proxy", zap.Error(err))
		}
	}()
	defer proxy.Close()
}
