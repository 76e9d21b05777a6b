//go:build !amd64

package ops

// prefetchLines is a no-op where no prefetch instruction is wired up.
func prefetchLines(addr, end uintptr) {}
