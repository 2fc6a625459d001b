// Package interop proves the venue speaks FIX 4.4 to an engine it was not
// written with: QuickFIX C++ (Debian's libquickfix-dev 1.15.1) logs on to
// `venue dev` and trades through the scenario of qfcpp/client.cpp, and this
// test checks every answer against the venue's FIX dialect (FIX.md).
//
// The test needs g++ and libquickfix-dev (`make deps` installs them through
// scripts/ensure-quickfix.sh); without them it fails, it never skips.
package interop

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shopspring/decimal"
)

const (
	readyTimeout  = 20 * time.Second // venue dev up and listening
	clientTimeout = 40 * time.Second // the whole C++ scenario
	stopTimeout   = 10 * time.Second // venue dev exits after SIGINT
	heartBtInt    = "30"             // HeartBtInt of client.cfg.tmpl
)

// TestQuickFIXCpp runs the QuickFIX C++ client against a fresh `venue dev`
// twice: without a data dictionary (Debian ships no FIX44.xml), and with
// QuickFIX C++ validating every venue message against the venue's own
// published dictionary, spec/FIX44.xml.
func TestQuickFIXCpp(t *testing.T) {
	dir := t.TempDir()

	// 1. build the C++ client and the venue, side by side
	var wg sync.WaitGroup
	var clientErr, venueErr error
	client := filepath.Join(dir, "qfclient")
	venueBin := filepath.Join(dir, "venue")
	wg.Add(2)
	go func() { defer wg.Done(); clientErr = buildClient(client) }()
	go func() { defer wg.Done(); venueErr = buildVenue(venueBin) }()
	wg.Wait()
	if clientErr != nil {
		t.Fatal(clientErr)
	}
	if venueErr != nil {
		t.Fatal(venueErr)
	}
	dict, err := filepath.Abs(filepath.Join("..", "..", "spec", "FIX44.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dict); err != nil {
		t.Fatalf("the venue's data dictionary: %v", err)
	}

	tests := []struct {
		name string
		dict string // DataDictionary of the client; "" is UseDataDictionary=N
	}{
		{name: "no dictionary"},
		{name: "venue dictionary", dict: dict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runScenario(t, client, venueBin, tt.dict)
		})
	}
}

// runScenario runs the client's scenario once against a venue of its own.
func runScenario(t *testing.T, client, venueBin, dict string) {
	dir := t.TempDir()

	// 2. start venue dev on free loopback ports and a fresh data dir
	v := startVenue(t, venueBin, dir)

	// 3. run the scenario
	cfg := writeSettings(t, dir, v.orderEntryPort, dict)
	ctx, cancel := context.WithTimeout(context.Background(), clientTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, client, cfg)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("client stdout:\n%s", out)
			t.Logf("client stderr:\n%s", stderr.String())
			logQuickFIXEvents(t, filepath.Join(dir, "log"))
		}
	})
	if ctx.Err() != nil {
		t.Fatalf("client did not finish in %s", clientTimeout)
	}
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("client: %v", err) // 1 is timeouts, reported below
		}
	}

	// 4. QuickFIX C++ took every message: a message it rejects (35=3, its
	// event log says why) never reaches the scenario
	for _, r := range quickFIXRejects(t, filepath.Join(dir, "log")) {
		if dict != "" {
			t.Errorf("QuickFIX C++ validating with %s rejected a venue message: %s\n"+
				"(the venue sends what its published dictionary does not allow: fix the message or spec/FIX44.xml)", dict, r)
		} else {
			t.Errorf("QuickFIX C++ rejected a venue message: %s", r)
		}
	}

	// 5. check every answer
	tr := parseTranscript(t, string(out))
	checkScenario(t, tr)

	// 6. SIGINT stops the venue cleanly
	v.stop(t)

	// 7. a client that follows the dialect is no fault of the venue's: its
	// FIX layer logs no error (STYLE.md: error is for our own faults)
	for _, line := range strings.Split(v.stderr.String(), "\n") {
		var rec struct{ Level, Logger, Msg string }
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		if strings.EqualFold(rec.Level, "error") && strings.HasPrefix(rec.Logger, "fix") {
			t.Errorf("venue dev logged an error: %s", line)
		}
	}
}

