package sequencer

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"venue/journal"
	"venue/matching"
)

// The crash test: a child process (this test binary, TestCrashChild) runs
// the sequencer with the real engine under the generated load and prints
// "ack <seq> <hash>" for each command only once its result is back, which
// is after the fsync covering it. The parent kills it with SIGKILL at
// random moments and restarts it; after every restart it checks that each
// acknowledged command is in the journal under its seq with the same
// bytes, that the journal holds exactly the generated commands 1..last
// (none twice, none missing), and that the state the child recovered
// (snapshot + replay) hashes like a clean replay of the whole journal.

const (
	envCrashDir  = "VENUE_CRASH_CHILD"
	envCrashSeed = "VENUE_CRASH_SEED"
	crashWindow  = 512 // commands in flight in the child
	// crashRate paces the child (commands per second) so the journal, and
	// the clean replay after every restart, stay small enough for the
	// test's time limit; a batch still gathers many commands per fsync.
	crashRate = 20_000
)

var crashLoad = func(seed uint64) load { return load{seed: seed, accounts: 8} }

func TestCrashShort(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	runCrash(t, 10, 30*time.Millisecond, 300*time.Millisecond)
}

// TestCrashLong is make crash: VENUE_CRASH_LONG=1 go test -run TestCrashLong -v ./sequencer/
func TestCrashLong(t *testing.T) {
	if os.Getenv("VENUE_CRASH_LONG") != "1" {
		t.Skip("set VENUE_CRASH_LONG=1")
	}
	runCrash(t, 60, 30*time.Millisecond, 700*time.Millisecond)
}

func crashSeed(t *testing.T) uint64 {
	if v := os.Getenv(envCrashSeed); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s: %v", envCrashSeed, err)
		}
		return seed
	}
	return uint64(time.Now().UnixNano())
}

func runCrash(t *testing.T, kills int, minRun, maxRun time.Duration) {
	seed := crashSeed(t)
	// A failing seed is a regression test: VENUE_CRASH_SEED=<seed>.
	t.Logf("crash: seed %d", seed)
	fmt.Printf("crash: seed %d\n", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	dir := t.TempDir()
	l := crashLoad(seed)
	acked := map[uint64]string{}
	var maxAcked uint64
	restarts, lost, killsDone, earlyKills := 0, 0, 0, 0
	start := time.Now()

	for round := 0; ; round++ {
		child := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		child.Env = append(os.Environ(), envCrashDir+"="+dir, fmt.Sprintf("%s=%d", envCrashSeed, seed))
		child.Stderr = os.Stderr
		stdin, err := child.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := child.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
		if round > 0 {
			restarts++
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		readAcks := func(line string) {
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != "ack" {
				return
			}
			seq, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				t.Fatalf("bad ack line %q", line)
			}
			if prev, ok := acked[seq]; ok && prev != f[2] {
				t.Fatalf("seq %d acknowledged twice with different commands", seq)
			}
			acked[seq] = f[2]
			maxAcked = max(maxAcked, seq)
		}

		// Now and then kill during recovery, before the child is ready.
		if round > 0 && round < kills && rng.IntN(8) == 0 {
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
			child.Process.Kill()
			for line := range lines {
				readAcks(line)
			}
			child.Wait()
			killsDone++
			earlyKills++
			continue
		}

		var ready string
		for line := range lines {
			if strings.HasPrefix(line, "ready ") {
				ready = line
				break
			}
		}
		if ready == "" {
			child.Process.Kill()
			child.Wait()
			t.Fatalf("round %d: child exited before it was ready", round)
		}
		var lastSeq uint64
		var hash string
		if _, err := fmt.Sscanf(ready, "ready %d %s", &lastSeq, &hash); err != nil {
			t.Fatalf("ready line %q: %v", ready, err)
		}
		// The child waits for "go": check its recovery on a quiet journal.
		lost += checkRecovery(t, dir, l, lastSeq, hash, acked, maxAcked)

		if round == kills {
			stdin.Close() // the child exits without submitting
			for range lines {
			}
			child.Wait()
			break
		}
		io.WriteString(stdin, "go\n")
		timer := time.After(minRun + time.Duration(rng.Int64N(int64(maxRun-minRun))))
	run:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("round %d: child exited by itself", round)
				}
				readAcks(line)
			case <-timer:
				break run
			}
		}
		child.Process.Kill() // SIGKILL
		for line := range lines {
			readAcks(line)
		}
		child.Wait()
		killsDone++
	}
	summary := fmt.Sprintf("crash: kills=%d restarts=%d acked=%d lost=%d", killsDone, restarts, len(acked), lost)
	t.Logf("%s (%d during recovery, last seq %d, %s)", summary, earlyKills, maxAcked, time.Since(start).Round(time.Millisecond))
	fmt.Println(summary)
	if lost != 0 {
		t.Fatalf("%d acknowledged commands lost", lost)
	}
	if len(acked) == 0 {
		t.Fatal("no command was acknowledged")
	}
}

