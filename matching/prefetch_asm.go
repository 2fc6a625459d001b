//go:build amd64 || arm64

package matching

// prefetch asks the CPU to bring the cache line at addr closer. It is only
// a hint: it reads nothing the program sees, cannot fault, and changes no
// result.
//
//go:noescape
func prefetch(addr uintptr)