// quickFIXRejects returns the lines of QuickFIX's session event logs that
// report an inbound message rejected ("Message 5 Rejected: ...").
func quickFIXRejects(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "FIX.4.4-*.event.current.log"))
	if err != nil {
		t.Fatal(err)
	}
	var rejects []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, " Rejected: ") {
				rejects = append(rejects, filepath.Base(f)+": "+strings.TrimSpace(line))
			}
		}
	}
	return rejects
}

// buildClient compiles qfcpp/client.cpp against the system's QuickFIX C++.
// QuickFIX 1.15's headers use dynamic exception specifications, gone in
// C++17, hence gnu++14.
func buildClient(out string) error {
	gxx, err := exec.LookPath("g++")
	if err != nil {
		return fmt.Errorf("g++ not found (%v): run `make deps` (installs g++ and libquickfix-dev)", err)
	}
	src, err := filepath.Abs(filepath.Join("qfcpp", "client.cpp"))
	if err != nil {
		return err
	}
	cmd := exec.Command(gxx, "-std=gnu++14", "-O0", "-Wall", "-Wno-deprecated", "-Wno-deprecated-declarations",
		"-o", out, src, "-lquickfix", "-lpthread")
	msg, err := cmd.CombinedOutput()
	if err != nil {
		hint := ""
		if strings.Contains(string(msg), "quickfix/") || strings.Contains(string(msg), "-lquickfix") {
			hint = "\nQuickFIX C++ (libquickfix-dev) is missing: run `make deps`"
		}
		return fmt.Errorf("compile %s: %v\n%s%s", src, err, msg, hint)
	}
	return nil
}

// buildVenue builds cmd/venue, the binary under test.
func buildVenue(out string) error {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("go not found: %v", err)
	}
	cmd := exec.Command(goBin, "build", "-o", out, "venue/cmd/venue")
	msg, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("go build venue/cmd/venue: %v\n%s", err, msg)
	}
	return nil
}

// devVenue is a running `venue dev`.
type devVenue struct {
	cmd            *exec.Cmd
	orderEntryPort int
	exited         chan struct{} // closed once the process has been waited for
	waitErr        error
	stdout, stderr syncBuffer
}

// syncBuffer is a strings.Builder safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startVenue starts `venue dev` with every listener on a free loopback port
// and a fresh data directory under dir, and waits for its `ready` line. A
// port taken by someone else between freePorts and the venue's bind costs
// a retry on new ports, not a failure.
func startVenue(t *testing.T, bin, dir string) *devVenue {
	t.Helper()
	const attempts = 3
	for attempt := 1; ; attempt++ {
		v, err := launchVenue(t, bin, dir, filepath.Join(dir, fmt.Sprintf("data-%d", attempt)))
		if err == nil {
			t.Cleanup(func() {
				v.kill()
				if t.Failed() {
					t.Logf("venue dev stdout:\n%s", v.stdout.String())
					t.Logf("venue dev stderr (last 8 KiB):\n%s", tail(v.stderr.String(), 8<<10))
				}
			})
			return v
		}
		if attempt < attempts && strings.Contains(v.stderr.String(), "address already in use") {
			continue
		}
		t.Fatalf("%v\nstdout:\n%s\nstderr (last 8 KiB):\n%s", err, v.stdout.String(), tail(v.stderr.String(), 8<<10))
	}
}

