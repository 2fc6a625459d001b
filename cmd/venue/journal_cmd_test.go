package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"venue/journal"
	"venue/matching"
)

// testSegmentSize is small so that the test journal spans several segments.
const testSegmentSize = 256

const (
	tBTC matching.AssetID  = 0
	tUSD matching.AssetID  = 1
	tSym matching.SymbolID = 1
	btc1                   = 100_000_000 // satoshi
	usd1                   = 10_000_000_000
)

// testCommands is a short trading day: BTC-USD, two accounts of two firms,
// deposits, and limit orders that cross, stamped with seqs and times as the
// sequencer would.
func testCommands() []matching.Command {
	px := func(usd int64) int64 { return usd * 100 }
	cmds := []matching.Command{
		{Kind: matching.CmdAddSymbol, SymbolSpec: &matching.SymbolSpec{ID: tSym, Name: "BTC-USD", Base: tBTC, Quote: tUSD,
			TickSize: 1, QtyStep: 1, MinQty: 10_000, MaxQty: 1000 * btc1, MaxNotional: 5e16, RefPx: px(60_000),
			BandBps: 2000, Status: matching.StatusOpen}},
		{Kind: matching.CmdAddAccount, AccountSpec: &matching.AccountSpec{ID: 10, Firm: 1, STP: matching.STPCancelAggressor}},
		{Kind: matching.CmdAddAccount, AccountSpec: &matching.AccountSpec{ID: 20, Firm: 2, STP: matching.STPCancelAggressor}},
		{Kind: matching.CmdDeposit, Account: 10, Asset: tUSD, Amount: 1_000_000 * usd1, Key: "dep:10:usd"},
		{Kind: matching.CmdDeposit, Account: 10, Asset: tBTC, Amount: 10 * btc1, Key: "dep:10:btc"},
		{Kind: matching.CmdDeposit, Account: 20, Asset: tUSD, Amount: 1_000_000 * usd1, Key: "dep:20:usd"},
		{Kind: matching.CmdDeposit, Account: 20, Asset: tBTC, Amount: 10 * btc1, Key: "dep:20:btc"},
	}
	order := func(acct matching.AccountID, firm matching.FirmID, side matching.Side, usd, qty int64, id string) matching.Command {
		return matching.Command{Kind: matching.CmdNewOrder, Session: matching.SessionID(acct), Firm: firm, Account: acct,
			Symbol: tSym, Side: side, Type: matching.Limit, TIF: matching.GTC, Px: px(usd), Qty: qty, ClOrdID: id}
	}
	cmds = append(cmds,
		order(20, 2, matching.Sell, 60_000, btc1, "s1"),
		order(10, 1, matching.Buy, 60_000, btc1/2, "b1"),    // crosses s1
		order(10, 1, matching.Buy, 60_010, btc1*7/10, "b2"), // takes the rest of s1, rests 0.2
		order(20, 2, matching.Sell, 59_990, btc1/10, "s2"),  // crosses b2
		order(20, 2, matching.Sell, 60_100, btc1, "s3"),
		order(10, 1, matching.Buy, 59_900, btc1, "b3"),
	)
	for i := range cmds {
		cmds[i].Seq = uint64(i + 1)
		cmds[i].Time = 1_700_000_000_000_000_000 + int64(i)*1_000_000
	}
	return cmds
}

// applyDirect applies cmds to a fresh engine and returns its state hash
// and the number of trades, so a test can see the scenario really trades.
func applyDirect(t *testing.T, cmds []matching.Command) (string, int) {
	t.Helper()
	eng := matching.New()
	trades := 0
	for i := range cmds {
		for _, ev := range eng.Apply(&cmds[i]) {
			if ev.Kind == matching.EvTrade {
				trades++
			}
			if ev.Reason != matching.ReasonNone && (ev.Kind == matching.EvRejected || ev.Kind == matching.EvRefData || ev.Kind == matching.EvBalance) {
				t.Fatalf("seq %d refused: %+v", cmds[i].Seq, ev)
			}
		}
	}
	h := eng.StateHash()
	return hex.EncodeToString(h[:]), trades
}

