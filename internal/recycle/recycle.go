// Package recycle provides a memory.Allocator that keeps freed buffers for
// reuse, in power-of-two size classes, instead of leaving them to the
// garbage collector.
//
// Iterating a dataset or a stream allocates the same few buffer sizes over
// and over (decoded batches, gathered batches) and frees them as soon as the
// consumer is done. Handing those buffers out again spares the collector
// the churn and the kernel the page faults of fresh memory, which on a
// shuffled read cost more than the copying itself.
//
// Ownership is arrow's: a buffer returns to its pool when the last
// reference is released, so data borrowed from a released batch (a string
// from array.String.Value, a byte slice) may be overwritten afterwards.
// Callers that keep such values beyond a batch's life must copy them.
package recycle

import (
	"math/bits"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultMaxBytes bounds the bytes Default keeps: a few decoded batches and
// gathered windows.
const DefaultMaxBytes = 64 << 20

// Default is the process-wide recycling allocator that packages use in place
// of memory.DefaultAllocator (see For).
var Default = New(DefaultMaxBytes)

// Allocator is a memory.Allocator over size-class pools (four classes per
// power of two above 64 bytes, so a buffer's capacity exceeds its size by
// at most a quarter) holding up to a
// fixed number of bytes; beyond that, freed buffers are left to the garbage
// collector. Unlike a sync.Pool it is not emptied by each collection, so
// reuse does not depend on when the collector runs. It is safe for
// concurrent use.
//
// Allocate returns zeroed memory, as arrow-go's own allocators do;
// AllocateUnzeroed skips the clearing for code that writes every byte it
// allocates.
type Allocator struct {
	mu      sync.Mutex
	classes [numClasses][][]byte // class c holds buffers of capacity classSize(c)
	held    int                  // bytes held
	max     int
}

// New returns an Allocator that keeps at most maxBytes of freed buffers.
func New(maxBytes int) *Allocator { return &Allocator{max: maxBytes} }

// For returns Default when mem is arrow's default allocator and mem itself
// otherwise: a caller-supplied allocator is always used as given.
func For(mem memory.Allocator) memory.Allocator {
	if mem == nil || mem == memory.DefaultAllocator {
		return Default
	}
	return mem
}

// Unzeroed is implemented by allocators that can hand out memory without
// clearing it first.
type Unzeroed interface {
	AllocateUnzeroed(size int) []byte
}

// AllocateUnzeroed returns size bytes from mem whose contents are
// unspecified when mem implements Unzeroed, and mem.Allocate(size)
// otherwise. The caller must write every byte before publishing the
// memory.
func AllocateUnzeroed(mem memory.Allocator, size int) []byte {
	if u, ok := mem.(Unzeroed); ok {
		return u.AllocateUnzeroed(size)
	}
	return mem.Allocate(size)
}

// Held returns the bytes of freed buffers the allocator keeps for reuse.
func (a *Allocator) Held() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.held
}

// numClasses covers capacities up to 2^47 bytes.
const numClasses = 4 * 46

// sizeClass returns the smallest class whose capacity holds n bytes:
// class 0 holds 64 bytes, and class 4(e-6)+q (q = 1..4) holds
// 2^e + q*2^(e-2) bytes, for e >= 6.
func sizeClass(n int) int {
	if n <= 64 {
		return 0
	}
	e := bits.Len(uint(n-1)) - 1 // 2^e < n <= 2^(e+1)
	step := 1 << (e - 2)
	q := (n - 1<<e + step - 1) / step // 1..4
	return 4*(e-6) + q
}

// classSize returns the capacity of class c.
func classSize(c int) int {
	if c == 0 {
		return 64
	}
	e, q := (c-1)/4+6, (c-1)%4+1
	return 1<<e + q*(1<<(e-2))
}

func (a *Allocator) get(c int) ([]byte, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	l := a.classes[c]
	if len(l) == 0 {
		return nil, false
	}
	b := l[len(l)-1]
	l[len(l)-1] = nil
	a.classes[c] = l[:len(l)-1]
	a.held -= cap(b)
	return b, true
}

func (a *Allocator) put(c int, b []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held+cap(b) > a.max {
		return
	}
	a.classes[c] = append(a.classes[c], b)
	a.held += cap(b)
}

// AllocateUnzeroed returns size bytes, reused when a freed buffer of the
// size class is kept, with unspecified contents.
func (a *Allocator) AllocateUnzeroed(size int) []byte {
	c := sizeClass(size)
	if c >= len(a.classes) {
		return make([]byte, size)
	}
	if b, ok := a.get(c); ok {
		return b[:size]
	}
	return make([]byte, size, classSize(c))
}

// Allocate returns size zeroed bytes.
func (a *Allocator) Allocate(size int) []byte {
	c := sizeClass(size)
	if c >= len(a.classes) {
		return make([]byte, size)
	}
	if b, ok := a.get(c); ok {
		b = b[:size]
		clear(b)
		return b
	}
	return make([]byte, size, classSize(c))
}

// Reallocate grows or shrinks b to size bytes; new bytes are zeroed.
func (a *Allocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := a.AllocateUnzeroed(size)
	n := copy(nb, b)
	clear(nb[n:])
	a.Free(b)
	return nb
}

// Free keeps b for reuse when it came from a size class and the pools have
// room.
func (a *Allocator) Free(b []byte) {
	c := sizeClass(cap(b))
	if c < len(a.classes) && cap(b) == classSize(c) {
		a.put(c, b[:cap(b)])
	}
}
