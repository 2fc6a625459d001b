package guard

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// Listener accepts connections whose Read returns only frames the guard let
// through. It is safe for concurrent use.
type Listener struct {
	inner net.Listener
	opts  Options
	log   *zap.Logger
	stats stats

	mu    sync.Mutex
	conns map[*Conn]struct{} // open, for CloseClient and CloseAll
}

// Listen wraps inner. log receives one warn line per frame that broke a rule
// (nil discards them).
func Listen(inner net.Listener, opts Options, log *zap.Logger) *Listener {
	if log == nil {
		log = zap.NewNop()
	}
	return &Listener{inner: inner, opts: opts.withDefaults(), log: log, conns: map[*Conn]struct{}{}}
}

// Accept waits for the next connection and wraps it.
func (l *Listener) Accept() (net.Conn, error) {
	c, err := l.inner.Accept()
	if err != nil {
		return nil, err
	}
	gc := newConn(c, l.opts, l.log, &l.stats)
	gc.ln = l
	l.mu.Lock()
	l.conns[gc] = struct{}{}
	l.mu.Unlock()
	return gc, nil
}

// Close closes the inner listener; accepted connections stay open.
func (l *Listener) Close() error { return l.inner.Close() }

// CloseClient closes the open connections whose client address is remote
// (host:port) and reports how many it closed: the venue's way to
// disconnect one session, which quickfixgo has no public call for.
func (l *Listener) CloseClient(remote string) int {
	var cut []*Conn
	l.mu.Lock()
	for c := range l.conns {
		if c.RemoteAddr().String() == remote {
			cut = append(cut, c)
		}
	}
	l.mu.Unlock()
	for _, c := range cut {
		_ = c.Close()
	}
	return len(cut)
}

// CloseAll closes every open connection.
func (l *Listener) CloseAll() {
	l.mu.Lock()
	all := make([]*Conn, 0, len(l.conns))
	for c := range l.conns {
		all = append(all, c)
	}
	l.mu.Unlock()
	for _, c := range all {
		_ = c.Close()
	}
}

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Stats counts frames over every connection accepted so far.
func (l *Listener) Stats() Stats { return l.stats.snapshot() }

// Stats counts what the guard did with inbound frames.
type Stats struct {
	Passed    uint64 // valid frames handed to quickfixgo
	Forwarded uint64 // frames with an anomaly quickfixgo rejects itself
	Dropped   uint64 // garbled frames ignored, connection kept
	Cut       uint64 // connections closed
}

type stats struct {
	passed, forwarded, dropped, cut atomic.Uint64
}

func (s *stats) snapshot() Stats {
	return Stats{
		Passed:    s.passed.Load(),
		Forwarded: s.forwarded.Load(),
		Dropped:   s.dropped.Load(),
		Cut:       s.cut.Load(),
	}
}

// Conn is an accepted connection. Read returns whole frames that passed the
// guard, in order, and nothing else; Write and the rest pass through.
//
// What happens to a frame that breaks a rule is its FrameError's Action:
//   - Forward: a zero or negative tag, or a BeginString other than FIX.4.4,
//     in a frame that is otherwise fully valid. quickfixgo answers the first
//     with a Reject (35=3, 371=tag) and the session goes on, the second with
//     a Logout, as the FIX session tests 14a and 2i expect.
//   - Drop: a garbled frame: bad CheckSum, a BodyLength that does not end
//     the body at CheckSum, MsgType not third, a field quickfixgo cannot
//     parse, bytes between frames. FIX ignores such a frame without
//     advancing the expected MsgSeqNum, and so does the guard. quickfixgo
//     v0.9.10 itself never checks CheckSum and would process a frame whose
//     CheckSum is wrong; dropping it is what FIX (session test 3b) and the
//     venue's FIX.md ask for.
//   - Cut: anything that would crash or stall quickfixgo (an empty or
//     non-numeric MsgSeqNum, BeginSeqNo, NewSeqNo ..., a length field whose
//     data field does not match it, a huge BodyLength), a frame it would
//     misread (a tag with a leading zero), or a stream that cannot be framed
//     within the limits. The connection is closed and only that one.
//
// Every rule break is logged at warn. The first frame of a connection (the
// Logon) is held to every rule: any break cuts, as quickfixgo drops a
// connection whose first message does not parse; it must also arrive within
// Options.LogonTimeout. After Options.MaxBadFrames dropped or forwarded
// frames the connection is cut too. Memory per connection is bounded by one
// frame of Options.MaxBodyLength plus one read. The guard owns the read
// deadline until the first frame has arrived and clears it then.
type Conn struct {
	net.Conn
	sc    *Scanner
	opts  Options
	log   *zap.Logger
	stats *stats

	pending []byte // the rest of the frame being read
	frames  int    // frames seen, valid or not
	bad     int    // dropped or forwarded frames
	err     error  // sticky read error

	ln        *Listener // tracks the connection while it is open
	closeOnce sync.Once
	closeErr  error
}

