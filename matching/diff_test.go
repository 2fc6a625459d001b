package matching_test

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"maps"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"

	"venue/matching"
	"venue/matching/refmodel"
)

// diffSeeds are the seeds every run replays. A seed that once found a bug
// stays here for good.
var diffSeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8}

// diffCommandsPerSeed makes a normal run about a million commands in all.
const diffCommandsPerSeed = 125_000

// engineCheckEvery is how often the engine's O(book) invariant check runs.
const engineCheckEvery = 16

// TestDifferential feeds the same generated commands to the engine and the
// reference model and requires identical events and intact invariants.
// MATCH_SEED=n reruns one seed, MATCH_COMMANDS=n sets the commands per seed.
func TestDifferential(t *testing.T) {
	seeds := diffSeeds
	n := diffCommandsPerSeed
	if testing.Short() {
		n /= 10
	}
	if s := os.Getenv("MATCH_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("MATCH_SEED: %v", err)
		}
		seeds = []uint64{seed}
	}
	if s := os.Getenv("MATCH_COMMANDS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("MATCH_COMMANDS: %v", err)
		}
		n = v
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Parallel()
			t.Logf("seed %d, %d commands (rerun: MATCH_SEED=%d go test -run TestDifferential ./matching/)", seed, n, seed)
			d := newDiffRun(t, fmt.Sprintf("seed %d", seed))
			g := newGenerator(newRNGSource(seed))
			liveSum, liveMax := 0, 0
			for i := range n {
				cmd := g.next()
				want, ok := d.step(i, &cmd)
				if !ok {
					return
				}
				g.observe(want)
				liveSum += len(g.liveIDs)
				liveMax = max(liveMax, len(g.liveIDs))
			}
			d.finish()
			t.Logf("seed %d: %d commands, %d events, %d trades, live orders mean %d max %d", seed, n, d.events, d.trades, liveSum/max(n, 1), liveMax)
		})
	}
}

// diffRun holds one engine and one model fed the same commands.
type diffRun struct {
	t       testing.TB
	name    string
	eng     *matching.Engine
	ref     *refmodel.Model
	history []matching.Command // the last few commands, for the report
	events  int
	trades  int
	index   int
	kinds   map[matching.EventKind]int
	reasons map[int]int
	// modelOnly skips the engine (MATCH_MODEL_ONLY=1): for working on the
	// model and the generator alone.
	modelOnly bool
}

func newDiffRun(t testing.TB, name string) *diffRun {
	return &diffRun{t: t, name: name, eng: matching.New(), ref: refmodel.New(),
		kinds: make(map[matching.EventKind]int), reasons: make(map[int]int),
		modelOnly: os.Getenv("MATCH_MODEL_ONLY") != ""}
}

// applyEngine runs one command on the engine, turning a panic into an
// error, and copies the events out of the engine's buffer.
func applyEngine(e *matching.Engine, cmd *matching.Command) (evs []matching.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("engine panic: %v\n%s", r, debug.Stack())
		}
	}()
	return append([]matching.Event(nil), e.Apply(cmd)...), nil
}

func applyModel(m *refmodel.Model, cmd *matching.Command) (evs []matching.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("refmodel panic: %v\n%s", r, debug.Stack())
		}
	}()
	return m.Apply(cmd), nil
}

func checkEngine(e *matching.Engine) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("engine CheckInvariants panic: %v\n%s", r, debug.Stack())
		}
	}()
	return e.CheckInvariants()
}

// step applies command i to both and compares; on any failure it reports
// and returns ok false.
func (d *diffRun) step(i int, cmd *matching.Command) (want []matching.Event, ok bool) {
	d.t.Helper()
	d.index = i
	if len(d.history) == 8 {
		d.history = d.history[1:]
	}
	d.history = append(d.history, *cmd)
	want, werr := applyModel(d.ref, cmd)
	got, gerr := want, error(nil)
	if !d.modelOnly {
		got, gerr = applyEngine(d.eng, cmd)
	}
	if gerr != nil || werr != nil {
		d.report(cmd, got, want, fmt.Sprintf("engine error: %v\nmodel error: %v", gerr, werr))
		return want, false
	}
	if !eventsEqual(got, want) {
		d.report(cmd, got, want, "events differ")
		return want, false
	}
	if err := d.ref.Check(); err != nil {
		d.report(cmd, got, want, "refmodel invariants: "+err.Error())
		return want, false
	}
	if i%engineCheckEvery == 0 && !d.modelOnly {
		if err := checkEngine(d.eng); err != nil {
			d.report(cmd, got, want, "engine invariants: "+err.Error())
			return want, false
		}
	}
	d.events += len(want)
	for _, ev := range want {
		if ev.Kind == matching.EvTrade {
			d.trades++
		}
		d.kinds[ev.Kind]++
		d.reasons[int(ev.Reason)]++
	}
	return want, true
}

