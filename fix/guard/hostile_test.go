package guard

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
)

// dangerous are fields that broke, or nearly broke, quickfixgo; the mutator
// splices them into otherwise valid messages.
var dangerous = []string{
	"34=", "34=-1", "34=+2", "34=99999999999999999999", "9=", "9=5", "8=FIX.4.4", "10=000",
	"212=999999|213=<a/>", "212=|213=x", "212=2|213=abX5=c", "212=9223372036854775807|213=x",
	"212=3|58=abc", "95=3|96=a\x01b", "95=1|96=abc", "93=2|89=ab", "354=|355=x",
	"7=-9223372036854775807", "16=", "36=", "36=-5", "108=", "108=-1", "789=", "383=",
	"034=", "0034=5", "18446744073709551650=", "-18446744073709551582=", "0=x", "-1=x",
	"43=X", "43=", "97=", "123=", "141=", "52=", "52=bad", "122=20261301-00:00:00",
	"=x", "abc", "4garbled9=TW", "35=", "49=", "56=",
}

// values replace a field's value.
var values = []string{
	"", "0", "-1", "-0", "+1", "007", "9999999", "99999999", "9223372036854775807",
	"9223372036854775808", "18446744073709551616", "Y", "N", "x", "\x01", "=", "1=2",
	"20260101-12:00:00", "20260101-12:00:00.000000000", "FIX.4.4",
}

// hostile returns a mutation of the client's next message: field-level
// mutations, then usually a correct BodyLength and CheckSum so the frame
// reaches the deeper rules and quickfixgo, sometimes byte-level damage on
// top that breaks the framing.
func hostile(rng *rand.Rand, c *client) []byte {
	bodies := [][2]string{
		{"0", ""},
		{"1", "112=T|"},
		{"D", "11=O|21=1|38=1|40=2|44=100|54=1|55=BTC-USD|60=" + now() + "|"},
		{"F", "11=C|41=O|54=1|55=BTC-USD|60=" + now() + "|"},
		{"2", "7=1|16=0|"},
		{"4", "123=Y|36=" + strconv.Itoa(c.seq+1) + "|"},
		{"3", "45=1|58=x|"},
		{"n", "212=5|213=<a/>|"},
		{"A", logonBody()},
	}
	b := bodies[rng.IntN(len(bodies))]
	fields := strings.Split(strings.TrimSuffix(sohs("35="+b[0]+"|"+c.header()+b[1]), "\x01"), "\x01")
	c.seq++

	for n := 1 + rng.IntN(3); n > 0; n-- {
		i := rng.IntN(len(fields))
		switch rng.IntN(6) {
		case 0: // a new value
			tag, _, _ := strings.Cut(fields[i], "=")
			fields[i] = tag + "=" + values[rng.IntN(len(values))]
		case 1: // a dangerous field somewhere
			d := sohs(dangerous[rng.IntN(len(dangerous))])
			fields = append(fields[:i], append([]string{d}, fields[i:]...)...)
		case 2: // a field less
			if len(fields) > 1 {
				fields = append(fields[:i], fields[i+1:]...)
			}
		case 3: // a field twice
			fields = append(fields[:i], append([]string{fields[i]}, fields[i:]...)...)
		case 4: // two fields swapped
			j := rng.IntN(len(fields))
			fields[i], fields[j] = fields[j], fields[i]
		case 5: // an empty value
			tag, _, _ := strings.Cut(fields[i], "=")
			fields[i] = tag + "="
		}
	}
	body := strings.Join(fields, "\x01") + "\x01"
	var frame []byte
	if rng.IntN(4) > 0 {
		frame = frameOf(body)
	} else {
		n := len(body) + rng.IntN(21) - 10
		if rng.IntN(10) == 0 {
			n = rng.IntN(100_000_000)
		}
		frame = withChecksum(fmt.Sprintf("8=FIX.4.4\x019=%d\x01%s", n, body))
		if rng.IntN(2) == 0 {
			frame[len(frame)-2] ^= 1
		}
	}
	if rng.IntN(5) == 0 { // byte-level damage
		switch i := rng.IntN(len(frame)); rng.IntN(4) {
		case 0:
			frame[i] = byte(rng.IntN(256))
		case 1:
			frame = append(frame[:i], append([]byte{"\x01=09"[rng.IntN(4)]}, frame[i:]...)...)
		case 2:
			frame = append(frame[:i], frame[min(len(frame), i+1+rng.IntN(8)):]...)
		case 3:
			frame = append([]byte("junk"), frame...)
		}
	}
	return frame
}

