package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestEndToEnd builds the venue binary, starts `venue dev` on free ports
// with a fresh data directory, loads it for 2 s with a maker and a taker
// session through the FIX order entry, and checks that orders were
// acknowledged, trades happened and nothing was rejected. Then the
// `venue loadtest --json` command itself runs a second, short load, and
// SIGTERM stops the venue cleanly.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts the venue")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "venue")
	build := exec.Command("go", "build", "-o", bin, "venue/cmd/venue")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	// Port 0 everywhere: each listener gets its own free port (picking
	// free ports first races with other tests); venue dev prints the
	// order-entry address before "ready".
	dev := exec.Command(bin, "dev", "--data", filepath.Join(dir, "data"))
	dev.Env = append(os.Environ(),
		"VENUE_FIX_ORDER_ENTRY_ADDR=127.0.0.1:0",
		"VENUE_FIX_DROP_COPY_ADDR=127.0.0.1:0",
		"VENUE_FIX_MARKET_DATA_ADDR=127.0.0.1:0",
		"VENUE_OPS_ADDR=127.0.0.1:0",
		"VENUE_DATABASE_URL=postgres://postgres@127.0.0.1:1/none?sslmode=disable",
		"VENUE_LOG_LEVEL=warn",
	)
	var oe string
	var stderr bytes.Buffer
	dev.Stderr = &stderr
	stdout, err := dev.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := dev.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = dev.Process.Kill()
			<-exited
		}
	})
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "FIX 4.4 order entry on "); ok {
				oe, _, _ = strings.Cut(rest, ",")
			}
			if strings.TrimSpace(line) == "ready" {
				close(ready)
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		exited <- dev.Wait()
	}()
	select {
	case <-ready:
	case err := <-exited:
		stopped = true
		t.Fatalf("venue dev exited before ready: %v\n%s", err, stderr.String())
	case <-time.After(15 * time.Second):
		t.Fatalf("venue dev: no ready line in 15 s\n%s", stderr.String())
	}

	// 1. The library: 2 s, a maker and a taker session.
	cfg := DefaultConfig()
	cfg.Addr = oe
	cfg.CompIDs = []string{"FIRM_A", "FIRM_B"}
	cfg.Duration = 2 * time.Second
	cfg.Window = 16
	cfg.Seed = 7
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("run: %v\nvenue stderr:\n%s", err, tail(stderr.String(), 4000))
	}
	t.Logf("%d orders acked (%.0f/s), %d trades, %d fills, %s BTC, %s USD, p50 %.0fµs p99 %.0fµs, cancel rejects %v",
		res.Acks, res.OrdersPerSec, res.Trades, res.Fills, res.VolumeBTC, res.NotionalUSD.StringFixed(2),
		res.Latency.P50, res.Latency.P99, res.CancelRejects)
	if res.Acks == 0 || res.Fills == 0 || res.Trades == 0 {
		t.Fatalf("acks %d, fills %d, trades %d: want all > 0", res.Acks, res.Fills, res.Trades)
	}
	if n := res.UnexpectedRejects(); n != 0 {
		t.Fatalf("%d unexpected rejects: %+v, session %d, business %d", n, res.RejectsByReason, res.SessionRejects, res.BusinessRejects)
	}
	if res.Unanswered != 0 {
		t.Fatalf("%d orders unanswered", res.Unanswered)
	}

	// 2. The command, with --json, on the same venue (new ClOrdIDs).
	cmd := exec.Command(bin, "loadtest", "--addr", oe, "--sessions", "2", "--duration", "1s", "--json", "--no-progress", "--seed", "8")
	cmd.Env = os.Environ()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("venue loadtest: %v\n%s", err, out)
	}
	var got Result
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("venue loadtest --json: %v\n%s", err, out)
	}
	if got.Acks == 0 || got.UnexpectedRejects() != 0 || len(got.Sessions) != 2 {
		t.Fatalf("venue loadtest --json: %s", out)
	}

	// 3. SIGTERM stops the venue cleanly.
	if err := dev.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			t.Fatalf("venue dev after SIGTERM: %v\n%s", err, tail(stderr.String(), 4000))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("venue dev did not stop within 10 s of SIGTERM")
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
