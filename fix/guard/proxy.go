package guard

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Proxy puts the guard in front of a quickfixgo acceptor it cannot hand a
// listener: one in another process, or an unpatched quickfixgo.
//
// The venue itself no longer uses it: its patched quickfixgo accepts on the
// guard's Listener directly (third_party/quickfix SetListener), which saves
// a read and a write of every byte each way. Upstream quickfixgo v0.9.10
// has no way to hand its Acceptor a listener: Start opens its own with
// net.Listen or tls.Listen (acceptor.go:100-110) and keeps them in an
// unexported map. So the acceptor listens on a loopback port that clients
// cannot reach, and the Proxy listens on the public port through a guard
// Listener, dials the acceptor once per client connection and copies bytes
// both ways: inbound only what the guard passed, outbound untouched.
// Closing either side closes the other. fix/guard's own tests run the FIX
// session test scripts and the hostile frames through it.
//
// With SendProxyHeader the Proxy first writes a PROXY protocol v1 line with
// the client's address, and the acceptor, started with UseTCPProxy=Y, reports
// that address (Acceptor.RemoteAddr, ConnectionValidator) instead of the
// proxy's. The acceptor then trusts that line from whoever connects, so its
// port must be reachable only by the proxy.
type Proxy struct {
	ln              *Listener
	upstream        string
	sendProxyHeader bool
	writeTimeout    time.Duration
	log             *zap.Logger

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// ProxyOptions configure a Proxy.
type ProxyOptions struct {
	// Upstream is the acceptor's address, e.g. "127.0.0.1:19878".
	Upstream string
	// SendProxyHeader writes a PROXY protocol v1 line first; the acceptor
	// must run with UseTCPProxy=Y.
	SendProxyHeader bool
	// ClientWriteTimeout bounds each write to the client (default
	// DefaultClientWriteTimeout): a client that takes nothing that long is
	// cut.
	ClientWriteTimeout time.Duration
}

// DefaultClientWriteTimeout is how long a write to a client may wait
// before the proxy gives up on the client.
const DefaultClientWriteTimeout = 60 * time.Second

// copyWithDeadline copies src to dst, each write to dst bounded by timeout.
func copyWithDeadline(dst, src net.Conn, timeout time.Duration) error {
	if gc, ok := dst.(*Conn); ok {
		dst = gc.Conn // the proxy's timeout, not the listener's
	}
	buf := make([]byte, copyBufferSize)
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			_ = dst.SetWriteDeadline(time.Now().Add(timeout))
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return rerr
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// dialTimeout bounds the dial to the acceptor on loopback.
const dialTimeout = 5 * time.Second

// copyBufferSize is each direction's buffer, per connection.
const copyBufferSize = 16 << 10

// NewProxy returns a proxy accepting on ln and forwarding to opts.Upstream.
func NewProxy(ln *Listener, opts ProxyOptions, log *zap.Logger) *Proxy {
	if log == nil {
		log = zap.NewNop()
	}
	return &Proxy{
		ln:              ln,
		upstream:        opts.Upstream,
		sendProxyHeader: opts.SendProxyHeader,
		writeTimeout:    cmp.Or(opts.ClientWriteTimeout, DefaultClientWriteTimeout),
		log:             log,
		conns:           make(map[net.Conn]struct{}),
	}
}

// Serve accepts connections until Close; it returns nil after Close.
func (p *Proxy) Serve() error {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			p.mu.Lock()
			closed := p.closed
			p.mu.Unlock()
			if closed || errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("fix guard: accept: %w", err)
		}
		if !p.track(c) {
			_ = c.Close()
			return nil
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			p.pipe(c)
		}()
	}
}

// Close stops accepting, closes every proxied connection and waits for
// their goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

// Addr is where clients connect.
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

// CloseClient closes the proxied connections whose client address is
// remote (host:port) and reports how many it closed: the venue's way to
// disconnect one session, which quickfixgo has no public call for.
func (p *Proxy) CloseClient(remote string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		if c.RemoteAddr().String() == remote {
			_ = c.Close()
			n++
		}
	}
	return n
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// pipe joins one client to a fresh acceptor connection until either ends.
func (p *Proxy) pipe(client net.Conn) {
	defer client.Close()
	up, err := net.DialTimeout("tcp", p.upstream, dialTimeout)
	if err != nil {
		p.log.Error("fix guard: dial acceptor", zap.String("upstream", p.upstream), zap.Error(err))
		return
	}
	defer up.Close()
	if p.sendProxyHeader {
		if _, err := io.WriteString(up, proxyHeader(client.RemoteAddr(), up.RemoteAddr())); err != nil {
			p.log.Error("fix guard: write PROXY header", zap.Error(err))
			return
		}
	}
	upDone := make(chan struct{})
	go func() {
		// The acceptor's side ends (logout, disconnect): end the client's.
		// A client that takes nothing for ClientWriteTimeout is stuck: it
		// is cut, so the venue's session ends (cancel-on-disconnect) instead
		// of its writer waiting for ever.
		if err := copyWithDeadline(client, up, p.writeTimeout); err != nil && isTimeout(err) {
			p.log.Warn("fix guard: client not reading: cut", zap.String("remote", client.RemoteAddr().String()),
				zap.Duration("write_timeout", p.writeTimeout))
		}
		_ = client.Close()
		_ = up.Close()
		close(upDone)
	}()
	_, err = io.CopyBuffer(up, client, make([]byte, copyBufferSize))
	if tcp, ok := up.(*net.TCPConn); ok && err == nil {
		// The client finished sending: let the acceptor's answer (a
		// Logout) still reach it; quickfixgo closes after it sees EOF.
		_ = tcp.CloseWrite()
	} else {
		// A cut or a broken connection ends both sides now.
		_ = client.Close()
		_ = up.Close()
	}
	<-upDone
}

// proxyHeader is a PROXY protocol v1 line: the client's address as source,
// the acceptor's as destination, since quickfixgo checks the destination
// port against its own (acceptor.go:318).
func proxyHeader(src, dst net.Addr) string {
	s, sok := src.(*net.TCPAddr)
	d, dok := dst.(*net.TCPAddr)
	if !sok || !dok {
		return "PROXY UNKNOWN\r\n"
	}
	family := "TCP4"
	if s.IP.To4() == nil || d.IP.To4() == nil {
		family = "TCP6"
	}
	if family == "TCP4" {
		return fmt.Sprintf("PROXY TCP4 %s %s %d %d\r\n", s.IP.To4(), d.IP.To4(), s.Port, d.Port)
	}
	return fmt.Sprintf("PROXY TCP6 %s %s %d %d\r\n", s.IP.To16(), d.IP.To16(), s.Port, d.Port)
}
