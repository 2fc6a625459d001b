package matching

import "unsafe"

// Prefetch announces the command the caller will apply after the one it
// applies next: Prefetch(&c[i+1]), then Apply(&c[i]). It changes nothing
// (no state, no event, no result: a command announced and never applied,
// or applied unannounced, comes out the same) and only starts the loads
// the engine will need for it: the ClOrdID slot of the day's index and,
// for a cancel or replace, the order it names.
//
// The engine is bound by memory latency (BENCHMARKS.md). A caller that
// holds a batch of commands, as the sequencer does, announces each one's
// successor, so those loads overlap the current command's work instead of
// stalling the next. Measured in one process, alternating pass by pass:
// +37 % on the benchmark mix one command ahead, +16 % two ahead; also
// loading the named order's neighbours a step later gained nothing.
func (e *Engine) Prefetch(cmd *Command) {
	if cmd.ClOrdID != "" {
		x := &e.clOrdIDs
		h := x.hash(clKey{cmd.Session, cmd.ClOrdID})
		prefetch(uintptr(unsafe.Pointer(&x.slots[int(h)&(len(x.slots)-1)])))
	}
	if (cmd.Kind == CmdCancel || cmd.Kind == CmdReplace) && cmd.OrderID != 0 {
		// The ring's slot is a load of its own (the ring stays in the
		// cache); the order behind it is the miss worth starting.
		if o := e.orders.ring[cmd.OrderID&(orderRing-1)]; o != nil {
			p := uintptr(unsafe.Pointer(o))
			prefetch(p)
			prefetch(p + 64)
			prefetch(p + 128)
			prefetch(p + 192)
		}
	}
}

// PrefetchClOrdIDAhead is how many commands after the one being applied
// a caller calls PrefetchClOrdID for: Prefetch(&c[i+1]) hashes the
// ClOrdID that PrefetchClOrdID(&c[i+PrefetchClOrdIDAhead]) began loading.
const PrefetchClOrdIDAhead = 3

// PrefetchClOrdID starts loading the bytes of a command's ClOrdID, for a
// command a few after the next (PrefetchClOrdIDAhead): when Prefetch
// hashes them they are there. The gateway made the string on another
// core, so its first read is a cache miss, and it was the largest stall
// left in Prefetch. It touches nothing of the engine and changes nothing.
// Measured on the benchmark mix, alternating two test binaries: 191-198
// -> 176-184 ns a command with Prefetch (BENCHMARKS.md, fifth session).
func PrefetchClOrdID(cmd *Command) {
	if cmd.ClOrdID != "" {
		prefetch(uintptr(unsafe.Pointer(unsafe.StringData(cmd.ClOrdID))))
	}
}
