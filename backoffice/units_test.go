package backoffice

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/shopspring/decimal"
)

// TestScaleMatchesDecimal: the fast formatting of power-of-ten units is
// exactly shopspring/decimal's, and other units go through decimal.
func TestScaleMatchesDecimal(t *testing.T) {
	units := []string{"1", "0.01", "0.00000001", "0.0000000001", "0.10", "100", "0.05", "0.25"}
	r := rand.New(rand.NewPCG(1, 2))
	for _, us := range units {
		unit := decimal.RequireFromString(us)
		s := newScale(unit)
		vals := []int64{0, 1, -1, 9, 10, 100, 123456789, -100000000, math.MaxInt64, math.MinInt64}
		for i := 0; i < 2000; i++ {
			vals = append(vals, r.Int64N(1e15)-5e14)
		}
		for _, v := range vals {
			got := s.dec(v)
			want := decimal.NewFromInt(v).Mul(unit)
			d, err := decimal.NewFromString(got)
			if err != nil || !d.Equal(want) {
				t.Fatalf("unit %s, %d units: got %q, want %s", us, v, got, want)
			}
		}
	}
	if s := newScale(decimal.RequireFromString("0.05")); s.pow10 {
		t.Error("0.05 taken for a power of ten")
	}
	if s := newScale(decimal.RequireFromString("0.0100")); !s.pow10 || s.digits != 2 {
		t.Errorf("0.0100: %+v", s)
	}
}
