package refdata

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/shopspring/decimal"

	"venue/config"
	"venue/matching"
)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func ethDef() SymbolDef {
	return SymbolDef{ID: 2, Name: "ETH-USD", Base: "ETH", Quote: "USD", Tick: dec("0.01"), QtyStep: dec("0.00000001"),
		MinQty: dec("0.001"), MaxQty: dec("1000"), MaxNotional: dec("1000000"), RefPx: dec("3000"), BandBps: 2000,
		BaseAsset: 2, QuoteAsset: 1}
}

// TestUniverseAdd: a symbol joins with a new asset; adding it again is a
// no-op; a symbol or asset that contradicts what is known is refused and
// changes nothing.
func TestUniverseAdd(t *testing.T) {
	u, err := FromConfig(config.Default().Symbols)
	if err != nil {
		t.Fatal(err)
	}
	usd, _ := u.AssetByName("USD")
	eth := Asset{ID: 2, Name: "ETH", Unit: dec("0.00000001")}
	s, err := ethDef().Build()
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Add(s, eth, usd); err != nil {
		t.Fatal(err)
	}
	if got, ok := u.SymbolByName("ETH-USD"); !ok || got.Spec.ID != 2 || got.Spec.MinQty != 100_000 || got.Spec.RefPx != 300_000 {
		t.Fatalf("ETH-USD: %+v %v", got, ok)
	}
	if err := u.Add(s, eth, usd); err != nil {
		t.Errorf("adding the same symbol again: %v", err)
	}
	for _, tc := range []struct {
		name string
		def  func(*SymbolDef)
		as   []Asset
		want string
	}{
		{"same id, another name", func(d *SymbolDef) { d.Name = "LTC-USD"; d.Base = "LTC"; d.BaseAsset = 3 },
			[]Asset{{ID: 3, Name: "LTC", Unit: dec("0.00000001")}, usd}, "symbol id 2 is ETH-USD already"},
		{"same name, another id", func(d *SymbolDef) { d.ID = 3 }, []Asset{eth, usd}, "symbol ETH-USD has id 2 already"},
		{"asset id taken", func(d *SymbolDef) { d.ID, d.Name, d.Base = 3, "LTC-USD", "LTC" },
			[]Asset{{ID: 2, Name: "LTC", Unit: dec("0.00000001")}, usd}, "asset id 2 is ETH already"},
		{"asset unit", func(d *SymbolDef) { d.ID, d.Name, d.Quote, d.Tick = 3, "ETH-EUR", "EUR", dec("0.1") },
			[]Asset{eth, {ID: 3, Name: "EUR", Unit: dec("0.000000001")}, {ID: 2, Name: "ETH", Unit: dec("0.0001")}}, "asset ETH is id 2 with unit 0.00000001 already"},
		{"quote unit", func(d *SymbolDef) { d.ID, d.Name, d.Tick = 3, "ETH-USD2", dec("0.1") }, []Asset{eth, usd},
			"is not the unit of USD"},
	} {
		d := ethDef()
		tc.def(&d)
		sym, err := d.Build()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		before := len(u.Symbols()) + len(u.Assets())
		if err := u.Add(sym, tc.as...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if after := len(u.Symbols()) + len(u.Assets()); after != before {
			t.Errorf("%s: a refused add changed the universe (%d -> %d)", tc.name, before, after)
		}
	}
}

// TestSymbolDefBuild: a definition is refused, field named, rather than
// rounded.
func TestSymbolDefBuild(t *testing.T) {
	for _, tc := range []struct {
		def  func(*SymbolDef)
		want string
	}{
		{func(d *SymbolDef) { d.Tick = dec("0") }, "tick 0: must be positive"},
		{func(d *SymbolDef) { d.QtyStep = dec("-1") }, "qty_step -1: must be positive"},
		{func(d *SymbolDef) { d.MinQty = dec("0.000000001") }, "min_qty 0.000000001: not a whole multiple of the unit"},
		{func(d *SymbolDef) { d.MaxQty = dec("0.0001") }, "max_qty 0.0001: below min_qty"},
		{func(d *SymbolDef) { d.MaxNotional = dec("0.00000000001") }, "max_notional 0.00000000001: not a whole multiple of the unit"},
		{func(d *SymbolDef) { d.RefPx = dec("3000.001") }, "ref_px 3000.001: not a whole multiple of the unit"},
		{func(d *SymbolDef) { d.RefPx = dec("1e30") }, "ref_px 1000000000000000000000000000000: too large"},
		{func(d *SymbolDef) { d.BandBps = 0 }, "band_bps 0: must be 1..9999"},
	} {
		d := ethDef()
		tc.def(&d)
		if _, err := d.Build(); err == nil || err.Error() != tc.want {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
	d := ethDef()
	d.Halted = true
	if s, err := d.Build(); err != nil || s.Spec.Status != matching.StatusHalted {
		t.Errorf("listed halted: %+v %v", s, err)
	}
}

// TestUniverseConcurrent: lookups run while symbols are added (go test
// -race finds a data race here if the snapshot is not immutable).
func TestUniverseConcurrent(t *testing.T) {
	u, err := FromConfig(config.Default().Symbols)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, s := range u.Symbols() {
				if got, ok := u.SymbolByID(s.Spec.ID); !ok || got != s {
					t.Errorf("symbol %d", s.Spec.ID)
					return
				}
			}
		}
	}()
	usd, _ := u.AssetByName("USD")
	btc, _ := u.AssetByName("BTC")
	for i := 2; i < 200; i++ {
		d := ethDef()
		d.ID, d.Name, d.Base, d.BaseAsset = matching.SymbolID(i), "BTC-USD"+strings.Repeat("X", i), "BTC", btc.ID
		s, err := d.Build()
		if err != nil {
			t.Fatal(err)
		}
		if err := u.Add(s, btc, usd); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if n := len(u.Symbols()); n != 199 {
		t.Errorf("%d symbols", n)
	}
}

// TestUnitFormat: the fast formatting of amounts in units writes exactly
// what decimal.NewFromInt(n).Mul(unit).String() does, for units of every
// shape and amounts of every size and sign (beyond int64 after scaling it
// falls back to the decimal).
func TestUnitFormat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, u := range []string{"0.01", "0.00000001", "0.0000000001", "0.05", "5", "50", "2.5", "1", "0.125", "1E+2", "0.000000000000000001"} {
		unit := dec(u)
		f := newUnitFormat(unit)
		for i := 0; i < 20000; i++ {
			var n int64
			switch i % 4 {
			case 0:
				n = rng.Int64N(1000)
			case 1:
				n = rng.Int64N(1 << 40)
			case 2:
				n = rng.Int64()
			default:
				n = -rng.Int64N(1 << 50)
			}
			want := decimal.NewFromInt(n).Mul(unit).String()
			if got := string(f.appendUnits(nil, n)); got != want {
				t.Fatalf("unit %s, %d units: %q, want %q", u, n, got, want)
			}
		}
	}
}

// TestAppendAvgPx: the average price written fast equals AvgPx's decimal,
// whether or not the average is a whole number of ticks.
func TestAppendAvgPx(t *testing.T) {
	s, err := ethDef().Build()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 20000; i++ {
		cum := 1 + rng.Int64N(1<<30)
		notional := rng.Int64N(1 << 40)
		if i%2 == 0 {
			notional = cum * rng.Int64N(1<<20)
		}
		if got, want := string(s.AppendAvgPx(nil, notional, cum)), s.AvgPx(notional, cum).String(); got != want {
			t.Fatalf("AvgPx(%d, %d): %q, want %q", notional, cum, got, want)
		}
	}
	if got := string(s.AppendAvgPx(nil, 0, 0)); got != "0" {
		t.Errorf("AvgPx of nothing: %q", got)
	}
}

// TestSessionByID: the id index follows puts, a session's id changing and
// removals.
func TestSessionByID(t *testing.T) {
	d := NewDirectory()
	d.PutSession(Session{CompID: "A", ID: 1})
	d.PutSession(Session{CompID: "B", ID: 2})
	if s, ok := d.SessionByID(2); !ok || s.CompID != "B" {
		t.Fatalf("id 2: %+v %v", s, ok)
	}
	d.PutSession(Session{CompID: "B", ID: 3}) // B's row given another id
	if _, ok := d.SessionByID(2); ok {
		t.Error("id 2 still found after B moved to 3")
	}
	if s, ok := d.SessionByID(3); !ok || s.CompID != "B" {
		t.Errorf("id 3: %+v %v", s, ok)
	}
	d.RemoveSession("A")
	if _, ok := d.SessionByID(1); ok {
		t.Error("id 1 found after A was removed")
	}
	if s, ok := d.SessionByID(3); !ok || s.CompID != "B" {
		t.Errorf("id 3 after removing A: %+v %v", s, ok)
	}
}

// FuzzUnitFormat: for any unit and amount, the fast formatting writes what
// shopspring/decimal writes.
func FuzzUnitFormat(f *testing.F) {
	for _, s := range []struct {
		unit string
		n    int64
	}{{"0.01", 6000000}, {"0.00000001", 1}, {"0.05", -3}, {"1E+2", 7}, {"2.5", 0}, {"0.0000000001", 1 << 62}} {
		f.Add(s.unit, s.n)
	}
	f.Fuzz(func(t *testing.T, u string, n int64) {
		unit, err := decimal.NewFromString(u)
		if err != nil || !unit.IsPositive() || unit.Exponent() < -30 || unit.Exponent() > 30 {
			return
		}
		uf := newUnitFormat(unit)
		if got, want := string(uf.appendUnits(nil, n)), decimal.NewFromInt(n).Mul(unit).String(); got != want {
			t.Fatalf("unit %s, %d units: %q, want %q", u, n, got, want)
		}
	})
}