func newConn(c net.Conn, opts Options, log *zap.Logger, st *stats) *Conn {
	return &Conn{
		Conn:  c,
		sc:    NewScanner(c, opts),
		opts:  opts,
		log:   log.With(zap.String("remote", c.RemoteAddr().String())),
		stats: st,
	}
}

// Read returns bytes of frames that passed the guard. Once the connection is
// cut it returns the *FrameError that cut it.
func (c *Conn) Read(p []byte) (int, error) {
	if len(c.pending) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		frame, err := c.nextFrame()
		if err != nil {
			c.err = err
			return 0, err
		}
		c.pending = frame
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// nextFrame returns the next frame that may go to quickfixgo, dropping and
// cutting on the way as the rules say.
func (c *Conn) nextFrame() ([]byte, error) {
	if c.frames == 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.opts.LogonTimeout))
	}
	for {
		frame, err := c.sc.Next()
		if c.frames == 0 {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				c.log.Warn("fix guard: frame broke a rule",
					zap.String("action", Cut.String()),
					zap.String("rule", ErrLogonTimeout.Error()),
					zap.Duration("timeout", c.opts.LogonTimeout))
				c.stats.cut.Add(1)
				_ = c.Close()
				return nil, &FrameError{Err: ErrLogonTimeout, Action: Cut}
			}
			_ = c.Conn.SetReadDeadline(time.Time{})
		}
		c.frames++
		if err == nil {
			c.stats.passed.Add(1)
			return frame, nil
		}
		var fe *FrameError
		if !errors.As(err, &fe) {
			return nil, err // the connection's own read error or EOF
		}
		action := fe.Action
		if action != Cut {
			c.bad++
			switch {
			case c.opts.Strict:
				action = Cut
			case c.frames == 1:
				action = Cut
			case c.bad > c.opts.MaxBadFrames:
				action = Cut
			}
		}
		c.log.Warn("fix guard: frame broke a rule",
			zap.String("action", action.String()),
			zap.String("rule", fe.Err.Error()),
			zap.Int("tag", fe.Tag),
			zap.Int("offset", fe.Offset),
			zap.Int("frameBytes", len(frame)),
			zap.Int("frame", c.frames),
			zap.Int("badFrames", c.bad))
		switch action {
		case Forward:
			c.stats.forwarded.Add(1)
			return frame, nil
		case Drop:
			c.stats.dropped.Add(1)
			continue
		}
		c.stats.cut.Add(1)
		_ = c.Close()
		return nil, &FrameError{Err: fe.Err, Tag: fe.Tag, Offset: fe.Offset, Action: Cut}
	}
}

// Write writes to the client, each write bounded by
// Options.ClientWriteTimeout: a client that takes nothing that long is
// stuck, and is cut (the connection closed, so the venue's session ends,
// cancel-on-disconnect included) instead of its writer waiting for ever.
func (c *Conn) Write(p []byte) (int, error) {
	if c.opts.ClientWriteTimeout > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.opts.ClientWriteTimeout))
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.log.Warn("fix guard: client not reading: cut", zap.Duration("write_timeout", c.opts.ClientWriteTimeout))
			c.stats.cut.Add(1)
		}
		_ = c.Close()
	}
	return n, err
}

// Close closes the connection once.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.Conn.Close()
		if c.ln != nil {
			c.ln.mu.Lock()
			delete(c.ln.conns, c)
			c.ln.mu.Unlock()
		}
	})
	return c.closeErr
}
