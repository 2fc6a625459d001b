package backoffice

import (
	"math/big"
	"strconv"

	"github.com/shopspring/decimal"
)

// scale turns an integer count of engine units into the decimal text of
// the currency amount (units × unit) that PostgreSQL NUMERIC reads. Units
// that are a power of ten (0.01 USD, 0.00000001 BTC: every unit the venue
// has) are formatted by placing the decimal point, which is exact and
// allocates one string; any other unit goes through shopspring/decimal.
type scale struct {
	unit   decimal.Decimal
	digits int  // unit = 10^-digits, when pow10
	pow10  bool // unit is 10^-digits with digits >= 0
}

func newScale(unit decimal.Decimal) scale {
	s := scale{unit: unit}
	c, exp := unit.Coefficient(), unit.Exponent()
	// Normalize 100 × 10^-4 to 1 × 10^-2.
	ten := decimal.NewFromInt(10).BigInt()
	for c.Sign() > 0 {
		q, r := new(big.Int).QuoRem(c, ten, new(big.Int))
		if r.Sign() != 0 {
			break
		}
		c, exp = q, exp+1
	}
	if c.IsInt64() && c.Int64() == 1 && exp <= 0 {
		s.digits, s.pow10 = int(-exp), true
	}
	return s
}

// dec returns units × unit as decimal text.
func (s scale) dec(units int64) string {
	if !s.pow10 {
		return decimal.NewFromInt(units).Mul(s.unit).String()
	}
	var buf [48]byte
	return string(appendScaled(buf[:0], units, s.digits))
}

// decimal returns units × unit.
func (s scale) decimal(units int64) decimal.Decimal {
	return decimal.NewFromInt(units).Mul(s.unit)
}

// appendScaled appends v × 10^-digits in plain decimal notation, with
// trailing fractional zeros trimmed (as decimal.String does).
func appendScaled(b []byte, v int64, digits int) []byte {
	if digits == 0 {
		return strconv.AppendInt(b, v, 10)
	}
	neg := v < 0
	var mag [24]byte
	var u uint64
	if neg {
		u = uint64(-(v + 1)) + 1 // also right for math.MinInt64
	} else {
		u = uint64(v)
	}
	m := strconv.AppendUint(mag[:0], u, 10)
	// Trim trailing zeros that fall in the fraction.
	frac := digits
	for frac > 0 && len(m) > 1 && m[len(m)-1] == '0' {
		m = m[:len(m)-1]
		frac--
	}
	if u == 0 {
		return append(b, '0')
	}
	if neg {
		b = append(b, '-')
	}
	if frac == 0 {
		return append(b, m...)
	}
	if len(m) <= frac {
		b = append(b, '0', '.')
		for i := len(m); i < frac; i++ {
			b = append(b, '0')
		}
		return append(b, m...)
	}
	b = append(b, m[:len(m)-frac]...)
	b = append(b, '.')
	return append(b, m[len(m)-frac:]...)
}
