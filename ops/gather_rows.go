package ops

import (
	"encoding/binary"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// This file gathers scattered rows (a shuffled window: almost every row
// comes from a different place) column by column with typed loops. Row i
// of the output is row ri[i] of source batch bi[i]. Each loop reads one
// value per row into the output slot directly, so the loads of different
// rows do not depend on each other and the processor overlaps their cache
// misses; there is no call, allocation or interface dispatch per row.
// The span copies of takeSpans remain the better choice for long runs of
// consecutive rows.

// scatteredRunLen is the average run length of consecutive source rows
// below which Gather copies row by row (gatherRows) instead of run by run
// (takeSpans).
const scatteredRunLen = 4

// gatherRows builds a batch of schema from the rows (bi[i], ri[i]) of
// batches. The result is owned by the caller. Layouts it does not expect
// are reported as errors wrapping errNoFastTake, for the caller to fall
// back on.
func gatherRows(mem memory.Allocator, schema *arrow.Schema, batches []arrow.RecordBatch, bi []int32, ri []int64) (arrow.RecordBatch, error) {
	var pc physicalCache
	defer pc.release()
	return buildColumns(schema, batches, int64(len(bi)), func(ds []arrow.ArrayData) arrow.ArrayData {
		return gatherData(mem, ds, bi, ri, &pc)
	})
}

// physicalCache keeps the physical positions (logical positions plus each
// source array's offset) that gatherData computed last, with the offsets
// they were computed for: the columns of sliced batches share their
// offsets, so a gather computes them once rather than once per column.
type physicalCache struct {
	offs []int64
	pos  *[]int64 // scratch; nil until computed
}

// positions returns the physical positions of rows (bi[i], ri[i]) of ds,
// which is ri itself when no array has an offset. With a nil cache the
// result lives until the returned release is called.
func (pc *physicalCache) positions(ds []arrow.ArrayData, bi []int32, ri []int64) (pos []int64, release func()) {
	offset := false
	for _, d := range ds {
		offset = offset || d.Offset() != 0
	}
	if !offset {
		return ri, func() {}
	}
	if pc != nil && pc.pos != nil && len(pc.offs) == len(ds) {
		same := true
		for k, d := range ds {
			same = same && pc.offs[k] == int64(d.Offset())
		}
		if same {
			return *pc.pos, func() {}
		}
	}
	offs := make([]int64, len(ds))
	for k, d := range ds {
		offs[k] = int64(d.Offset())
	}
	p := scratchInt64(len(bi))
	pos = *p
	for i, b := range bi {
		pos[i] = ri[i] + offs[b]
	}
	if pc == nil {
		return pos, func() { releaseInt64(p) }
	}
	pc.release()
	pc.offs, pc.pos = offs, p
	return pos, func() {}
}

// release gives the cached positions' scratch back.
func (pc *physicalCache) release() {
	if pc.pos != nil {
		releaseInt64(pc.pos)
		pc.pos, pc.offs = nil, nil
	}
}

// gatherData gathers rows (bi[i], ri[i]) of the arrays ds, whose positions
// ri are logical (the arrays' own offsets not included). The result has
// offset 0 and is owned by the caller. pc, when not nil, carries physical
// positions from one column of the same rows to the next.
func gatherData(mem memory.Allocator, ds []arrow.ArrayData, bi []int32, ri []int64, pc *physicalCache) arrow.ArrayData {
	n := len(bi)
	// pos[i] is the physical position of row i in its source's buffers.
	pos, release := pc.positions(ds, bi, ri)
	defer release()
	validity, nulls := gatherValidity(mem, ds, bi, pos)
	typ := ds[0].DataType()
	bufs := func(bs ...*memory.Buffer) []*memory.Buffer { return bs }
	finish := func(buffers []*memory.Buffer, children []arrow.ArrayData) arrow.ArrayData {
		out := array.NewData(typ, n, buffers, children, nulls, 0)
		for _, b := range buffers {
			if b != nil {
				b.Release()
			}
		}
		for _, c := range children {
			c.Release()
		}
		return out
	}
	switch t := typ.(type) {
	case *arrow.BooleanType:
		vals := newBitmap(mem, int64(n))
		dst := vals.Bytes()
		srcs := bufferBytes(ds, 1)
		for i, b := range bi {
			if bitutil.BitIsSet(srcs[b], int(pos[i])) {
				bitutil.SetBit(dst, i)
			}
		}
		return finish(bufs(validity, vals), nil)
	case *arrow.StringType, *arrow.BinaryType:
		offsets, values := gatherVarRanges[int32](mem, ds, bi, pos, 2, 1)
		return finish(bufs(validity, offsets, values), nil)
	case *arrow.LargeStringType, *arrow.LargeBinaryType:
		offsets, values := gatherVarRanges[int64](mem, ds, bi, pos, 2, 1)
		return finish(bufs(validity, offsets, values), nil)
	case *arrow.ListType:
		offsets, child := gatherList[int32](mem, ds, bi, pos)
		return finish(bufs(validity, offsets), []arrow.ArrayData{child})
	case *arrow.LargeListType:
		offsets, child := gatherList[int64](mem, ds, bi, pos)
		return finish(bufs(validity, offsets), []arrow.ArrayData{child})
	case *arrow.FixedSizeListType:
		size := int64(t.Len())
		children := childrenOf(ds, 0)
		if w, ok := flatWidth(children); ok {
			// The whole list is one run of size*w bytes per row.
			vals := gatherFixed(mem, children, bi, scaled(bi, pos, size, children), size*w)
			child := array.NewData(children[0].DataType(), n*int(size), bufs(nil, vals), nil, 0, 0)
			vals.Release()
			return finish(bufs(validity), []arrow.ArrayData{child})
		}
		cbi, cri := expand(bi, pos, size)
		return finish(bufs(validity), []arrow.ArrayData{gatherData(mem, children, cbi, cri, nil)})
	case *arrow.StructType:
		children := make([]arrow.ArrayData, len(ds[0].Children()))
		for c := range children {
			children[c] = gatherData(mem, childrenOf(ds, c), bi, pos, nil)
		}
		return finish(bufs(validity), children)
	case arrow.FixedWidthDataType:
		if t.BitWidth()%8 != 0 || t.BitWidth() == 0 {
			panic("unsupported bit width")
		}
		vals := gatherFixed(mem, ds, bi, pos, int64(t.BitWidth()/8))
		return finish(bufs(validity, vals), nil)
	}
	panic("gatherData: unsupported type " + typ.String())
}

// scaled returns the physical first element of each row's fixed-size
// list, in units of size elements: gatherFixed then copies whole lists.
// A child offset that is not a multiple of size cannot be expressed so;
// it panics and the caller falls back to the span path.
func scaled(bi []int32, pos []int64, size int64, children []arrow.ArrayData) []int64 {
	offs := make([]int64, len(children))
	for k, c := range children {
		if int64(c.Offset())%size != 0 {
			panic("fixed-size-list child offset not a multiple of the list size")
		}
		offs[k] = int64(c.Offset()) / size
	}
	out := make([]int64, len(pos))
	for i, p := range pos {
		out[i] = p + offs[bi[i]]
	}
	return out
}

// expand lists the rows (b, p*size+k), k < size, of every row (b, p).
func expand(bi []int32, pos []int64, size int64) ([]int32, []int64) {
	cbi := make([]int32, 0, int64(len(bi))*size)
	cri := make([]int64, 0, int64(len(bi))*size)
	for i, b := range bi {
		for k := range size {
			cbi = append(cbi, b)
			cri = append(cri, pos[i]*size+k)
		}
	}
	return cbi, cri
}

// flatWidth reports the byte width of children's type when it is a
// fixed-width primitive and no child has nulls: their values can be
// copied as plain bytes.
func flatWidth(children []arrow.ArrayData) (int64, bool) {
	t, ok := children[0].DataType().(arrow.FixedWidthDataType)
	if !ok || t.ID() == arrow.BOOL || t.ID() == arrow.DICTIONARY || t.ID() == arrow.EXTENSION || t.BitWidth()%8 != 0 || t.BitWidth() == 0 {
		return 0, false
	}
	for _, c := range children {
		if c.NullN() != 0 || len(c.Children()) != 0 {
			return 0, false
		}
	}
	return int64(t.BitWidth() / 8), true
}

// bufferBytes returns buffer k of every array (nil where absent).
func bufferBytes(ds []arrow.ArrayData, k int) [][]byte {
	out := make([][]byte, len(ds))
	for i, d := range ds {
		if b := d.Buffers()[k]; b != nil {
			out[i] = b.Bytes()
		}
	}
	return out
}

// gatherValidity builds the output validity bitmap, or nil when no source
// has nulls.
func gatherValidity(mem memory.Allocator, ds []arrow.ArrayData, bi []int32, pos []int64) (*memory.Buffer, int) {
	has := false
	for _, d := range ds {
		has = has || (d.NullN() != 0 && d.Buffers()[0] != nil)
	}
	if !has {
		return nil, 0
	}
	n := len(bi)
	buf := newBitmap(mem, int64(n))
	dst := buf.Bytes()
	srcs := make([][]byte, len(ds))
	for k, d := range ds {
		if d.NullN() != 0 {
			if b := d.Buffers()[0]; b != nil {
				srcs[k] = b.Bytes()
			}
		}
	}
	nulls := 0
	for i, b := range bi {
		s := srcs[b]
		if s == nil || s[pos[i]>>3]&(1<<(pos[i]&7)) != 0 {
			dst[i>>3] |= 1 << (i & 7)
		} else {
			nulls++
		}
	}
	return buf, nulls
}

// view reinterprets b as a slice of T; it panics on a misaligned buffer
// (the caller then falls back to the span path).
func view[T any](b []byte) []T {
	var z T
	size := int(unsafe.Sizeof(z))
	if len(b) < size {
		return nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%uintptr(size) != 0 {
		panic("misaligned buffer")
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size)
}

// gatherFixed copies w bytes per row from value buffer 1 of ds, starting
// at element pos[i] (in units of w bytes).
func gatherFixed(mem memory.Allocator, ds []arrow.ArrayData, bi []int32, pos []int64, w int64) *memory.Buffer {
	n := int64(len(bi))
	buf := newBuf(mem, int(n*w))
	dst := buf.Bytes()
	srcs := bufferBytes(ds, 1)
	switch w {
	case 1:
		gatherWords[uint8](dst, srcs, bi, pos)
	case 2:
		gatherWords[uint16](dst, srcs, bi, pos)
	case 4:
		gatherWords[uint32](dst, srcs, bi, pos)
	case 8:
		gatherWords[uint64](dst, srcs, bi, pos)
	case 16:
		gatherWords[[2]uint64](dst, srcs, bi, pos)
	default:
		for i, b := range bi {
			copy(dst[int64(i)*w:int64(i+1)*w], srcs[b][pos[i]*w:(pos[i]+1)*w])
		}
	}
	return buf
}

func gatherWords[T any](dst []byte, srcs [][]byte, bi []int32, pos []int64) {
	d := view[T](dst)
	s := make([][]T, len(srcs))
	for k, b := range srcs {
		s[k] = view[T](b)
	}
	if len(s) == 1 { // one source (a window within one batch): no routing
		src := s[0]
		for i, p := range pos[:len(bi)] {
			d[i] = src[p]
		}
		return
	}
	for i, b := range bi {
		d[i] = s[b][pos[i]]
	}
}

// gatherVarRanges gathers the variable-length rows of ds (offsets in
// buffer 1, values in buffer vbuf; vbuf 0 means the first child's buffer 1,
// for lists of flat values, whose offsets count from the child's own
// offset). Values are w bytes each. It returns the new
// offsets and values buffers.
func gatherVarRanges[O int32 | int64](mem memory.Allocator, ds []arrow.ArrayData, bi []int32, pos []int64, vbuf int, w int64) (*memory.Buffer, *memory.Buffer) {
	n := len(bi)
	offsets := newBuf(mem, (n+1)*int(unsafe.Sizeof(O(0))))
	dOff := view[O](offsets.Bytes())
	srcOffs := make([][]O, len(ds))
	srcVals := make([][]byte, len(ds))
	base := make([]int64, len(ds)) // first value of each source, in values
	for k, d := range ds {
		if d.Len() > 0 {
			srcOffs[k] = view[O](d.Buffers()[1].Bytes())
		}
		var vb *memory.Buffer
		if vbuf == 0 {
			c := d.Children()[0]
			base[k] = int64(c.Offset())
			vb = c.Buffers()[1]
		} else {
			vb = d.Buffers()[vbuf]
		}
		if vb != nil {
			srcVals[k] = vb.Bytes()
		}
	}
	// Pass 1: each row's first value and length (independent loads),
	// lengths summed into the new offsets.
	sp := scratchInt64(n)
	defer releaseInt64(sp)
	starts := *sp
	var total int64
	if len(ds) == 1 { // one source: no routing
		o, b0 := srcOffs[0], base[0]
		for i, p := range pos[:n] {
			lo, hi := o[p], o[p+1]
			starts[i] = (int64(lo) + b0) * w
			dOff[i] = O(total)
			total += int64(hi - lo)
		}
	} else {
		for i, b := range bi {
			o := srcOffs[b]
			lo, hi := o[pos[i]], o[pos[i]+1]
			starts[i] = (int64(lo) + base[b]) * w
			dOff[i] = O(total)
			total += int64(hi - lo)
		}
	}
	if unsafe.Sizeof(O(0)) == 4 && total > math.MaxInt32 {
		offsets.Release()
		panic("gathered values overflow 32-bit offsets") // the Take fallback reports it
	}
	dOff[n] = O(total)
	values := newBuf(mem, int(total*w))
	dVals := values.Bytes()
	// Pass 2: copy the values. Each copy starts with a cache miss (the
	// sources are rarely still in the caches when rows are gathered):
	// the lines of the row prefetchAhead rows on are requested while this
	// one is copied, so the misses overlap. (Prefetching needs no bounds
	// check: a prefetch never faults.)
	bases := make([]uintptr, len(srcVals))
	for k, v := range srcVals {
		if len(v) > 0 {
			bases[k] = uintptr(unsafe.Pointer(unsafe.SliceData(v)))
		}
	}
	ahead := func(j int, base uintptr) {
		p := base + uintptr(starts[j])
		prefetchLines(p, p+uintptr(min(int64(dOff[j+1]-dOff[j])*w, prefetchMax)))
	}
	if len(ds) == 1 { // one source: no routing
		vals, base := srcVals[0], bases[0]
		for i := range min(n, prefetchAhead) {
			ahead(i, base)
		}
		for i := range n {
			if j := i + prefetchAhead; j < n {
				ahead(j, base)
			}
			at, end := int64(dOff[i])*w, int64(dOff[i+1])*w
			copy(dVals[at:end], vals[starts[i]:starts[i]+end-at])
		}
	} else {
		for i := range min(n, prefetchAhead) {
			ahead(i, bases[bi[i]])
		}
		for i, b := range bi {
			if j := i + prefetchAhead; j < n {
				ahead(j, bases[bi[j]])
			}
			at, end := int64(dOff[i])*w, int64(dOff[i+1])*w
			copy(dVals[at:end], srcVals[b][starts[i]:starts[i]+end-at])
		}
	}
	return offsets, values
}

// gatherList gathers list rows: new offsets, and the child holding every
// gathered row's elements.
func gatherList[O int32 | int64](mem memory.Allocator, ds []arrow.ArrayData, bi []int32, pos []int64) (*memory.Buffer, arrow.ArrayData) {
	children := childrenOf(ds, 0)
	if w, ok := flatWidth(children); ok {
		offsets, values := gatherVarRanges[O](mem, ds, bi, pos, 0, w)
		var total O
		if b := offsets.Bytes(); len(b) > 0 {
			total = view[O](b)[len(bi)]
		}
		child := array.NewData(children[0].DataType(), int(total), []*memory.Buffer{nil, values}, nil, 0, 0)
		values.Release()
		return offsets, child
	}
	// General child: list every element's (batch, position) and recurse.
	n := len(bi)
	offsets := newBuf(mem, (n+1)*int(unsafe.Sizeof(O(0))))
	dOff := offsets.Bytes()
	width := int64(unsafe.Sizeof(O(0)))
	var cbi []int32
	var cri []int64
	var total int64
	for i, b := range bi {
		so, _ := srcOffsets(ds[b])
		lo := readOffset[int64](so, pos[i], width)
		hi := readOffset[int64](so, pos[i]+1, width)
		putOffset(dOff, int64(i), width, total)
		for p := lo; p < hi; p++ {
			cbi = append(cbi, b)
			cri = append(cri, p) // logical in the child; gatherData adds its offset
		}
		total += hi - lo
	}
	putOffset(dOff, int64(n), width, total)
	return offsets, gatherData(mem, children, cbi, cri, nil)
}

func putOffset(b []byte, i, width, v int64) {
	if width == 4 {
		binary.LittleEndian.PutUint32(b[i*4:], uint32(v))
	} else {
		binary.LittleEndian.PutUint64(b[i*8:], uint64(v))
	}
}

// prefetchAhead is how many rows ahead of its copy a row's bytes are
// prefetched (8 measured best on a string column of ~200 B rows: 1.45× the
// plain copy; 4 and 16 were slower).
const prefetchAhead = 8

// prefetchMax bounds the bytes of one row that are prefetched; beyond it
// the copy streams and the hardware prefetcher follows.
const prefetchMax = 512