// finish runs the engine's invariant check one last time.
func (d *diffRun) finish() {
	d.t.Helper()
	d.t.Logf("%s: events by kind %v", d.name, sortedCounts(d.kinds))
	d.t.Logf("%s: events by reason %v", d.name, sortedCounts(d.reasons))
	if d.modelOnly {
		return
	}
	if err := checkEngine(d.eng); err != nil {
		d.t.Fatalf("%s: engine invariants after the last command: %v", d.name, err)
	}
}

func sortedCounts[K cmp.Ordered](m map[K]int) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fmt.Fprintf(&b, " %v:%d", k, m[k])
	}
	return b.String()
}

func eventsEqual(a, b []matching.Event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func (d *diffRun) report(cmd *matching.Command, got, want []matching.Event, what string) {
	d.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%s, command index %d: %s\n", d.name, d.index, what)
	b.WriteString("previous commands:\n")
	for _, c := range d.history[:len(d.history)-1] {
		fmt.Fprintf(&b, "  %s\n", fmtCommand(&c))
	}
	fmt.Fprintf(&b, "command:\n  %s\n", fmtCommand(cmd))
	first := 0
	for first < len(got) && first < len(want) && got[first] == want[first] {
		first++
	}
	fmt.Fprintf(&b, "first difference at event %d\nengine (%d events):\n", first, len(got))
	for i, ev := range got {
		fmt.Fprintf(&b, "  %d %s\n", i, fmtEvent(ev))
	}
	fmt.Fprintf(&b, "refmodel (%d events):\n", len(want))
	for i, ev := range want {
		fmt.Fprintf(&b, "  %d %s\n", i, fmtEvent(ev))
	}
	d.t.Fatal(b.String())
}

// fmtCommand is %+v of a command with its zero fields left out.
func fmtCommand(c *matching.Command) string { return nonZero(reflect.ValueOf(*c)) }

// fmtEvent is %+v of an event with its zero fields left out.
func fmtEvent(ev matching.Event) string { return nonZero(reflect.ValueOf(ev)) }

// nonZero prints a value like %+v but omits zero struct fields, follows
// pointers and prints the postings an event uses.
func nonZero(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		return nonZero(v.Elem())
	case reflect.Struct:
		var b strings.Builder
		b.WriteByte('{')
		for i := range v.NumField() {
			f := v.Field(i)
			if f.IsZero() {
				continue
			}
			if b.Len() > 1 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s:%s", v.Type().Field(i).Name, nonZero(f))
		}
		b.WriteByte('}')
		return b.String()
	case reflect.Array:
		var parts []string
		for i := range v.Len() {
			if !v.Index(i).IsZero() {
				parts = append(parts, nonZero(v.Index(i)))
			}
		}
		return "[" + strings.Join(parts, " ") + "]"
	case reflect.String:
		return strconv.Quote(v.String())
	case reflect.Uint8:
		if v.Type() == reflect.TypeFor[matching.STPMode]() || v.Type() == reflect.TypeFor[matching.OrdStatus]() {
			return fmt.Sprintf("%q", rune(v.Uint()))
		}
	}
	if v.CanInt() {
		return strconv.FormatInt(v.Int(), 10)
	}
	if v.CanUint() {
		return strconv.FormatUint(v.Uint(), 10)
	}
	return fmt.Sprintf("%v", v.Interface())
}

