//go:build !amd64 && !arm64

package matching

func prefetch(uintptr) {}
