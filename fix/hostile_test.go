package fix_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawSession is a hand-framed FIX connection for sending what no engine
// would: it logs on as comp, then writes whatever frames it is given.
type rawSession struct {
	conn   net.Conn
	comp   string
	seq    int
	closed chan struct{} // closed when the venue closed the connection
}

func frame(body string) []byte {
	head := fmt.Sprintf("8=FIX.4.4\x019=%d\x01", len(body))
	sum := 0
	for _, c := range []byte(head + body) {
		sum += int(c)
	}
	return []byte(fmt.Sprintf("%s%s10=%03d\x01", head, body, sum%256))
}

func (r *rawSession) header(msgType string) string {
	r.seq++
	return fmt.Sprintf("35=%s\x0149=%s\x0156=VENUE\x0134=%d\x0152=%s\x01", msgType, r.comp, r.seq,
		time.Now().UTC().Format("20060102-15:04:05.000"))
}

// dialRaw logs on as comp and returns the session, or nil when the venue
// refused or closed the connection (e.g. the CompID's previous connection
// is not gone yet).
func dialRaw(t testing.TB, addr, comp string) *rawSession {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	r := &rawSession{conn: conn, comp: comp, closed: make(chan struct{})}
	logon := r.header("A") + "98=0\x01108=30\x01141=Y\x01553=" + comp + "\x01554=" + strings.ToLower(comp) + "\x01"
	if _, err := conn.Write(frame(logon)); err != nil {
		t.Fatal(err)
	}
	// Wait for the venue's Logon, then drain whatever comes back, so the
	// venue is never blocked on us.
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	got := ""
	for !strings.Contains(got, "\x0135=A\x01") {
		n, err := conn.Read(buf)
		if err != nil {
			conn.Close()
			return nil
		}
		got += string(buf[:n])
	}
	_ = conn.SetReadDeadline(time.Time{})
	go func() {
		defer close(r.closed)
		buf := make([]byte, 64<<10)
		for {
			if _, err := conn.Read(buf); err != nil {
				return
			}
		}
	}()
	return r
}

// hostileFrame returns one frame meant to hurt: the three frames that stop
// an unguarded quickfixgo (an empty MsgSeqNum, a huge BodyLength, a huge
// XmlDataLen), byte-level damage to a valid order, garbage, or a valid
// order with a mutated field.
func (r *rawSession) hostileFrame(rng *rand.Rand) []byte {
	// The price is outside the band (reference 60,000, +-20 %): a frame
	// whose mutation leaves it a valid order (59=0, Day) is rejected, never
	// rests ahead of the traders' buys at 59,000 and takes their fills.
	order := "11=h" + strconv.Itoa(r.seq) + "\x0155=BTC-USD\x0154=1\x0160=20260101-00:00:00\x0138=0.01\x0140=2\x0144=40000\x01"
	// One frame in twenty is one of the three crashers (each cuts the
	// connection: reconnecting costs far more than a frame).
	k := 3 + rng.IntN(4)
	if rng.IntN(20) == 0 {
		k = rng.IntN(3)
	}
	switch k {
	case 0: // empty 34=
		return frame("35=D\x0149=" + r.comp + "\x0156=VENUE\x0134=\x0152=20260101-00:00:00\x01" + order)
	case 1: // huge BodyLength
		return []byte("8=FIX.4.4\x019=99999999999999\x0135=D\x0149=" + r.comp + "\x01")
	case 2: // huge XmlDataLen
		return frame(r.header("n") + "212=999999\x01213=<a/>\x01")
	case 3: // a valid order with bytes flipped
		f := frame(r.header("D") + order)
		for n := 1 + rng.IntN(4); n > 0; n-- {
			f[rng.IntN(len(f))] = byte(rng.IntN(256))
		}
		return f
	case 6: // garbage
		b := make([]byte, 1+rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	case 5: // a field with a hostile value
		vals := []string{"", "-1", "99999999999999999999", "x", "=", "0"}
		tags := []string{"38", "44", "54", "40", "59", "7928", "126", "1"}
		return frame(r.header("D") + order + tags[rng.IntN(len(tags))] + "=" + vals[rng.IntN(len(vals))] + "\x01")
	default: // 4: a truncated frame
		f := frame(r.header("D") + order)
		return f[:rng.IntN(len(f))]
	}
}

// TestHostileFramesAgainstTheVenue: hostile frames from a logged-on session
// (reconnecting whenever the guard cuts it) while two other sessions trade:
// the process lives, and every order of the traders is acknowledged and
// filled exactly as without the attack. make test sends 2,000 (each cut
// connection costs a new Logon); `make hostile` sends 10,000. fix/guard's
// TestHostileFrames sends 10,000 in make test to an echo application.
func TestHostileFramesAgainstTheVenue(t *testing.T) {
	total := 2_000
	if s := os.Getenv("FIX_HOSTILE_FRAMES"); s != "" {
		total, _ = strconv.Atoi(s)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("FIX_HOSTILE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (FIX_HOSTILE_SEED reproduces the frames)", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	srv, cfg := startVenue(t, venueOpts{})
	a := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_A")
	b := logon(t, cfg.FIX.OrderEntryAddr, "FIRM_B")

	// judged counts the frames the guard has decided on, less the traders'
	// own messages (their Logons and orders).
	const orders = 300
	judged := func() uint64 {
		st := srv.OEAcc.GuardStats()
		n := st.Passed + st.Forwarded + st.Dropped + st.Cut
		if own := uint64(2 + 2*orders); n > own {
			return n - own
		}
		return 0
	}
	attack := make(chan int)
	go func() {
		sent := 0
		logon := func() *rawSession {
			for {
				if r := dialRaw(t, cfg.FIX.OrderEntryAddr, "FIRM_C"); r != nil {
					return r
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
		r := logon()
		for judged() < uint64(total) && sent < 5*total {
			if _, err := r.conn.Write(r.hostileFrame(rng)); err == nil {
				sent++
			}
			// Let the guard catch up now and then, so frames are judged
			// rather than written into a connection it already cut.
			if sent%20 == 0 {
				time.Sleep(time.Millisecond)
			}
			select {
			case <-r.closed:
				r.conn.Close()
				r = logon()
			default:
			}
		}
		r.conn.Close()
		attack <- sent
	}()

	for i := 0; i < orders; i++ {
		buy := a.order("1", "0.01", "59000")
		a.expect("35=8", "11="+buy, "150=0")
		sell := b.order("2", "0.01", "59000")
		if m := b.expect("35=8", "11="+sell, "150=F"); m[39] != "2" || !m.dec(t, 32).Equal(d("0.01")) {
			t.Fatalf("trade %d: %v", i, m)
		}
		if m := a.expect("35=8", "11="+buy, "150=F"); m[39] != "2" || m[851] != "1" {
			t.Fatalf("trade %d maker: %v", i, m)
		}
	}
	sent := <-attack
	st := srv.OEAcc.GuardStats()
	t.Logf("%d hostile frames sent; guard: passed %d, forwarded %d, dropped %d, connections cut %d",
		sent, st.Passed, st.Forwarded, st.Dropped, st.Cut)
	if st.Cut == 0 || st.Dropped == 0 || judged() < uint64(total) {
		t.Fatalf("the guard judged %d hostile frames (want %d), cut %d connections, dropped %d frames", judged(), total, st.Cut, st.Dropped)
	}
	// The venue still serves: a new order after the attack.
	cl := a.order("1", "0.01", "58000")
	a.expect("35=8", "11="+cl, "150=0")
}
