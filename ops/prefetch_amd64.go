package ops

// prefetch asks the processor to bring the cache line holding addr into
// its caches without waiting for it. A prefetch never faults: addr need
// not be mapped.
//
//go:noescape
func prefetch(addr uintptr)
