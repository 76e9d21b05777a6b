package ops

import (
	"encoding/binary"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/internal/recycle"
)

// span is a run of consecutive rows [start, start+n) of source array c, in
// logical positions (the array's own offset not included).
type span struct {
	c        int
	start, n int64
}

// errNoFastTake means takeSpans does not handle a type; the caller falls
// back to arrow-go's Take kernel.
var errNoFastTake = fmt.Errorf("no fast take")

// fastTakeSupported reports whether takeSpans handles t.
func fastTakeSupported(t arrow.DataType) bool {
	switch t := t.(type) {
	case *arrow.BooleanType, *arrow.StringType, *arrow.BinaryType, *arrow.LargeStringType, *arrow.LargeBinaryType:
		return true
	case *arrow.ListType:
		return fastTakeSupported(t.Elem())
	case *arrow.LargeListType:
		return fastTakeSupported(t.Elem())
	case *arrow.FixedSizeListType:
		return fastTakeSupported(t.Elem())
	case *arrow.StructType:
		for _, f := range t.Fields() {
			if !fastTakeSupported(f.Type) {
				return false
			}
		}
		return true
	case arrow.FixedWidthDataType:
		return t.ID() != arrow.DICTIONARY && t.ID() != arrow.EXTENSION && t.BitWidth()%8 == 0 && t.BitWidth() > 0
	}
	return false
}

// newBuf allocates an n-byte buffer from mem. Every byte is written by
// the caller, except bitmaps, which are cleared here.
// newBuf allocates n bytes from mem, unzeroed when mem can (the gathers
// write every byte they allocate).
func newBuf(mem memory.Allocator, n int) *memory.Buffer {
	return memory.NewBufferWithAllocator(recycle.AllocateUnzeroed(mem, n), mem)
}

func newBitmap(mem memory.Allocator, bits int64) *memory.Buffer {
	b := newBuf(mem, int(bitutil.BytesForBits(bits)))
	clear(b.Bytes())
	return b
}

// takeSpans copies the rows spans of the source arrays ds (one type) into
// new array data, allocated from mem, rows in span order. The result has
// offset 0.
func takeSpans(mem memory.Allocator, ds []arrow.ArrayData, spans []span) arrow.ArrayData {
	var n int64
	for _, s := range spans {
		n += s.n
	}
	d := ds[0]
	hasNulls := false
	for _, x := range ds {
		hasNulls = hasNulls || x.NullN() != 0 // -1: unknown (slices)
	}
	// Validity.
	var validity *memory.Buffer
	nulls := 0
	if hasNulls {
		validity = newBitmap(mem, n)
		dst := validity.Bytes()
		var o int64
		for _, s := range spans {
			x := ds[s.c]
			if b := x.Buffers()[0]; x.NullN() == 0 || b == nil {
				bitutil.SetBitsTo(dst, o, s.n, true)
			} else {
				src, off := b.Bytes(), int64(x.Offset())
				for i := range s.n {
					if bitutil.BitIsSet(src, int(off+s.start+i)) {
						bitutil.SetBit(dst, int(o+i))
					} else {
						nulls++
					}
				}
			}
			o += s.n
		}
	}
	release := func(bs []*memory.Buffer) {
		for _, b := range bs {
			if b != nil {
				b.Release()
			}
		}
	}
	switch t := d.DataType().(type) {
	case *arrow.BooleanType:
		vals := newBitmap(mem, n)
		dst := vals.Bytes()
		var o int64
		for _, s := range spans {
			x := ds[s.c]
			src, off := x.Buffers()[1].Bytes(), int64(x.Offset())
			for i := range s.n {
				bitutil.SetBitTo(dst, int(o+i), bitutil.BitIsSet(src, int(off+s.start+i)))
			}
			o += s.n
		}
		out := array.NewData(t, int(n), []*memory.Buffer{validity, vals}, nil, nulls, 0)
		release([]*memory.Buffer{validity, vals})
		return out
	case *arrow.StringType, *arrow.BinaryType:
		return takeVarBinary[int32](mem, ds, spans, n, validity, nulls, 4)
	case *arrow.LargeStringType, *arrow.LargeBinaryType:
		return takeVarBinary[int64](mem, ds, spans, n, validity, nulls, 8)
	case *arrow.ListType:
		return takeList[int32](mem, ds, spans, n, validity, nulls, 4)
	case *arrow.LargeListType:
		return takeList[int64](mem, ds, spans, n, validity, nulls, 8)
	case *arrow.FixedSizeListType:
		size := int64(t.Len())
		cs := make([]span, len(spans))
		for i, s := range spans {
			cs[i] = span{s.c, (int64(ds[s.c].Offset()) + s.start) * size, s.n * size}
		}
		child := takeSpans(mem, childrenOf(ds, 0), cs)
		out := array.NewData(t, int(n), []*memory.Buffer{validity}, []arrow.ArrayData{child}, nulls, 0)
		child.Release()
		release([]*memory.Buffer{validity})
		return out
	case *arrow.StructType:
		cs := make([]span, len(spans))
		for i, s := range spans {
			cs[i] = span{s.c, int64(ds[s.c].Offset()) + s.start, s.n}
		}
		children := make([]arrow.ArrayData, len(d.Children()))
		for i := range children {
			children[i] = takeSpans(mem, childrenOf(ds, i), cs)
		}
		out := array.NewData(t, int(n), []*memory.Buffer{validity}, children, nulls, 0)
		for _, c := range children {
			c.Release()
		}
		release([]*memory.Buffer{validity})
		return out
	case arrow.FixedWidthDataType:
		w := int64(t.BitWidth() / 8)
		vals := newBuf(mem, int(n*w))
		dst := vals.Bytes()
		var o int64
		for _, s := range spans {
			x := ds[s.c]
			src, off := x.Buffers()[1].Bytes(), int64(x.Offset())
			copy(dst[o*w:(o+s.n)*w], src[(off+s.start)*w:(off+s.start+s.n)*w])
			o += s.n
		}
		out := array.NewData(t, int(n), []*memory.Buffer{validity, vals}, nil, nulls, 0)
		release([]*memory.Buffer{validity, vals})
		return out
	}
	panic("takeSpans: unsupported type " + d.DataType().String()) // guarded by fastTakeSupported
}