// appendJournal appends cmds to the journal of dataDir, creating it.
func appendJournal(t *testing.T, dataDir string, cmds []matching.Command) {
	t.Helper()
	w, _, err := journal.Open(journal.OSFS{}, journalDir(dataDir), journal.Options{SegmentSize: testSegmentSize})
	if err != nil {
		t.Fatal(err)
	}
	var payload []byte
	for i := range cmds {
		payload = journal.AppendCommand(payload[:0], &cmds[i])
		if err := w.Append(cmds[i].Seq, payload); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// venue runs the command line in-process.
func venue(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

// mustVenue runs the command line and fails the test unless it succeeds.
func mustVenue(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := venue(t, args...)
	if code != 0 {
		t.Fatalf("venue %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// field returns the value of a "name: value" line of out.
func field(t *testing.T, out, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `:\s+(.*)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q line in:\n%s", name, out)
	}
	return m[1]
}

// dirContent maps each file of dir to its bytes.
func dirContent(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = string(b)
	}
	return m
}

func newTestJournal(t *testing.T) (dataDir string, cmds []matching.Command) {
	t.Helper()
	dataDir = t.TempDir()
	cmds = testCommands()
	appendJournal(t, dataDir, cmds)
	return dataDir, cmds
}

func TestJournalVerify(t *testing.T) {
	dataDir, cmds := newTestJournal(t)
	out := mustVenue(t, "journal", "verify", "--data", dataDir)
	want := map[string]string{
		"records":   fmt.Sprint(len(cmds)),
		"first seq": "1",
		"last seq":  fmt.Sprint(len(cmds)),
		"torn tail": "none",
		"snapshot":  "none",
	}
	for k, v := range want {
		if got := field(t, out, k); got != v {
			t.Errorf("%s: %q, want %q\n%s", k, got, v, out)
		}
	}
	if field(t, out, "segments") == "1" {
		t.Errorf("the test journal should span several segments:\n%s", out)
	}
}

func TestJournalDataDirFromConfig(t *testing.T) {
	cleanEnv(t)
	dataDir, cmds := newTestJournal(t)
	t.Setenv("VENUE_DATA_DIR", dataDir)
	out := mustVenue(t, "journal", "verify")
	if got := field(t, out, "records"); got != fmt.Sprint(len(cmds)) {
		t.Fatalf("records %s, want %d", got, len(cmds))
	}

	t.Setenv("VENUE_DATA_DIR", t.TempDir())
	_, errOut, code := venue(t, "journal", "replay")
	if code == 0 || !strings.Contains(errOut, "journal replay: no journal directory") || !strings.Contains(errOut, "--data") {
		t.Fatalf("missing journal: exit %d, stderr %q", code, errOut)
	}
}

func TestJournalReplayMatchesDirectApply(t *testing.T) {
	dataDir, cmds := newTestJournal(t)
	want, trades := applyDirect(t, cmds)
	if trades == 0 {
		t.Fatal("the test commands should trade")
	}
	out := mustVenue(t, "journal", "replay", "--data", dataDir)
	scratch := mustVenue(t, "journal", "replay", "--from-scratch", "--data", dataDir)
	for _, o := range []string{out, scratch} {
		if got := field(t, o, "state hash"); got != want {
			t.Errorf("state hash %s, want %s (applied directly)\n%s", got, want, o)
		}
		if got := field(t, o, "replayed"); got != fmt.Sprintf("%d commands", len(cmds)) {
			t.Errorf("replayed %q\n%s", got, o)
		}
		if got := field(t, o, "last seq"); got != fmt.Sprint(len(cmds)) {
			t.Errorf("last seq %q\n%s", got, o)
		}
	}
	if got := field(t, out, "snapshot"); got != "none" {
		t.Errorf("snapshot %q, want none", got)
	}
}

func TestSnapshotThenReplay(t *testing.T) {
	cmds := testCommands()
	const cut = 9 // snapshot after seq 9, then journal the rest
	dataDir := t.TempDir()
	appendJournal(t, dataDir, cmds[:cut])

	out := mustVenue(t, "snapshot", "--data", dataDir)
	wrote := field(t, out, "wrote")
	path := filepath.Join(journalDir(dataDir), fmt.Sprintf("snapshot-%020d.snap", cut))
	if !strings.HasPrefix(wrote, path+" (seq 9,") {
		t.Fatalf("wrote %q, want %s at seq %d", wrote, path, cut)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	hashAtCut, _ := applyDirect(t, cmds[:cut])
	if got := field(t, out, "state hash"); got != hashAtCut {
		t.Fatalf("snapshot state hash %s, want %s", got, hashAtCut)
	}

	appendJournal(t, dataDir, cmds[cut:])
	want, _ := applyDirect(t, cmds)
	out = mustVenue(t, "journal", "replay", "--data", dataDir)
	if got := field(t, out, "snapshot"); got != filepath.Base(path)+" (seq 9)" {
		t.Errorf("snapshot %q, want %s used", got, filepath.Base(path))
	}
	if got := field(t, out, "replayed"); got != fmt.Sprintf("%d commands", len(cmds)-cut) {
		t.Errorf("replayed %q, want %d", got, len(cmds)-cut)
	}
	scratch := mustVenue(t, "journal", "replay", "--from-scratch", "--data", dataDir)
	if a, b := field(t, out, "state hash"), field(t, scratch, "state hash"); a != want || b != want {
		t.Errorf("state hash from snapshot %s, from scratch %s, applied directly %s", a, b, want)
	}

	// A snapshot at the last seq: the next replay applies nothing.
	mustVenue(t, "snapshot", "--data", dataDir)
	out = mustVenue(t, "journal", "replay", "--data", dataDir)
	if field(t, out, "replayed") != "0 commands" || field(t, out, "state hash") != want {
		t.Errorf("replay after a snapshot at the end:\n%s", out)
	}
}

func TestJournalRepair(t *testing.T) {
	dataDir, cmds := newTestJournal(t)
	dir := journalDir(dataDir)
	last := len(cmds)
	mustVenue(t, "snapshot", "--data", dataDir) // at the last seq: the cut must delete it
	before := dirContent(t, dir)

	// Refusals change nothing either.
	refusals := []struct {
		name string
		args []string
		want string
	}{
		{"no seq", []string{"journal", "repair", "--data", dataDir, "--yes"}, "--truncate-after SEQ is required"},
		{"past the end", []string{"journal", "repair", "--data", dataDir, "--truncate-after", fmt.Sprint(last + 1), "--yes"},
			fmt.Sprintf("journal repair: --truncate-after %d is past the end of the journal (last seq %d)", last+1, last)},
	}
	for _, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := venue(t, tt.args...)
			if code == 0 || !strings.Contains(errOut, tt.want) {
				t.Fatalf("exit %d, stderr %q, want %q", code, errOut, tt.want)
			}
		})
	}

	const keep = 5
	out := mustVenue(t, "journal", "repair", "--data", dataDir, "--truncate-after", fmt.Sprint(keep))
	if !strings.Contains(out, fmt.Sprintf("would keep up to seq %d and remove seq %d..%d", keep, keep+1, last)) ||
		!strings.Contains(out, "remove   snapshot-") || !strings.Contains(out, "nothing changed") {
		t.Errorf("dry run output:\n%s", out)
	}
	after := dirContent(t, dir)
	if len(after) != len(before) {
		t.Fatalf("dry run changed the files: %d before, %d after", len(before), len(after))
	}
	for name, b := range before {
		if after[name] != b {
			t.Fatalf("dry run changed %s", name)
		}
	}

	out = mustVenue(t, "journal", "repair", "--data", dataDir, "--truncate-after", fmt.Sprint(keep), "--yes")
	if !strings.Contains(out, fmt.Sprintf("kept up to seq %d and removed seq %d..%d", keep, keep+1, last)) || !strings.Contains(out, fmt.Sprintf("last seq now %d", keep)) {
		t.Errorf("repair output:\n%s", out)
	}
	out = mustVenue(t, "journal", "verify", "--data", dataDir)
	if field(t, out, "last seq") != fmt.Sprint(keep) || field(t, out, "records") != fmt.Sprint(keep) || field(t, out, "snapshot") != "none" {
		t.Errorf("verify after the repair:\n%s", out)
	}
	want, _ := applyDirect(t, cmds[:keep])
	out = mustVenue(t, "journal", "replay", "--data", dataDir)
	if got := field(t, out, "state hash"); got != want {
		t.Errorf("state hash after the repair %s, want %s", got, want)
	}
	out = mustVenue(t, "journal", "repair", "--data", dataDir, "--truncate-after", fmt.Sprint(keep))
	if !strings.Contains(out, "nothing to remove") {
		t.Errorf("repair at the last seq:\n%s", out)
	}
}

func TestJournalCorrupt(t *testing.T) {
	dataDir, cmds := newTestJournal(t)
	seg := filepath.Join(journalDir(dataDir), fmt.Sprintf("journal-%020d.seg", 1))
	// Flip a byte in the payload of seq 2, a committed record of the first
	// segment: segment header 32 bytes, then seq 1's record header and
	// payload, then seq 2's record header.
	off := 32 + 16 + len(journal.AppendCommand(nil, &cmds[0]))
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	data[off+16+3] ^= 0x40
	if err := os.WriteFile(seg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"journal", "verify"},
		{"journal", "replay"},
		{"journal", "replay", "--from-scratch"},
		{"snapshot"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, errOut, code := venue(t, append(args, "--data", dataDir)...)
			want := fmt.Sprintf("segment %s: offset %d: seq 2: checksum mismatch", filepath.Base(seg), off)
			if code == 0 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "--truncate-after 1 --yes") {
				t.Fatalf("exit %d, stderr %q, want it to name %q and the repair", code, errOut, want)
			}
		})
	}

	// The repair it suggests, after which the journal is sound again.
	mustVenue(t, "journal", "repair", "--data", dataDir, "--truncate-after", "1", "--yes")
	out := mustVenue(t, "journal", "verify", "--data", dataDir)
	if field(t, out, "last seq") != "1" {
		t.Errorf("verify after the repair:\n%s", out)
	}
}

func TestJournalTornTail(t *testing.T) {
	dataDir, cmds := newTestJournal(t)
	dir := journalDir(dataDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	lastSeg := filepath.Join(dir, entries[len(entries)-1].Name())
	f, err := os.OpenFile(lastSeg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte{40, 0, 0, 0, 1, 2, 3}); err != nil { // a record header cut short
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	out := mustVenue(t, "journal", "verify", "--data", dataDir)
	if torn := field(t, out, "torn tail"); !strings.Contains(torn, "7 bytes") || !strings.Contains(torn, fmt.Sprintf("seq %d", len(cmds)+1)) {
		t.Errorf("torn tail %q", torn)
	}
	want, _ := applyDirect(t, cmds)
	out = mustVenue(t, "journal", "replay", "--data", dataDir)
	if field(t, out, "state hash") != want || field(t, out, "last seq") != fmt.Sprint(len(cmds)) {
		t.Errorf("replay over a torn tail:\n%s", out)
	}
	out = mustVenue(t, "journal", "repair", "--data", dataDir, "--truncate-after", fmt.Sprint(len(cmds)), "--yes")
	if !strings.Contains(out, "and removed the torn tail only") {
		t.Errorf("repair of the torn tail:\n%s", out)
	}
	out = mustVenue(t, "journal", "verify", "--data", dataDir)
	if field(t, out, "torn tail") != "none" {
		t.Errorf("verify after the repair:\n%s", out)
	}
}

// A snapshot beyond the journal's end would stop the venue's start: the
// journal lost records the snapshot holds. verify and replay say so.
func TestSnapshotBeyondJournal(t *testing.T) {
	dataDir, cmds := newTestJournal(t)
	beyond := uint64(len(cmds) + 5)
	if err := journal.WriteSnapshot(journal.OSFS{}, journalDir(dataDir), beyond, matching.New().MarshalSnapshot()); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("snapshot-%020d.snap is at seq %d, beyond the journal's last seq %d", beyond, beyond, len(cmds))
	for _, args := range [][]string{{"journal", "verify"}, {"journal", "replay"}, {"snapshot"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, errOut, code := venue(t, append(args, "--data", dataDir)...)
			if code == 0 || !strings.Contains(errOut, want) {
				t.Fatalf("exit %d, stderr %q, want %q", code, errOut, want)
			}
		})
	}
	// --from-scratch does not read the snapshots.
	mustVenue(t, "journal", "replay", "--from-scratch", "--data", dataDir)
}
