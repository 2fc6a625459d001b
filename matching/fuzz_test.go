package matching_test

import (
	"testing"
)

// fuzzMaxCommands bounds one fuzz input's command stream after the boot
// commands, so every input runs in milliseconds.
const fuzzMaxCommands = 400

// FuzzCommands reads the generator's choices from the fuzzer's bytes: each
// choice takes one to four bytes, and the stream ends when they run out.
// The engine and the reference model must agree on every event and keep
// their invariants. Neither the decoder nor the harness may panic; a panic
// in either engine is reported as a failure.
func FuzzCommands(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("\x00\x10\x20\x30\x40\x50\x60\x70\x80\x90\xa0\xb0\xc0\xd0\xe0\xf0"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{data: data}
		g := newGenerator(src)
		d := newDiffRun(t, "fuzz input")
		// The boot commands take no choices: run them without spending
		// the input on their timestamps.
		for i, c := range g.boot {
			g.seq++
			c.Seq, c.Time = g.seq, g.now
			if _, ok := d.step(i, &c); !ok {
				return
			}
		}
		g.boot = nil
		for range fuzzMaxCommands {
			if src.exhausted() && len(g.pending) == 0 {
				break
			}
			cmd := g.next()
			want, ok := d.step(int(g.seq)-1, &cmd)
			if !ok {
				return
			}
			g.observe(want)
		}
		if err := checkEngine(d.eng); err != nil {
			t.Fatalf("engine invariants at the end: %v", err)
		}
	})
}
