package ops

import "sync"

// Gathers need a few index arrays as long as the rows they gather (which
// batch, which row, where each value starts). Allocated fresh, they are
// garbage at once; the collector then hands their pages back to the
// kernel and the next gather faults them in again, which on a shuffled
// read cost a quarter of the time. They are kept for reuse here.

var (
	int64Scratch = sync.Pool{New: func() any { return new([]int64) }}
	int32Scratch = sync.Pool{New: func() any { return new([]int32) }}
)

// scratchInt64 returns a slice of n int64s with unspecified contents;
// give it back with releaseInt64 once it is no longer used.
func scratchInt64(n int) *[]int64 {
	p := int64Scratch.Get().(*[]int64)
	if cap(*p) < n {
		*p = make([]int64, n)
	}
	*p = (*p)[:n]
	return p
}

func releaseInt64(p *[]int64) { int64Scratch.Put(p) }

// scratchInt32 is scratchInt64 for int32s.
func scratchInt32(n int) *[]int32 {
	p := int32Scratch.Get().(*[]int32)
	if cap(*p) < n {
		*p = make([]int32, n)
	}
	*p = (*p)[:n]
	return p
}

func releaseInt32(p *[]int32) { int32Scratch.Put(p) }
