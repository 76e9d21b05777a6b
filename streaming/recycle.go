package streaming

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// recycler is a memory.Allocator that keeps freed buffers for reuse, in
// power-of-two size classes, instead of leaving them to the garbage
// collector. The shuffle's gather allocates a window's worth of new
// buffers per chunk and writes every byte of them; recycling spares the
// collector that churn and the zeroing of fresh memory. Its memory is not
// zeroed. It serves the gather only, and only when the stream uses the
// default allocator (a caller-supplied allocator is always used as given).
type recycler struct {
	classes [48]sync.Pool // class c holds *[]byte of capacity 1<<c
}

// gatherMem is the recycler shared by all streams.
var gatherMem = &recycler{}

// bufferAllocator returns the allocator gathered buffers come from.
func bufferAllocator(mem memory.Allocator) memory.Allocator {
	if mem == memory.DefaultAllocator {
		return gatherMem
	}
	return mem
}

func sizeClass(n int) int {
	if n <= 64 {
		return 6
	}
	return bits.Len(uint(n - 1))
}

func (r *recycler) Allocate(size int) []byte {
	c := sizeClass(size)
	if c >= len(r.classes) {
		return make([]byte, size)
	}
	if v, ok := r.classes[c].Get().(*[]byte); ok {
		return (*v)[:size]
	}
	return make([]byte, size, 1<<c)
}

func (r *recycler) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := r.Allocate(size)
	copy(nb, b)
	r.Free(b)
	return nb
}

func (r *recycler) Free(b []byte) {
	c := sizeClass(cap(b))
	if c < len(r.classes) && cap(b) == 1<<c {
		b = b[:cap(b)]
		r.classes[c].Put(&b)
	}
}
