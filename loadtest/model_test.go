package loadtest

import (
	"testing"

	"github.com/shopspring/decimal"
)

// TestModel: every order of every kind of trader is on the tick (integer
// ticks rendered with exactly the tick's decimals), inside the band, with
// a quantity on the step between the minimum and 0.01 BTC; makers never
// cross the mid, takers do.
func TestModel(t *testing.T) {
	sym := BTCUSD
	tick := decimal.New(1, -int32(sym.PxDecimals))
	step := decimal.New(1, -int32(sym.QtyDecimals))
	ref := decimal.RequireFromString("60000.00")
	bandLo := ref.Mul(decimal.RequireFromString("0.8"))
	bandHi := ref.Mul(decimal.RequireFromString("1.2"))
	minQty := decimal.RequireFromString("0.0001")
	maxQty := decimal.RequireFromString("0.01")
	for _, take := range []int{0, 500, 1000} {
		for seed := uint64(1); seed <= 5; seed++ {
			m := NewModel(sym, seed, take)
			var makers, takers, iocs int
			for range 20_000 {
				o := m.Next()
				px := decimal.RequireFromString(string(appendFixed(nil, o.PxTicks, sym.PxDecimals)))
				qty := decimal.RequireFromString(string(appendFixed(nil, o.QtySats, sym.QtyDecimals)))
				if !px.Mod(tick).IsZero() || px.LessThan(bandLo) || px.GreaterThan(bandHi) {
					t.Fatalf("take %d seed %d: price %s off the tick or outside the band", take, seed, px)
				}
				if !qty.Mod(step).IsZero() || qty.LessThan(minQty) || qty.GreaterThan(maxQty) {
					t.Fatalf("take %d seed %d: quantity %s off the step or out of range", take, seed, qty)
				}
				if o.Side != Buy && o.Side != Sell {
					t.Fatalf("side %q", o.Side)
				}
				crosses := (o.Side == Buy && px.GreaterThan(ref)) || (o.Side == Sell && px.LessThan(ref))
				if o.IsTaker != crosses {
					t.Fatalf("take %d: %+v: taker %v but crosses the mid %v", take, o, o.IsTaker, crosses)
				}
				if o.IsResting != (o.TIF == GTC) {
					t.Fatalf("%+v: resting %v with TIF %c", o, o.IsResting, o.TIF)
				}
				if o.IsTaker {
					takers++
					if o.TIF == IOC {
						iocs++
					}
				} else {
					makers++
				}
			}
			switch take {
			case 0:
				if takers != 0 {
					t.Fatalf("maker sent %d taker orders", takers)
				}
			case 1000:
				if makers != 0 || iocs < takers*8/10 {
					t.Fatalf("taker: %d maker orders, %d of %d IOC", makers, iocs, takers)
				}
			default:
				if makers < 9000 || takers < 9000 {
					t.Fatalf("mixed: %d makers, %d takers", makers, takers)
				}
			}
		}
	}
}

// TestModelDeterministic: the same seed gives the same orders.
func TestModelDeterministic(t *testing.T) {
	a, b := NewModel(BTCUSD, 42, 500), NewModel(BTCUSD, 42, 500)
	for i := range 1000 {
		if x, y := a.Next(), b.Next(); x != y {
			t.Fatalf("order %d: %+v != %+v", i, x, y)
		}
	}
}

func TestAppendFixed(t *testing.T) {
	tests := []struct {
		name     string
		v        int64
		decimals int
		want     string
	}{
		{"price", 6_000_000, 2, "60000.00"},
		{"price one tick", 6_000_001, 2, "60000.01"},
		{"small price", 5, 2, "0.05"},
		{"zero", 0, 2, "0.00"},
		{"min qty", 10_000, 8, "0.00010000"},
		{"max qty", 1_000_000, 8, "0.01000000"},
		{"one sat", 1, 8, "0.00000001"},
		{"whole btc", 123_456_789, 8, "1.23456789"},
		{"no decimals", 42, 0, "42"},
		{"negative", -150, 2, "-1.50"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendFixed(nil, tc.v, tc.decimals)); got != tc.want {
				t.Fatalf("appendFixed(%d, %d) = %q, want %q", tc.v, tc.decimals, got, tc.want)
			}
		})
	}
}

func TestParseFixed(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		decimals int
		want     int64
		ok       bool
	}{
		{"price", "60000.00", 2, 6_000_000, true},
		{"price no decimals", "60000", 2, 6_000_000, true},
		{"price one decimal", "60000.5", 2, 6_000_050, true},
		{"price trailing zeros", "60000.0100", 2, 6_000_001, true},
		{"qty short", "0.0100", 8, 1_000_000, true},
		{"qty full", "0.00010000", 8, 10_000, true},
		{"leading dot", ".5", 2, 50, true},
		{"more decimals than the unit", "60000.001", 2, 0, false},
		{"empty", "", 2, 0, false},
		{"dot only", ".", 2, 0, false},
		{"two dots", "1.2.3", 2, 0, false},
		{"sign", "-1.00", 2, 0, false},
		{"exponent", "1e5", 2, 0, false},
		{"too long", "12345678901234567890", 2, 0, false},
		{"overflow by scaling", "999999999999999999", 8, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFixed([]byte(tc.in), tc.decimals)
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseFixed(%q, %d) = %d, %v; want %d, ok %v", tc.in, tc.decimals, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		name      string
		n, mk, tk int
		want      []int
	}{
		{"one session mixed", 1, 1, 1, []int{500}},
		{"one maker", 1, 1, 0, []int{0}},
		{"two even", 2, 1, 1, []int{0, 1000}},
		{"three even", 3, 1, 1, []int{0, 0, 1000}},
		{"three taker heavy", 3, 1, 2, []int{0, 1000, 1000}},
		{"three maker heavy keeps a taker", 3, 10, 1, []int{0, 0, 1000}},
		{"three taker heavy keeps a maker", 3, 1, 10, []int{0, 1000, 1000}},
		{"makers only", 3, 1, 0, []int{0, 0, 0}},
		{"takers only", 2, 0, 1, []int{1000, 1000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Roles(tc.n, tc.mk, tc.tk)
			if len(got) != len(tc.want) {
				t.Fatalf("Roles = %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("Roles = %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestNotional128(t *testing.T) {
	c := newCounters()
	// 20 x (72,000.00 x 1,000 BTC): past int64 in 1e-10 USD units.
	for range 20 {
		c.addNotional(7_200_000, 100_000_000_000)
	}
	if got, want := c.notional(BTCUSD).String(), "1440000000"; got != want {
		t.Fatalf("notional = %s, want %s", got, want)
	}
	var d counters = newCounters()
	d.add(&c)
	d.add(&c)
	if got, want := d.notional(BTCUSD).String(), "2880000000"; got != want {
		t.Fatalf("notional = %s, want %s", got, want)
	}
}
