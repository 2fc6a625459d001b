//go:build engineab

// Command engineab times two versions of the matching engine against each
// other in one process: the working tree's and a base revision's, copied
// into internal/engineab/base by scripts/engine-ab.sh. It replays the same
// benchmix flow into both, alternating version by version and round by
// round, so that the machine's noise (other tenants of the host take half
// the throughput away for seconds at a time here) falls on both alike,
// and prints each round's pair and the medians.
//
// Both versions must lay out Command, SymbolSpec and AccountSpec alike:
// the base replays the working tree's commands through a pointer
// conversion. It checks that first and refuses otherwise.
package main

import (
	"flag"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"slices"
	"time"
	"unsafe"

	base "venue/internal/engineab/base"
	"venue/matching"
	"venue/matching/benchmix"
)

func main() {
	rounds := flag.Int("rounds", 12, "timed passes per version")
	noClOrdID := flag.Bool("no-clordid", false, "replay the flow without ClOrdIDs")
	prefetch := flag.Bool("prefetch", false, "announce each command's successor with Prefetch, as the sequencer does (both versions must have it)")
	flag.Parse()
	for _, p := range [][2]reflect.Type{
		{reflect.TypeFor[matching.Command](), reflect.TypeFor[base.Command]()},
		{reflect.TypeFor[matching.SymbolSpec](), reflect.TypeFor[base.SymbolSpec]()},
		{reflect.TypeFor[matching.AccountSpec](), reflect.TypeFor[base.AccountSpec]()},
	} {
		if err := sameLayout(p[0], p[1]); err != nil {
			fmt.Fprintln(os.Stderr, "engineab:", err)
			os.Exit(2)
		}
	}
	mix := benchmix.Make(1_000_000)
	if *noClOrdID {
		mix = mix.WithoutClOrdIDs()
	}
	var ops [2][]float64
	for round := range *rounds {
		for k := range 2 {
			v := k ^ round&1 // base first in even rounds, working tree first in odd
			var d time.Duration
			var n int
			if v == 0 {
				e := base.New()
				apply := func(c *matching.Command) { e.Apply((*base.Command)(unsafe.Pointer(c))) }
				var pf func(c *matching.Command)
				if *prefetch {
					p, ok := any(e).(interface{ Prefetch(*base.Command) })
					if !ok {
						fmt.Fprintln(os.Stderr, "engineab: the base engine has no Prefetch")
						os.Exit(2)
					}
					pf = func(c *matching.Command) { p.Prefetch((*base.Command)(unsafe.Pointer(c))) }
				}
				d, n = timeSecondHalf(mix, apply, pf, nil) // the base's own, as it was
			} else {
				e := matching.New()
				var pf func(c *matching.Command)
				if *prefetch {
					pf = e.Prefetch
				}
				d, n = timeSecondHalf(mix, func(c *matching.Command) { e.Apply(c) }, pf, matching.PrefetchClOrdID)
			}
			ops[v] = append(ops[v], float64(n)/d.Seconds())
		}
		fmt.Printf("round %2d: base %9.0f  tree %9.0f ops/s  tree/base %.2f\n",
			round, ops[0][round], ops[1][round], ops[1][round]/ops[0][round])
	}
	ratios := make([]float64, *rounds)
	for i := range ratios {
		ratios[i] = ops[1][i] / ops[0][i]
	}
	fmt.Printf("median: base %.0f ops/s, tree %.0f ops/s, tree/base %.2f (paired)\n",
		median(ops[0]), median(ops[1]), median(ratios))
}

// timeSecondHalf warms an engine on the setup and the first half of the
// flow, untimed, and times the rest (benchmix.Replay, with prefetch and
// ahead if not nil); it returns the time and how many commands it timed.
// ahead is the working tree's matching.PrefetchClOrdID: the base, which
// may predate it, does without, so the tool measures it too.
func timeSecondHalf(mix *benchmix.Mix, apply, prefetch, ahead func(*matching.Command)) (time.Duration, int) {
	timed := mix.Warm(apply)
	runtime.GC()
	t := time.Now()
	benchmix.Replay(timed, apply, prefetch, ahead)
	return time.Since(t), len(timed)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// sameLayout reports whether two struct types have the same fields at the
// same offsets with the same kinds and sizes, recursively through pointers
// and arrays to structs.
func sameLayout(a, b reflect.Type) error {
	if a.Kind() != b.Kind() || a.Size() != b.Size() {
		return fmt.Errorf("%v and base %v differ: %v/%d bytes vs %v/%d", a, b, a.Kind(), a.Size(), b.Kind(), b.Size())
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Array, reflect.Slice:
		return sameLayout(a.Elem(), b.Elem())
	case reflect.Struct:
		if a.NumField() != b.NumField() {
			return fmt.Errorf("%v has %d fields, base %d", a, a.NumField(), b.NumField())
		}
		for i := range a.NumField() {
			fa, fb := a.Field(i), b.Field(i)
			if fa.Name != fb.Name || fa.Offset != fb.Offset {
				return fmt.Errorf("%v field %d: %s at %d, base %s at %d", a, i, fa.Name, fa.Offset, fb.Name, fb.Offset)
			}
			if err := sameLayout(fa.Type, fb.Type); err != nil {
				return err
			}
		}
	}
	return nil
}
