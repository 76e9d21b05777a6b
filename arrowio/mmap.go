package arrowio

import (
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
)

// mapping is a read-only memory map whose lifetime is reference counted.
// The ArrowFile holds one reference; every Arrow buffer that aliases the
// mapping holds one more. The region is unmapped when the count reaches
// zero, so no batch, slice or array taken from a mapped file can outlive
// its memory.
//
// mapping implements memory.Allocator so that buffers built over it with
// memory.NewBufferWithAllocator drop their reference through Free.
type mapping struct {
	data  []byte
	refs  atomic.Int64
	unmap func([]byte) error // munmapBytes, replaced in tests
	// unmapped is closed-over state for tests and Close: set once the
	// region is gone.
	unmapped atomic.Bool
	err      error // result of unmap, valid once unmapped is true
}

func newMapping(data []byte) *mapping {
	m := &mapping{data: data, unmap: unmapFunc}
	m.refs.Store(1)
	return m
}

// tryAcquire adds a reference unless the mapping is already gone.
func (m *mapping) tryAcquire() bool {
	for {
		n := m.refs.Load()
		if n <= 0 {
			return false
		}
		if m.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference and unmaps after the last one.
func (m *mapping) release() {
	switch n := m.refs.Add(-1); {
	case n == 0:
		m.err = m.unmap(m.data)
		m.unmapped.Store(true)
	case n < 0:
		panic("arrowio: mapping released too many times")
	}
}

// contains reports whether b lies inside the mapping.
func (m *mapping) contains(b []byte) bool {
	if len(b) == 0 || len(m.data) == 0 {
		return false
	}
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(m.data)))
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= lo && p+uintptr(len(b)) <= lo+uintptr(len(m.data))
}

// Allocate serves code that grows a buffer it was handed (arrow-go never
// does so for immutable buffers); the memory comes from the Go heap.
func (m *mapping) Allocate(size int) []byte { return make([]byte, size) }

// Reallocate copies b into new Go heap memory of the given size.
func (m *mapping) Reallocate(size int, b []byte) []byte {
	nb := make([]byte, size)
	copy(nb, b)
	m.Free(b)
	return nb
}

// Free drops the reference held by a buffer over the mapping. Heap memory
// handed out by Allocate is left to the garbage collector.
func (m *mapping) Free(b []byte) {
	if m.contains(b) {
		m.release()
	}
}

var _ memory.Allocator = (*mapping)(nil)

// rebindBatch returns a batch with the same values as rec whose buffers
// that alias the mapping each hold a mapping reference. Other buffers
// (decompressed data, dictionaries decoded into the heap) are shared as
// they are. rec is not released. The caller must hold a reference while
// calling, so that the count cannot reach zero underneath.
func (m *mapping) rebindBatch(rec arrow.RecordBatch) arrow.RecordBatch {
	cols := make([]arrow.Array, rec.NumCols())
	for i, c := range rec.Columns() {
		d := m.rebindData(c.Data())
		cols[i] = array.MakeFromData(d)
		d.Release()
	}
	out := array.NewRecordBatch(rec.Schema(), cols, rec.NumRows())
	for _, c := range cols {
		c.Release()
	}
	return out
}

func (m *mapping) rebindData(d arrow.ArrayData) arrow.ArrayData {
	bufs := d.Buffers()
	nb := make([]*memory.Buffer, len(bufs))
	for i, b := range bufs {
		if b == nil {
			continue
		}
		if bs := b.Bytes(); m.contains(bs) {
			m.refs.Add(1)
			nb[i] = memory.NewBufferWithAllocator(bs, m)
		} else {
			b.Retain()
			nb[i] = b
		}
	}
	kids := make([]arrow.ArrayData, len(d.Children()))
	for i, c := range d.Children() {
		kids[i] = m.rebindData(c)
	}
	out := array.NewData(d.DataType(), d.Len(), nb, kids, d.NullN(), d.Offset())
	for _, b := range nb {
		if b != nil {
			b.Release()
		}
	}
	for _, k := range kids {
		k.Release()
	}
	// Dictionary() is a typed nil for other types; ask only dictionaries.
	if d.DataType().ID() == arrow.DICTIONARY && d.Dictionary() != nil {
		nd := m.rebindData(d.Dictionary())
		out.SetDictionary(nd)
		nd.Release()
	}
	return out
}

// FileUnwrapper is implemented by afero.File wrappers (counting, tracing)
// that sit on another file. Readers unwrap through it to find an *os.File
// they can memory-map or read concurrently, while reads they issue still go
// through the wrapper.
type FileUnwrapper interface {
	Unwrap() afero.File
}

// osFileOf unwraps the *os.File behind an afero file, when there is one:
// OsFs and ReadOnlyFs hand out *os.File, BasePathFs wraps one, and any
// FileUnwrapper is followed.
func osFileOf(f afero.File) *os.File {
	o, _ := innerFile(f).(*os.File)
	return o
}

// innerFile follows wrappers (afero's BasePathFile, any FileUnwrapper) to
// the innermost file.
func innerFile(f afero.File) afero.File {
	for range 8 { // bounded: wrappers may nest
		switch v := f.(type) {
		case *afero.BasePathFile:
			f = v.File
		case FileUnwrapper:
			f = v.Unwrap()
		default:
			return f
		}
	}
	return f
}

// unmapFunc unmaps a region; tests replace it to observe unmapping.
var unmapFunc = munmapBytes
