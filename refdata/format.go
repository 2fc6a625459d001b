package refdata

import (
	"math"
	"math/big"
	"strconv"

	"github.com/shopspring/decimal"
)

// unitFormat writes n units of a decimal unit (mant × 10^exp) exactly as
// decimal.NewFromInt(n).Mul(unit).String() does (no exponent, trailing
// zeros trimmed), without allocating: the execution reports of every order
// carry five or six such amounts.
type unitFormat struct {
	unit decimal.Decimal
	mant int64 // > 0 when the fast path applies
	exp  int32 // <= 0
}

func newUnitFormat(unit decimal.Decimal) unitFormat {
	f := unitFormat{unit: unit}
	c, e := unit.Coefficient(), unit.Exponent()
	for e > 0 && c.IsInt64() && c.Int64() <= math.MaxInt64/10 { // 5E+1 -> 50
		c = new(big.Int).Mul(c, big.NewInt(10))
		e--
	}
	if c.Sign() > 0 && c.IsInt64() && e <= 0 && e > -19 {
		f.mant, f.exp = c.Int64(), e
	}
	return f
}

// appendUnits appends the decimal of n units to dst.
func (f *unitFormat) appendUnits(dst []byte, n int64) []byte {
	if f.mant == 0 || n > math.MaxInt64/f.mant || n < -math.MaxInt64/f.mant {
		return append(dst, decimal.NewFromInt(n).Mul(f.unit).String()...)
	}
	v := n * f.mant
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	if v == 0 {
		return append(dst, '0')
	}
	var buf [24]byte
	digits := strconv.AppendInt(buf[:0], v, 10)
	frac := int(-f.exp) // digits after the point
	for frac > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
		frac--
	}
	switch intLen := len(digits) - frac; {
	case frac == 0:
		return append(dst, digits...)
	case intLen > 0:
		dst = append(dst, digits[:intLen]...)
		dst = append(dst, '.')
		return append(dst, digits[intLen:]...)
	default:
		dst = append(dst, '0', '.')
		dst = appendZeros(dst, -intLen)
		return append(dst, digits...)
	}
}

func appendZeros(dst []byte, n int) []byte {
	for ; n > 0; n-- {
		dst = append(dst, '0')
	}
	return dst
}