// TestHostileFrames sends 10,000 mutated frames from logged-on sessions, one
// connection at a time and a new one after every cut, while another session
// keeps trading: the process never exits and every round trip of the other
// session is answered.
func TestHostileFrames(t *testing.T) {
	total := 10_000
	if s := os.Getenv("GUARD_HOSTILE_FRAMES"); s != "" {
		total, _ = strconv.Atoi(s)
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("GUARD_HOSTILE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("seed %d (GUARD_HOSTILE_SEED=%d reproduces the frames)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	attackers := []string{"H0", "H1", "H2", "H3", "H4", "H5", "H6", "H7"}
	v := startVenue(t, venueConfig{
		sessions: append([]string{"TRADER"}, attackers...),
		dict:     true,
		log:      zap.NewNop(),
	})

	// The other session trades until the attack is over.
	trader := dialLogon(t, v.addr, "TRADER")
	stop := make(chan struct{})
	var trips atomic.Int64
	var traderErr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := trader.roundTrip("t" + strconv.Itoa(i)); err != nil {
				traderErr = err
				return
			}
			trips.Add(1)
		}
	}()

	sent, conns := 0, 0
	deadline := time.Now().Add(45 * time.Second)
	for sent < total {
		if time.Now().After(deadline) {
			t.Fatalf("only %d frames sent in time", sent)
		}
		comp := attackers[conns%len(attackers)]
		conns++
		a := dialLogon(t, v.addr, comp)
		closed := make(chan struct{})
		go func() { // drain what quickfixgo answers; notice the cut
			defer close(closed)
			for {
				if _, err := a.read(time.Minute); err != nil {
					return
				}
			}
		}()
		for sent < total {
			before := v.ln.Stats()
			if err := a.write(hostile(rng, a)); err != nil {
				break
			}
			sent++
			if waitJudged(v.ln, before, closed) {
				break
			}
		}
		a.conn.Close()
		<-closed
	}
	close(stop)
	wg.Wait()
	if traderErr != nil {
		t.Fatalf("trader after %d round trips: %v", trips.Load(), traderErr)
	}
	if err := trader.roundTrip("final"); err != nil {
		t.Fatalf("trader at the end: %v", err)
	}
	st := v.ln.Stats()
	t.Logf("%d hostile frames over %d connections; guard %+v; trader round trips %d", sent, conns, st, trips.Load())
	if st.Cut == 0 || st.Dropped == 0 || st.Forwarded == 0 || trips.Load() == 0 {
		t.Fatalf("the attack did not exercise every path: %+v, trader %d", st, trips.Load())
	}
}

// waitJudged waits briefly until the guard has judged another frame, and
// reports whether the connection has been closed.
func waitJudged(ln *Listener, before Stats, closed <-chan struct{}) bool {
	for i := 0; i < 200; i++ {
		select {
		case <-closed:
			return true
		default:
		}
		st := ln.Stats()
		if st.Cut > before.Cut {
			<-closed
			return true
		}
		if st.Passed+st.Dropped+st.Forwarded > before.Passed+before.Dropped+before.Forwarded {
			return false
		}
		time.Sleep(50 * time.Microsecond)
	}
	return false
}

// TestHostileChild is the child half of
// TestHostileFramesKillUnguardedQuickfixgo: with GUARD_HOSTILE_CHILD set it
// sends the same kind of frames to an unguarded acceptor.
func TestHostileChild(t *testing.T) {
	if os.Getenv("GUARD_HOSTILE_CHILD") == "" {
		t.Skip("runs only as the child process of TestHostileFramesKillUnguardedQuickfixgo")
	}
	rng := rand.New(rand.NewPCG(1, 0))
	comps := []string{"H0", "H1", "H2", "H3"}
	v := startVenue(t, venueConfig{sessions: comps, dict: true, unguarded: true})
	for sent, k := 0, 0; sent < 10_000; k++ {
		a := dialLogon(t, v.addr, comps[k%len(comps)])
		for i := 0; i < 20 && sent < 10_000; i++ {
			if a.write(hostile(rng, a)) != nil {
				break
			}
			sent++
			time.Sleep(200 * time.Microsecond)
		}
		a.conn.Close()
	}
	fmt.Println("STILL ALIVE")
}

// TestHostileFramesKillUnguardedQuickfixgo shows the attack of
// TestHostileFrames is a real one: without the guard it ends the process.
func TestHostileFramesKillUnguardedQuickfixgo(t *testing.T) {
	if os.Getenv("GUARD_HOSTILE_CHILD") != "" {
		t.Skip("child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "GUARD_HOSTILE_CHILD=1", "GUARD_TEST_FIX44="+fix44Dictionary(t))
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || !strings.Contains(string(out), "panic: runtime error") {
		t.Fatalf("unguarded acceptor survived the attack (err %v):\n%s", err, out)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "third_party/quickfix/") {
			t.Logf("unguarded quickfixgo panicked at %s", strings.TrimSpace(line))
			break
		}
	}
}