// launchVenue starts one `venue dev --data dataDir` and waits for `ready`;
// on an error the process is gone and v keeps its output.
func launchVenue(t *testing.T, bin, dir, dataDir string) (*devVenue, error) {
	ports := freePorts(t, 4)
	v := &devVenue{orderEntryPort: ports[0], exited: make(chan struct{})}
	v.cmd = exec.Command(bin, "dev", "--data", dataDir)
	v.cmd.Dir = dir // whatever it writes stays out of the source tree
	v.cmd.Env = append(venueFreeEnv(),
		fmt.Sprintf("VENUE_FIX_ORDER_ENTRY_ADDR=127.0.0.1:%d", ports[0]),
		fmt.Sprintf("VENUE_FIX_DROP_COPY_ADDR=127.0.0.1:%d", ports[1]),
		fmt.Sprintf("VENUE_FIX_MARKET_DATA_ADDR=127.0.0.1:%d", ports[2]),
		fmt.Sprintf("VENUE_OPS_ADDR=127.0.0.1:%d", ports[3]),
	)
	v.cmd.Stderr = &v.stderr
	stdout, err := v.cmd.StdoutPipe()
	if err != nil {
		return v, err
	}
	if err := v.cmd.Start(); err != nil {
		return v, fmt.Errorf("start venue dev: %w", err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		said := false
		for sc.Scan() {
			_, _ = v.stdout.Write([]byte(sc.Text() + "\n"))
			if line := strings.TrimSpace(sc.Text()); !said && (line == "ready" || strings.HasPrefix(line, "ready ")) {
				said = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		v.waitErr = v.cmd.Wait() // after the last read: Wait closes the pipe
		close(v.exited)
	}()
	select {
	case <-ready:
		return v, nil
	case <-v.exited:
		return v, fmt.Errorf("venue dev exited before its ready line: %v", v.waitErr)
	case <-time.After(readyTimeout):
		v.kill()
		return v, fmt.Errorf("venue dev printed no ready line in %s", readyTimeout)
	}
}

// kill ends the venue if it still runs and waits for it.
func (v *devVenue) kill() {
	select {
	case <-v.exited:
	default:
		_ = v.cmd.Process.Kill()
		<-v.exited
	}
}

// stop sends SIGINT and expects a clean exit 0.
func (v *devVenue) stop(t *testing.T) {
	t.Helper()
	if err := v.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("SIGINT venue dev: %v", err)
	}
	select {
	case <-v.exited:
		if v.waitErr != nil {
			t.Errorf("venue dev after SIGINT: %v, want exit 0", v.waitErr)
		}
	case <-time.After(stopTimeout):
		t.Errorf("venue dev still running %s after SIGINT", stopTimeout)
	}
}

// venueFreeEnv is the environment without the caller's VENUE_* settings,
// except the database URL a CI machine may need.
func venueFreeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VENUE_") && k != "VENUE_DATABASE_URL" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		_ = ln.Close()
	}
	return ports
}