func childrenOf(ds []arrow.ArrayData, i int) []arrow.ArrayData {
	out := make([]arrow.ArrayData, len(ds))
	for k, d := range ds {
		out[k] = d.Children()[i]
	}
	return out
}

type offsetInt interface{ int32 | int64 }

func readOffset[O offsetInt](b []byte, i int64, width int64) O {
	if width == 4 {
		return O(int32(binary.LittleEndian.Uint32(b[i*4:])))
	}
	return O(int64(binary.LittleEndian.Uint64(b[i*8:])))
}

func writeOffset[O offsetInt](b []byte, i int64, width int64, v O) {
	if width == 4 {
		binary.LittleEndian.PutUint32(b[i*4:], uint32(v))
	} else {
		binary.LittleEndian.PutUint64(b[i*8:], uint64(v))
	}
}

// srcOffsets returns the offsets buffer bytes and logical offset of x.
func srcOffsets(x arrow.ArrayData) ([]byte, int64) {
	if x.Len() == 0 || x.Buffers()[1] == nil {
		return make([]byte, 8), 0
	}
	return x.Buffers()[1].Bytes(), int64(x.Offset())
}

func takeVarBinary[O offsetInt](mem memory.Allocator, ds []arrow.ArrayData, spans []span, n int64,
	validity *memory.Buffer, nulls int, width int64) arrow.ArrayData {
	d := ds[0]
	var total int64
	for _, s := range spans {
		srcOff, off := srcOffsets(ds[s.c])
		total += int64(readOffset[O](srcOff, off+s.start+s.n, width) - readOffset[O](srcOff, off+s.start, width))
	}
	offs := newBuf(mem, int((n+1)*width))
	vals := newBuf(mem, int(total))
	dOff, dVals := offs.Bytes(), vals.Bytes()
	var o int64
	var pos O
	for _, s := range spans {
		srcOff, off := srcOffsets(ds[s.c])
		var srcVals []byte
		if b := ds[s.c].Buffers()[2]; b != nil {
			srcVals = b.Bytes()
		}
		lo := readOffset[O](srcOff, off+s.start, width)
		hi := readOffset[O](srcOff, off+s.start+s.n, width)
		copy(dVals[pos:], srcVals[lo:hi])
		for i := range s.n {
			writeOffset(dOff, o+i, width, pos+readOffset[O](srcOff, off+s.start+i, width)-lo)
		}
		pos += hi - lo
		o += s.n
	}
	writeOffset(dOff, n, width, pos)
	out := array.NewData(d.DataType(), int(n), []*memory.Buffer{validity, offs, vals}, nil, nulls, 0)
	for _, b := range []*memory.Buffer{validity, offs, vals} {
		if b != nil {
			b.Release()
		}
	}
	return out
}

func takeList[O offsetInt](mem memory.Allocator, ds []arrow.ArrayData, spans []span, n int64,
	validity *memory.Buffer, nulls int, width int64) arrow.ArrayData {
	d := ds[0]
	offs := newBuf(mem, int((n+1)*width))
	dOff := offs.Bytes()
	cs := make([]span, 0, len(spans))
	var o int64
	var pos O
	for _, s := range spans {
		srcOff, off := srcOffsets(ds[s.c])
		lo := readOffset[O](srcOff, off+s.start, width)
		hi := readOffset[O](srcOff, off+s.start+s.n, width)
		for i := range s.n {
			writeOffset(dOff, o+i, width, pos+readOffset[O](srcOff, off+s.start+i, width)-lo)
		}
		if hi > lo {
			cs = append(cs, span{s.c, int64(lo), int64(hi - lo)})
		}
		pos += hi - lo
		o += s.n
	}
	writeOffset(dOff, n, width, pos)
	child := takeSpans(mem, childrenOf(ds, 0), cs)
	out := array.NewData(d.DataType(), int(n), []*memory.Buffer{validity, offs}, []arrow.ArrayData{child}, nulls, 0)
	child.Release()
	for _, b := range []*memory.Buffer{validity, offs} {
		if b != nil {
			b.Release()
		}
	}
	return out
}
