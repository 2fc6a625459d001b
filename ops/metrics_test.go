package ops

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// TestMetricsWriterGroupsAndEscapes: one HELP/TYPE per family, every sample
// of a family together even when added apart, label values escaped.
func TestMetricsWriterGroupsAndEscapes(t *testing.T) {
	var buf bytes.Buffer
	mw := &MetricsWriter{w: bufio.NewWriter(&buf)}
	mw.Metric("a_total", "counter", "A.", 1, "kind", "x")
	mw.Metric("b", "gauge", "B.", 2)
	mw.Metric("a_total", "counter", "", 3, "kind", "quote\"back\\slash\nnewline")
	mw.Histogram("h_seconds", "H.", []float64{0.1, 1}, []uint64{1, 2, 3}, 4.5)
	if err := mw.flush(); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"# HELP a_total A.", "# TYPE a_total counter",
		`a_total{kind="x"} 1`, `a_total{kind="quote\"back\\slash\nnewline"} 3`,
		"# HELP b B.", "# TYPE b gauge", "b 2",
		"# HELP h_seconds H.", "# TYPE h_seconds histogram",
		`h_seconds_bucket{le="0.1"} 1`, `h_seconds_bucket{le="1"} 3`, `h_seconds_bucket{le="+Inf"} 6`,
		"h_seconds_sum 4.5", "h_seconds_count 6", "",
	}, "\n")
	if buf.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}
