package streaming

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// recycler is a memory.Allocator that keeps freed buffers for reuse, in
// power-of-two size classes, instead of leaving them to the garbage
// collector. A stream allocates its data over and over in buffers of the
// same few sizes (decoded batches, gathered chunks); recycling spares the
// collector that churn and the kernel the page faults of fresh memory.
//
// Recyclers are used only when the stream's allocator is the default one
// (a caller-supplied allocator is always used as given).
type recycler struct {
	pools *sizePools
	// zero clears reused memory, as arrow-go's own allocators do; only
	// the gather, which writes every byte it allocates, goes without.
	zero bool
}

// sizePools holds freed buffers by size class, up to max bytes in all;
// beyond that, freed buffers are left to the garbage collector. Unlike a
// sync.Pool it is not emptied by each collection, so reuse does not depend
// on when the collector runs.
type sizePools struct {
	mu      sync.Mutex
	classes [48][][]byte // class c holds buffers of capacity 1<<c
	held    int          // bytes held
	max     int
}

// maxRecycled bounds the bytes the shared pools keep: a few decoded
// batches and gathered windows.
const maxRecycled = 48 << 20

func (p *sizePools) get(c int) ([]byte, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	l := p.classes[c]
	if len(l) == 0 {
		return nil, false
	}
	b := l[len(l)-1]
	l[len(l)-1] = nil
	p.classes[c] = l[:len(l)-1]
	p.held -= cap(b)
	return b, true
}

func (p *sizePools) put(c int, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held+cap(b) > p.max {
		return
	}
	p.classes[c] = append(p.classes[c], b)
	p.held += cap(b)
}

var (
	recycled = &sizePools{max: maxRecycled}
	// readMem serves the readers that decode shards.
	readMem = &recycler{pools: recycled, zero: true}
	// gatherMem serves the shuffle's gather.
	gatherMem = &recycler{pools: recycled}
)

// bufferAllocator returns the allocator gathered buffers come from.
func bufferAllocator(mem memory.Allocator) memory.Allocator {
	if mem == memory.DefaultAllocator {
		return gatherMem
	}
	return mem
}

// readAllocator returns the allocator shard readers decode into.
func readAllocator(mem memory.Allocator) memory.Allocator {
	if mem == memory.DefaultAllocator {
		return readMem
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
	if c >= len(r.pools.classes) {
		return make([]byte, size)
	}
	if b, ok := r.pools.get(c); ok {
		b = b[:size]
		if r.zero {
			clear(b)
		}
		return b
	}
	return make([]byte, size, 1<<c)
}

func (r *recycler) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := r.Allocate(size)
	copy(nb, b) // a zeroing recycler clears the whole buffer first: simple, and rare
	r.Free(b)
	return nb
}

func (r *recycler) Free(b []byte) {
	c := sizeClass(cap(b))
	if c < len(r.pools.classes) && cap(b) == 1<<c {
		r.pools.put(c, b[:cap(b)])
	}
}