// TestDeterminism replays the same commands through two fresh engines and
// compares SHA-256 digests of every event field.
func TestDeterminism(t *testing.T) {
	n := 50_000
	if testing.Short() {
		n = 5_000
	}
	for _, seed := range []uint64{11, 12} {
		g := newGenerator(newRNGSource(seed))
		first := matching.New()
		h1 := sha256.New()
		cmds := make([]matching.Command, 0, n)
		var buf []byte
		for range n {
			cmd := g.next()
			cmds = append(cmds, cmd)
			evs := first.Apply(&cmds[len(cmds)-1])
			buf = buf[:0]
			for i := range evs {
				buf = appendEvent(buf, &evs[i])
			}
			h1.Write(buf)
			g.observe(evs)
		}
		second := matching.New()
		h2 := sha256.New()
		for i := range cmds {
			evs := second.Apply(&cmds[i])
			buf = buf[:0]
			for j := range evs {
				buf = appendEvent(buf, &evs[j])
			}
			h2.Write(buf)
		}
		s1, s2 := h1.Sum(nil), h2.Sum(nil)
		t.Logf("seed %d: %d commands, sha256 %x", seed, n, s1)
		if string(s1) != string(s2) {
			t.Fatalf("seed %d: event streams differ: %x vs %x", seed, s1, s2)
		}
	}
}

// appendEvent is a binary encoding of every field of an event.
func appendEvent(b []byte, ev *matching.Event) []byte {
	le := binary.LittleEndian
	b = le.AppendUint64(b, ev.Seq)
	b = le.AppendUint64(b, uint64(ev.Time))
	b = append(b, byte(ev.Kind), byte(ev.Ref), byte(ev.Reason))
	b = appendView(b, &ev.Order)
	b = appendView(b, &ev.Maker)
	b = le.AppendUint64(b, ev.TradeID)
	b = le.AppendUint32(b, uint32(ev.Symbol))
	b = append(b, byte(ev.Side))
	b = le.AppendUint64(b, uint64(ev.Px))
	b = le.AppendUint64(b, uint64(ev.Qty))
	b = le.AppendUint64(b, uint64(ev.MakerFee))
	b = le.AppendUint64(b, uint64(ev.TakerFee))
	b = append(b, byte(ev.Aggressor))
	b = le.AppendUint64(b, uint64(ev.Count))
	b = append(b, byte(ev.Status), boolByte(ev.Flag))
	b = le.AppendUint32(b, uint32(ev.Account))
	b = append(b, byte(ev.Asset))
	b = le.AppendUint64(b, uint64(ev.Amount))
	b = appendString(b, ev.Key)
	b = append(b, ev.NPostings)
	for _, p := range ev.Postings {
		b = le.AppendUint32(b, uint32(p.Account))
		b = append(b, byte(p.Asset))
		b = le.AppendUint64(b, uint64(p.Amount))
	}
	return b
}