// checkRecovery compares what a restarted child recovered with the journal
// and with the acknowledgments; it returns how many acknowledged commands
// are missing or different.
func checkRecovery(t *testing.T, dir string, l load, lastSeq uint64, hash string, acked map[uint64]string, maxAcked uint64) int {
	t.Helper()
	lost := 0
	if maxAcked > lastSeq {
		for seq := lastSeq + 1; seq <= maxAcked; seq++ {
			if _, ok := acked[seq]; ok {
				lost++
			}
		}
		t.Errorf("recovered last seq %d, but seq %d was acknowledged", lastSeq, maxAcked)
	}
	eng := matching.New()
	var c matching.Command
	next := uint64(1)
	_, err := journal.Replay(journal.OSFS{}, dir, 1, func(seq uint64, p []byte) error {
		if seq != next {
			return fmt.Errorf("seq %d after %d", seq, next-1)
		}
		next++
		if h, ok := acked[seq]; ok && h != ackHash(p) {
			lost++
			t.Errorf("seq %d: journal holds a command other than the acknowledged one", seq)
		}
		if err := journal.DecodeCommand(p, &c); err != nil {
			return fmt.Errorf("seq %d: %w", seq, err)
		}
		// Command seq of the load must sit at seq: none applied twice,
		// none skipped.
		want := l.command(seq)
		want.Seq, want.Time = c.Seq, c.Time
		if string(journal.AppendCommand(nil, &want)) != string(p) {
			return fmt.Errorf("seq %d does not hold generated command %d", seq, seq)
		}
		eng.Apply(&c)
		return nil
	})
	if err != nil {
		t.Fatalf("journal: %v", err)
	}
	if next-1 != lastSeq {
		t.Fatalf("journal ends at %d, child recovered %d", next-1, lastSeq)
	}
	if h := eng.StateHash(); hex.EncodeToString(h[:]) != hash {
		t.Fatalf("recovered state hash %s, clean replay of %d records %x", hash, lastSeq, h)
	}
	return lost
}

func ackHash(payload []byte) string {
	h := sha256.Sum256(payload)
	return hex.EncodeToString(h[:12])
}

// TestCrashChild is the process the crash test kills.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(envCrashDir)
	if dir == "" {
		t.Skip("run by TestCrashShort and TestCrashLong")
	}
	l := crashLoad(crashSeed(t))
	s, rec, err := Open(dir, matching.New(), Config{SnapshotEvery: 5_000, SegmentSize: 1 << 20, Logger: quiet})
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash child:", err)
		os.Exit(2)
	}
	fmt.Printf("ready %d %s\n", rec.LastSeq, rec.StateHashHex())
	if line, _ := bufio.NewReader(os.Stdin).ReadString('\n'); line != "go\n" {
		s.Close()
		os.Exit(0)
	}
	acks := make(chan string, 4*crashWindow)
	go func() {
		w := bufio.NewWriterSize(os.Stdout, 64<<10)
		for a := range acks {
			w.WriteString(a)
			if len(acks) == 0 {
				w.Flush()
			}
		}
	}()
	window := make(chan struct{}, crashWindow)
	began := time.Now()
	for i := rec.LastSeq + 1; ; i++ {
		c := l.command(i)
		window <- struct{}{}
		if n := i - rec.LastSeq; n%32 == 0 {
			if ahead := time.Duration(n)*time.Second/crashRate - time.Since(began); ahead > 0 {
				time.Sleep(ahead)
			}
		}
		for {
			err := s.SubmitAsync(&c, func(r Result) {
				if r.Err != nil {
					fmt.Fprintln(os.Stderr, "crash child:", r.Err)
					os.Exit(2)
				}
				if r.Seq != i {
					fmt.Fprintf(os.Stderr, "crash child: command %d got seq %d\n", i, r.Seq)
					os.Exit(2)
				}
				c.Seq, c.Time = r.Seq, r.Time
				acks <- fmt.Sprintf("ack %d %s\n", r.Seq, ackHash(journal.AppendCommand(nil, &c)))
				<-window
			})
			if err == ErrQueueFull {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "crash child:", err)
				os.Exit(2)
			}
			break
		}
	}
}
