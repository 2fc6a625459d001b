package backoffice

import (
	"strconv"
	"time"
)

// rowText builds rows in COPY's text format (tab between columns, \N for
// NULL, backslash escapes), so a batch is one buffer per table, sent as
// it is: no value passes through an interface on the way.
type rowText struct {
	buf  []byte
	rows int
}

func (r *rowText) reset() { r.buf, r.rows = r.buf[:0], 0 }

func (r *rowText) int(v int64) *rowText {
	r.buf = strconv.AppendInt(r.buf, v, 10)
	r.buf = append(r.buf, '\t')
	return r
}

func (r *rowText) null() *rowText {
	r.buf = append(r.buf, '\\', 'N', '\t')
	return r
}

// id is an id column that is NULL when 0.
func (r *rowText) id(v uint64) *rowText {
	if v == 0 {
		return r.null()
	}
	return r.int(int64(v))
}

func (r *rowText) bool(v bool) *rowText {
	if v {
		r.buf = append(r.buf, 't', '\t')
	} else {
		r.buf = append(r.buf, 'f', '\t')
	}
	return r
}

func (r *rowText) char(c byte) *rowText {
	r.buf = append(r.buf, c, '\t')
	return r
}

func (r *rowText) str(s string) *rowText {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			r.buf = append(r.buf, '\\', '\\')
		case '\t':
			r.buf = append(r.buf, '\\', 't')
		case '\n':
			r.buf = append(r.buf, '\\', 'n')
		case '\r':
			r.buf = append(r.buf, '\\', 'r')
		default:
			r.buf = append(r.buf, c)
		}
	}
	r.buf = append(r.buf, '\t')
	return r
}

// dec is units × the scale's unit, as NUMERIC text.
func (r *rowText) dec(s *scale, units int64) *rowText {
	if s.pow10 {
		r.buf = appendScaled(r.buf, units, s.digits)
	} else {
		r.buf = append(r.buf, s.decimal(units).String()...)
	}
	r.buf = append(r.buf, '\t')
	return r
}

// optDec is dec, or NULL for 0 (an order without a limit or stop price).
func (r *rowText) optDec(s *scale, units int64) *rowText {
	if units == 0 {
		return r.null()
	}
	return r.dec(s, units)
}

func (r *rowText) text(s string) *rowText {
	r.buf = append(r.buf, s...)
	r.buf = append(r.buf, '\t')
	return r
}

// ts is a timestamptz from unix nanoseconds, to the microsecond
// PostgreSQL keeps (truncated, so a rebuild writes the same value).
func (r *rowText) ts(nanos int64) *rowText {
	r.buf = time.Unix(0, nanos).UTC().AppendFormat(r.buf, "2006-01-02 15:04:05.000000Z")
	r.buf = append(r.buf, '\t')
	return r
}

// end closes the row.
func (r *rowText) end() {
	r.buf[len(r.buf)-1] = '\n'
	r.rows++
}