func appendView(b []byte, v *matching.OrderView) []byte {
	le := binary.LittleEndian
	b = le.AppendUint64(b, uint64(v.ID))
	b = appendString(b, v.ClOrdID)
	b = appendString(b, v.OrigClOrdID)
	b = le.AppendUint32(b, uint32(v.Session))
	b = le.AppendUint32(b, uint32(v.Account))
	b = le.AppendUint32(b, uint32(v.Symbol))
	b = append(b, byte(v.Side), byte(v.Type), byte(v.TIF), byte(v.STP), boolByte(v.PostOnly))
	b = le.AppendUint64(b, uint64(v.Px))
	b = le.AppendUint64(b, uint64(v.StopPx))
	b = le.AppendUint64(b, uint64(v.Qty))
	b = le.AppendUint64(b, uint64(v.Cum))
	b = le.AppendUint64(b, uint64(v.Leaves))
	b = le.AppendUint64(b, uint64(v.Notional))
	b = le.AppendUint64(b, uint64(v.Fees))
	b = append(b, byte(v.Status))
	b = le.AppendUint64(b, uint64(v.ExpireTime))
	b = append(b, boolByte(v.Triggered))
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// TestMinimize shrinks a failing seed to a short command list for a bug
// report: MATCH_MINIMIZE=1 MATCH_SEED=n go test -run TestMinimize -v. It
// replays the seed to its first failure, then drops commands (halves, then
// smaller pieces) while some failure remains, checking the engine's
// invariants after every command.
func TestMinimize(t *testing.T) {
	if os.Getenv("MATCH_MINIMIZE") == "" {
		t.Skip("set MATCH_MINIMIZE=1 and MATCH_SEED")
	}
	seed, err := strconv.ParseUint(os.Getenv("MATCH_SEED"), 10, 64)
	if err != nil {
		t.Fatalf("MATCH_SEED: %v", err)
	}
	limit := diffCommandsPerSeed
	if s := os.Getenv("MATCH_COMMANDS"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil {
			t.Fatalf("MATCH_COMMANDS: %v", err)
		}
	}
	g := newGenerator(newRNGSource(seed))
	ref := refmodel.New()
	var cmds []matching.Command
	for range limit {
		c := g.next()
		cmds = append(cmds, c)
		evs, err := applyModel(ref, &c)
		if err != nil {
			t.Fatal(err)
		}
		g.observe(evs)
		if fails(cmds) != "" {
			break
		}
	}
	what := fails(cmds)
	if what == "" {
		t.Fatalf("seed %d: no failure in %d commands", seed, limit)
	}
	for chunk := len(cmds) / 2; chunk >= 1; chunk /= 2 {
		for i := 0; i+chunk <= len(cmds)-1; { // the failing command stays last
			try := append(append([]matching.Command(nil), cmds[:i]...), cmds[i+chunk:]...)
			if fails(try) != "" {
				cmds = try
			} else {
				i += chunk
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d minimized to %d commands:\n", seed, len(cmds))
	for i := range cmds {
		fmt.Fprintf(&b, "  %s\n", fmtCommand(&cmds[i]))
	}
	fmt.Fprintf(&b, "failure: %s", fails(cmds))
	t.Log(b.String())
}

// fails replays cmds through a fresh engine and model and describes the
// first difference or broken invariant, or returns "".
func fails(cmds []matching.Command) string {
	eng, ref := matching.New(), refmodel.New()
	for i := range cmds {
		c := cmds[i]
		got, gerr := applyEngine(eng, &c)
		want, werr := applyModel(ref, &c)
		switch {
		case gerr != nil || werr != nil:
			return fmt.Sprintf("command %d: engine %v; model %v", i, gerr, werr)
		case !eventsEqual(got, want):
			var b strings.Builder
			fmt.Fprintf(&b, "command %d: events differ\nengine:\n", i)
			for _, ev := range got {
				fmt.Fprintf(&b, "  %s\n", fmtEvent(ev))
			}
			b.WriteString("refmodel:\n")
			for _, ev := range want {
				fmt.Fprintf(&b, "  %s\n", fmtEvent(ev))
			}
			return b.String()
		}
		if err := ref.Check(); err != nil {
			return fmt.Sprintf("command %d: refmodel invariants: %v", i, err)
		}
		if err := checkEngine(eng); err != nil {
			return fmt.Sprintf("command %d: engine invariants: %v", i, err)
		}
	}
	return ""
}

// TestRegressions replays, after the generator's boot commands, short
// command lists that once made the engine and the model disagree. Each is a
// bug the differential test or FuzzCommands found; the fuzz seeds depend on
// the generator's decoding and may drift, these do not.
func TestRegressions(t *testing.T) {
	const (
		buy  = matching.Buy
		stop = matching.Stop
		gtc  = matching.GTC
	)
	tests := []struct {
		name string
		cmds []matching.Command
	}{
		{"replaced stop moves in the trigger order", []matching.Command{
			{Kind: matching.CmdNewOrder, Session: 1010, Account: 10, Symbol: symUSD, Side: buy, Type: stop, TIF: gtc, StopPx: 6000100, Qty: 10000},
			{Kind: matching.CmdNewOrder, Session: 1011, Account: 11, Symbol: symUSD, Side: buy, Type: stop, TIF: gtc, StopPx: 6000200, Qty: 10000},
			{Kind: matching.CmdReplace, Session: 1010, Account: 10, Symbol: symUSD, Side: buy, Type: stop, TIF: gtc, StopPx: 6000300, Qty: 10000, OrderID: 1},
			{Kind: matching.CmdNewOrder, Session: 1012, Account: 12, Symbol: symUSD, Side: matching.Sell, Type: matching.Limit, TIF: gtc, Px: 6000300, Qty: 10000},
			{Kind: matching.CmdNewOrder, Session: 1013, Account: 13, Symbol: symUSD, Side: buy, Type: matching.Limit, TIF: matching.IOC, Px: 6000300, Qty: 10000},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmds := newGenerator(newRNGSource(1)).boot
			cmds = append(cmds, tt.cmds...)
			for i := range cmds {
				cmds[i].Seq = uint64(i + 1)
				cmds[i].Time = startTime + int64(i)
			}
			if what := fails(cmds); what != "" {
				t.Fatal(what)
			}
		})
	}
}
