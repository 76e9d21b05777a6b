package ops

// prefetchLines asks the processor to bring every cache line from the one
// holding addr up to end (exclusive) into its caches, without waiting for
// them. A prefetch never faults: the addresses need not be mapped.
//
//go:noescape
func prefetchLines(addr, end uintptr)