// writeSettings fills in client.cfg.tmpl; dict "" runs without a data
// dictionary.
func writeSettings(t *testing.T, dir string, port int, dict string) string {
	t.Helper()
	tmpl, err := os.ReadFile(filepath.Join("qfcpp", "client.cfg.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	useDict := "UseDataDictionary=N"
	if dict != "" {
		useDict = "UseDataDictionary=Y\nDataDictionary=" + dict
	}
	s := strings.ReplaceAll(string(tmpl), "@PORT@", strconv.Itoa(port))
	s = strings.ReplaceAll(s, "@DIR@", dir)
	s = strings.ReplaceAll(s, "@DICTIONARY@", useDict)
	path := filepath.Join(dir, "client.cfg")
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// logQuickFIXEvents logs QuickFIX's own session event logs (FileLog).
func logQuickFIXEvents(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*.event.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil {
			t.Logf("%s:\n%s", filepath.Base(f), tail(string(b), 4<<10))
		}
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// fixMsg is one FIX message as the client printed it, fields in wire order.
type fixMsg struct {
	raw    string
	fields []field
}

type field struct {
	tag   int
	value string
}

func parseFIX(raw string) (fixMsg, error) {
	m := fixMsg{raw: raw}
	for _, f := range strings.Split(strings.TrimSuffix(raw, "|"), "|") {
		k, v, ok := strings.Cut(f, "=")
		tag, err := strconv.Atoi(k)
		if !ok || err != nil {
			return m, fmt.Errorf("bad field %q in %s", f, raw)
		}
		m.fields = append(m.fields, field{tag, v})
	}
	return m, nil
}

// get returns the first value of tag.
func (m fixMsg) get(tag int) (string, bool) {
	for _, f := range m.fields {
		if f.tag == tag {
			return f.value, true
		}
	}
	return "", false
}

func (m fixMsg) String() string { return m.raw }

// received is one message the client printed, with the session it came on.
type received struct {
	kind string // APP or ADMIN
	comp string // the client's CompID
	msg  fixMsg
}

// transcript is the client's output grouped by scenario step.
type transcript struct {
	steps    map[string][]received
	logons   map[string]bool
	logouts  map[string]bool
	timeouts []string
	done     bool
}

// app returns the application messages comp received during step.
func (tr transcript) app(step, comp string) []fixMsg {
	var ms []fixMsg
	for _, r := range tr.steps[step] {
		if r.kind == "APP" && r.comp == comp {
			ms = append(ms, r.msg)
		}
	}
	return ms
}

// admin returns the admin messages of type msgType comp received during step.
func (tr transcript) admin(step, comp, msgType string) []fixMsg {
	var ms []fixMsg
	for _, r := range tr.steps[step] {
		if v, _ := r.msg.get(35); r.kind == "ADMIN" && r.comp == comp && v == msgType {
			ms = append(ms, r.msg)
		}
	}
	return ms
}

func parseTranscript(t *testing.T, out string) transcript {
	t.Helper()
	tr := transcript{steps: map[string][]received{}, logons: map[string]bool{}, logouts: map[string]bool{}}
	step := "start"
	for _, line := range strings.Split(out, "\n") {
		kind, rest, _ := strings.Cut(line, " ")
		switch kind {
		case "STEP":
			step = rest
		case "APP", "ADMIN":
			comp, raw, _ := strings.Cut(rest, " ")
			m, err := parseFIX(raw)
			if err != nil {
				t.Fatal(err)
			}
			tr.steps[step] = append(tr.steps[step], received{kind, comp, m})
		case "LOGON":
			tr.logons[rest] = true
		case "LOGOUT":
			tr.logouts[rest] = true
		case "TIMEOUT":
			tr.timeouts = append(tr.timeouts, rest)
		case "DONE":
			tr.done = true
		}
	}
	return tr
}

// want is what one received message must carry.
type want struct {
	eq  map[int]string // exact values
	dec map[int]string // decimal values, compared as decimals
	set []int          // present, any value
	not []int          // absent
}

// check reports every way m differs from w.
func (w want) check(t *testing.T, what string, m fixMsg) {
	t.Helper()
	for _, tag := range sortedTags(w.eq) {
		v := w.eq[tag]
		got, ok := m.get(tag)
		if !ok {
			t.Errorf("%s: %d absent, want %d=%s\n  %s", what, tag, tag, v, m)
		} else if got != v {
			t.Errorf("%s: %d=%s, want %d=%s\n  %s", what, tag, got, tag, v, m)
		}
	}
	for _, tag := range sortedTags(w.dec) {
		v := w.dec[tag]
		wantDec := decimal.RequireFromString(v)
		got, ok := m.get(tag)
		if !ok {
			t.Errorf("%s: %d absent, want %d=%s\n  %s", what, tag, tag, v, m)
			continue
		}
		d, err := decimal.NewFromString(got)
		if err != nil {
			t.Errorf("%s: %d=%s is not a decimal\n  %s", what, tag, got, m)
		} else if !d.Equal(wantDec) {
			t.Errorf("%s: %d=%s, want %d=%s (as decimals)\n  %s", what, tag, got, tag, v, m)
		}
	}
	for _, tag := range w.set {
		if v, ok := m.get(tag); !ok || v == "" {
			t.Errorf("%s: %d absent or empty\n  %s", what, tag, m)
		}
	}
	for _, tag := range w.not {
		if v, ok := m.get(tag); ok {
			t.Errorf("%s: %d=%s present, want it absent\n  %s", what, tag, v, m)
		}
	}
}

func sortedTags(m map[int]string) []int {
	return slices.Sorted(maps.Keys(m))
}

// checkExecReport checks what FIX.md asks of every ExecutionReport: the
// fields always present, decimals that parse, 38 = 14 + 151 while working,
// 151 = 0 once terminal, and no 150=1/2, no 20, no 39=5.
func checkExecReport(t *testing.T, what string, m fixMsg) {
	t.Helper()
	want{eq: map[int]string{35: "8", 55: "BTC-USD"}, set: []int{37, 17, 150, 39, 54, 38, 14, 151, 6, 60, 11}, not: []int{20}}.check(t, what, m)
	dec := func(tag int) decimal.Decimal {
		v, _ := m.get(tag)
		d, err := decimal.NewFromString(v)
		if err != nil {
			t.Errorf("%s: %d=%q is not a decimal\n  %s", what, tag, v, m)
		}
		return d
	}
	qty, cum, leaves := dec(38), dec(14), dec(151)
	dec(6)
	execType, _ := m.get(150)
	ordStatus, _ := m.get(39)
	if execType == "1" || execType == "2" || ordStatus == "5" {
		t.Errorf("%s: 150=%s 39=%s: FIX 4.4 strictly has 150=F and no 39=5\n  %s", what, execType, ordStatus, m)
	}
	switch ordStatus {
	case "0", "1":
		if !qty.Equal(cum.Add(leaves)) {
			t.Errorf("%s: working order with 38=%s, 14+151=%s\n  %s", what, qty, cum.Add(leaves), m)
		}
	case "2", "4", "8", "C":
		if !leaves.IsZero() {
			t.Errorf("%s: terminal 39=%s with 151=%s, want 0\n  %s", what, ordStatus, leaves, m)
		}
	}
}

// exactlyOne fails unless ms holds exactly one message.
func exactlyOne(t *testing.T, what string, ms []fixMsg) (fixMsg, bool) {
	t.Helper()
	if len(ms) != 1 {
		var b strings.Builder
		for _, m := range ms {
			b.WriteString("\n  " + m.raw)
		}
		t.Errorf("%s: got %d messages, want 1:%s", what, len(ms), b.String())
		return fixMsg{}, false
	}
	return ms[0], true
}

// checkScenario holds the transcript to FIX.md, step by step (the steps of
// run() in qfcpp/client.cpp).
func checkScenario(t *testing.T, tr transcript) {
	const a, b = "FIRM_A", "FIRM_B"
	for _, to := range tr.timeouts {
		t.Errorf("client: no answer: %s", to)
	}
	if !tr.done {
		t.Errorf("client did not reach the end of its scenario")
	}

	// logon: 98=0, 108 echoed, 141=Y, sequence numbers reset to 1
	for _, comp := range []string{a, b} {
		if !tr.logons[comp] {
			t.Errorf("%s: never logged on", comp)
			continue
		}
		if m, ok := exactlyOne(t, comp+" Logon", tr.admin("logon", comp, "A")); ok {
			want{eq: map[int]string{49: "VENUE", 56: comp, 34: "1", 98: "0", 108: heartBtInt, 141: "Y"},
				not: []int{554}}.check(t, comp+" Logon", m)
		}
	}

	// new: A-1 buy 0.0100 @ 59000.00 GTC -> ack
	var orderID string
	if m, ok := exactlyOne(t, "new A-1", tr.app("new", a)); ok {
		checkExecReport(t, "new A-1", m)
		want{eq: map[int]string{11: "A-1", 150: "0", 39: "0", 54: "1", 49: "VENUE", 56: a},
			dec: map[int]string{38: "0.01", 14: "0", 151: "0.01", 6: "0"}}.check(t, "new A-1", m)
		orderID, _ = m.get(37)
		checkPrice(t, "new A-1", m, "59000")
	}

	// replace: A-1 -> A-2, 0.0200 @ 59000.00 -> 150=5, same OrderID
	if m, ok := exactlyOne(t, "replace A-2", tr.app("replace", a)); ok {
		checkExecReport(t, "replace A-2", m)
		want{eq: map[int]string{11: "A-2", 41: "A-1", 150: "5", 39: "0", 37: orderID, 54: "1"},
			dec: map[int]string{38: "0.02", 14: "0", 151: "0.02", 6: "0"}}.check(t, "replace A-2", m)
		checkPrice(t, "replace A-2", m, "59000")
	}

	// cancel_unknown: 41 names no order -> 35=9 102=1 434=1 37=NONE
	if m, ok := exactlyOne(t, "cancel unknown A-3", tr.app("cancel_unknown", a)); ok {
		want{eq: map[int]string{35: "9", 11: "A-3", 41: "NO-SUCH-ORDER", 37: "NONE", 102: "1", 434: "1"},
			set: []int{39}}.check(t, "cancel unknown A-3", m)
	}

	// cancel_other_firm: FIRM_B cancels FIRM_A's A-2 -> it looks unknown
	if m, ok := exactlyOne(t, "cancel by other firm B-0", tr.app("cancel_other_firm", b)); ok {
		want{eq: map[int]string{35: "9", 11: "B-0", 41: "A-2", 37: "NONE", 102: "1", 434: "1"},
			set: []int{39}}.check(t, "cancel by other firm B-0", m)
	}
	if ms := tr.app("cancel_other_firm", a); len(ms) != 0 {
		t.Errorf("cancel by other firm: FIRM_A got %d messages, first %s", len(ms), ms[0])
	}

	// duplicate_clordid: a second A-1 (the replaced order's first id) ->
	// 150=8 103=6, the existing order untouched (status below)
	if m, ok := exactlyOne(t, "duplicate A-1", tr.app("duplicate_clordid", a)); ok {
		checkExecReport(t, "duplicate A-1", m)
		want{eq: map[int]string{11: "A-1", 150: "8", 39: "8", 103: "6"},
			dec: map[int]string{14: "0", 151: "0"}, set: []int{58}}.check(t, "duplicate A-1", m)
	}

	// status: 35=H for A-2 -> 150=I with the current state
	if m, ok := exactlyOne(t, "status A-2", tr.app("status", a)); ok {
		checkExecReport(t, "status A-2", m)
		want{eq: map[int]string{11: "A-2", 37: orderID, 150: "I", 39: "0", 54: "1"},
			dec: map[int]string{38: "0.02", 14: "0", 151: "0.02", 6: "0"}}.check(t, "status A-2", m)
		checkPrice(t, "status A-2", m, "59000")
	}

	// cross: FIRM_B sells 0.0050 @ 59000.00 into A-2
	var tradeID string
	if m, ok := exactlyOne(t, "cross: A-2 maker fill", tr.app("cross", a)); ok {
		checkExecReport(t, "cross: A-2 maker fill", m)
		want{eq: map[int]string{11: "A-2", 37: orderID, 150: "F", 39: "1", 851: "1", 54: "1", 13: "3"},
			dec: map[int]string{31: "59000", 32: "0.005", 38: "0.02", 14: "0.005", 151: "0.015", 6: "59000"},
			set: []int{880, 12, 479}}.check(t, "cross: A-2 maker fill", m)
		tradeID, _ = m.get(880)
		checkCommission(t, "cross: A-2 maker fill", m)
	}
	bMsgs := tr.app("cross", b)
	if len(bMsgs) > 0 { // an aggressive order may be acked before it trades
		if et, _ := bMsgs[0].get(150); et == "0" {
			checkExecReport(t, "cross: B-1 ack", bMsgs[0])
			want{eq: map[int]string{11: "B-1", 39: "0", 54: "2"},
				dec: map[int]string{38: "0.005", 14: "0", 151: "0.005", 6: "0"}}.check(t, "cross: B-1 ack", bMsgs[0])
			bMsgs = bMsgs[1:]
		}
	}
	if m, ok := exactlyOne(t, "cross: B-1 taker fill", bMsgs); ok {
		checkExecReport(t, "cross: B-1 taker fill", m)
		want{eq: map[int]string{11: "B-1", 150: "F", 39: "2", 851: "2", 54: "2", 13: "3", 49: "VENUE", 56: b},
			dec: map[int]string{31: "59000", 32: "0.005", 38: "0.005", 14: "0.005", 151: "0", 6: "59000"},
			set: []int{880, 12, 479}}.check(t, "cross: B-1 taker fill", m)
		if id, _ := m.get(880); tradeID != "" && id != tradeID {
			t.Errorf("cross: trade ids differ: A-2 880=%s, B-1 880=%s (FIX.md: shared by both sides)", tradeID, id)
		}
		if id, _ := m.get(37); id == orderID {
			t.Errorf("cross: B-1 has A-2's OrderID %s", id)
		}
		checkCommission(t, "cross: B-1 taker fill", m)
	}

	// cancel_rest: A-4 cancels A-2 (the last accepted ClOrdID)
	if m, ok := exactlyOne(t, "cancel A-4", tr.app("cancel_rest", a)); ok {
		checkExecReport(t, "cancel A-4", m)
		want{eq: map[int]string{11: "A-4", 41: "A-2", 37: orderID, 150: "4", 39: "4", 54: "1"},
			dec: map[int]string{38: "0.02", 14: "0.005", 151: "0", 6: "59000"}}.check(t, "cancel A-4", m)
	}

	// off_tick: 59000.001 is off the 0.01 tick -> rejected, never rounded
	if m, ok := exactlyOne(t, "off-tick A-5", tr.app("off_tick", a)); ok {
		checkExecReport(t, "off-tick A-5", m)
		want{eq: map[int]string{11: "A-5", 150: "8", 39: "8", 103: "99", 54: "1"},
			dec: map[int]string{38: "0.01", 14: "0", 151: "0"},
			set: []int{58}}.check(t, "off-tick A-5", m)
		checkPrice(t, "off-tick A-5", m, "59000.001")
	}

	// logout: the venue answers each Logout; nothing else arrives
	for _, comp := range []string{a, b} {
		if len(tr.admin("logout", comp, "5")) != 1 {
			t.Errorf("%s: got %d Logout answers, want 1", comp, len(tr.admin("logout", comp, "5")))
		}
		if !tr.logouts[comp] {
			t.Errorf("%s: never logged out", comp)
		}
		if ms := tr.app("logout", comp); len(ms) != 0 {
			t.Errorf("%s: %d application messages after the scenario, first %s", comp, len(ms), ms[0])
		}
	}

	// every step: no session-level Reject, no BusinessMessageReject, no
	// ExecID twice on a session
	execIDs := map[string]string{}
	for step, rs := range tr.steps {
		for _, r := range rs {
			typ, _ := r.msg.get(35)
			if typ == "3" || typ == "j" {
				t.Errorf("%s: %s got a reject 35=%s: %s", step, r.comp, typ, r.msg)
			}
			if typ != "8" {
				continue
			}
			id, _ := r.msg.get(17)
			key := r.comp + " " + id
			if prev, dup := execIDs[key]; dup {
				t.Errorf("%s: ExecID %s twice:\n  %s\n  %s", r.comp, id, prev, r.msg)
			}
			execIDs[key] = r.msg.raw
		}
	}
}

// checkPrice: 44 need not be echoed, but when it is it must be the order's
// price exactly (as decimals; nothing rounded).
func checkPrice(t *testing.T, what string, m fixMsg, px string) {
	t.Helper()
	if _, ok := m.get(44); ok {
		want{dec: map[int]string{44: px}}.check(t, what, m)
	}
}

// checkCommission: 12 is a decimal amount that is not negative.
func checkCommission(t *testing.T, what string, m fixMsg) {
	t.Helper()
	v, ok := m.get(12)
	if !ok {
		return // reported by want
	}
	d, err := decimal.NewFromString(v)
	if err != nil || d.IsNegative() {
		t.Errorf("%s: 12=%s, want a decimal >= 0\n  %s", what, v, m)
	}
}
