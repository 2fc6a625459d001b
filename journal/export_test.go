package journal

// InlineSpares makes writers make their spare segment files on their own
// goroutine while on is true, so a test on faultfs knows when they are
// written.
func InlineSpares(on bool) { inlineSpares = on }

// SpareMade waits for the spare being made and reports whether it is
// ready to become the next segment.
func SpareMade(w *Writer) bool { return w.waitSpare() }
