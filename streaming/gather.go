package streaming

import (
	"context"
	"fmt"
	"math"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// The shuffle's gather: a chunk's rows are picked, in permuted order, from
// the batches that hold its window (its parts, consecutive rows of S).
// Columns of the common layouts (fixed-width values, booleans, strings and
// binaries) are copied by typed loops straight from the parts into buffers
// sized once; other columns go through arrow's Take kernel. The two give the
// same arrays.

// gatherParts returns a new batch holding rows offs of the concatenation of
// parts, in order. parts share a schema; the caller keeps ownership of them
// and releases the result.
func gatherParts(ctx context.Context, parts []arrow.RecordBatch, offs []int64, mem memory.Allocator) (arrow.RecordBatch, error) {
	refs, err := locate(parts, offs)
	if err != nil {
		return nil, err
	}
	schema := parts[0].Schema()
	cols := make([]arrow.Array, schema.NumFields())
	srcs := make([]arrow.Array, len(parts))
	var ind arrow.Array // offs as an Int64 array, for the Take fallback
	defer func() {
		if ind != nil {
			ind.Release()
		}
	}()
	for j := range cols {
		for i, p := range parts {
			srcs[i] = p.Column(j)
		}
		col := gatherColumn(srcs, refs, bufferAllocator(mem))
		if col == nil {
			if ind == nil {
				b := array.NewInt64Builder(mem)
				b.AppendValues(offs, nil)
				ind = b.NewArray()
				b.Release()
			}
			col, err = takeColumn(ctx, srcs, ind, mem)
			if err != nil {
				releaseAll(cols[:j])
				return nil, fmt.Errorf("streaming: gathering column %q: %w", schema.Field(j).Name, err)
			}
		}
		cols[j] = col
	}
	out := array.NewRecordBatch(schema, cols, int64(len(offs)))
	releaseAll(cols)
	return out, nil
}

func releaseAll(cols []arrow.Array) {
	for _, c := range cols {
		if c != nil {
			c.Release()
		}
	}
}

// rowRefs says where each gathered row comes from: row[j] of part part[j]
// (part is nil when there is one part).
type rowRefs struct {
	part []int32
	row  []int64
}

// locate turns offsets into the concatenation of parts into (part, row)
// pairs.
func locate(parts []arrow.RecordBatch, offs []int64) (rowRefs, error) {
	var total int64
	starts := make([]int64, len(parts)+1)
	for i, p := range parts {
		starts[i] = total
		total += p.NumRows()
	}
	starts[len(parts)] = total
	if len(parts) == 1 {
		for _, o := range offs {
			if o < 0 || o >= total {
				return rowRefs{}, fmt.Errorf("streaming: internal error: row %d outside the %d gathered", o, total)
			}
		}
		return rowRefs{row: offs}, nil // read only
	}
	refs := rowRefs{row: make([]int64, len(offs)), part: make([]int32, len(offs))}
	for j, o := range offs {
		if o < 0 || o >= total {
			return rowRefs{}, fmt.Errorf("streaming: internal error: row %d outside the %d gathered", o, total)
		}
		k := 0
		for o >= starts[k+1] {
			k++
		}
		refs.part[j], refs.row[j] = int32(k), o-starts[k]
	}
	return refs, nil
}

// takeColumn gathers with arrow's Take kernel, concatenating the parts
// first when there are several.
func takeColumn(ctx context.Context, srcs []arrow.Array, ind arrow.Array, mem memory.Allocator) (arrow.Array, error) {
	from := srcs[0]
	if len(srcs) > 1 {
		cat, err := array.Concatenate(srcs, mem)
		if err != nil {
			return nil, err
		}
		defer cat.Release()
		from = cat
	}
	return compute.TakeArray(compute.WithAllocator(ctx, mem), from, ind)
}

// gatherColumn copies the referenced rows of srcs into a new array, or
// returns nil when the column's type has no fast path here.
func gatherColumn(srcs []arrow.Array, refs rowRefs, mem memory.Allocator) arrow.Array {
	dt := srcs[0].DataType()
	for _, s := range srcs {
		if len(s.Data().Children()) != 0 {
			return nil
		}
	}
	switch dt.ID() {
	case arrow.INT8, arrow.UINT8:
		return gatherFixed[uint8](dt, srcs, refs, mem)
	case arrow.INT16, arrow.UINT16, arrow.FLOAT16:
		return gatherFixed[uint16](dt, srcs, refs, mem)
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32, arrow.TIME32, arrow.INTERVAL_MONTHS:
		return gatherFixed[uint32](dt, srcs, refs, mem)
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DATE64, arrow.TIME64,
		arrow.TIMESTAMP, arrow.DURATION, arrow.INTERVAL_DAY_TIME:
		return gatherFixed[uint64](dt, srcs, refs, mem)
	case arrow.DECIMAL128, arrow.INTERVAL_MONTH_DAY_NANO:
		return gatherFixed[[16]byte](dt, srcs, refs, mem)
	case arrow.DECIMAL256:
		return gatherFixed[[32]byte](dt, srcs, refs, mem)
	case arrow.BOOL:
		return gatherBool(dt, srcs, refs, mem)
	case arrow.STRING, arrow.BINARY:
		return gatherVar[int32](dt, srcs, refs, mem)
	case arrow.LARGE_STRING, arrow.LARGE_BINARY:
		return gatherVar[int64](dt, srcs, refs, mem)
	}
	return nil
}

// newBuffer allocates a buffer of n bytes from mem.
func newBuffer(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// view reinterprets the bytes of b as values of T.
func view[T any](b []byte) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(b) < size {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), len(b)/size)
}

// gatherValidity builds the validity bitmap of the gathered rows; it
// returns nil and 0 when no source row is null.
func gatherValidity(srcs []arrow.Array, refs rowRefs, mem memory.Allocator) (*memory.Buffer, int) {
	anyNull := false
	for _, s := range srcs {
		if s.NullN() > 0 {
			anyNull = true
		}
	}
	if !anyNull {
		return nil, 0
	}
	n := len(refs.row)
	buf := newBuffer(mem, int(bitutil.BytesForBits(int64(n))))
	out := buf.Bytes()
	clear(out)
	bitmaps := make([][]byte, len(srcs))
	offsets := make([]int64, len(srcs))
	for i, s := range srcs {
		if s.NullN() > 0 {
			bitmaps[i] = s.Data().Buffers()[0].Bytes()
		}
		offsets[i] = int64(s.Data().Offset())
	}
	nulls := 0
	for j, r := range refs.row {
		k := 0
		if refs.part != nil {
			k = int(refs.part[j])
		}
		if bm := bitmaps[k]; bm == nil || bitutil.BitIsSet(bm, int(offsets[k]+r)) {
			bitutil.SetBit(out, j)
		} else {
			nulls++
		}
	}
	return buf, nulls
}

// gatherFixed gathers a fixed-width column whose values are T-sized.
func gatherFixed[T any](dt arrow.DataType, srcs []arrow.Array, refs rowRefs, mem memory.Allocator) arrow.Array {
	var zero T
	n := len(refs.row)
	vals := make([][]T, len(srcs))
	for i, s := range srcs {
		d := s.Data()
		if len(d.Buffers()) != 2 || d.Buffers()[1] == nil {
			if s.Len() == 0 {
				continue
			}
			return nil
		}
		vals[i] = view[T](d.Buffers()[1].Bytes())[d.Offset():]
	}
	valid, nulls := gatherValidity(srcs, refs, mem)
	buf := newBuffer(mem, n*int(unsafe.Sizeof(zero)))
	dst := view[T](buf.Bytes())
	if refs.part == nil {
		src := vals[0]
		for j, r := range refs.row {
			dst[j] = src[r]
		}
	} else {
		for j, r := range refs.row {
			dst[j] = vals[refs.part[j]][r]
		}
	}
	return finish(dt, n, []*memory.Buffer{valid, buf}, nulls)
}

// gatherBool gathers a boolean column (values one bit each).
func gatherBool(dt arrow.DataType, srcs []arrow.Array, refs rowRefs, mem memory.Allocator) arrow.Array {
	n := len(refs.row)
	bits := make([][]byte, len(srcs))
	offsets := make([]int64, len(srcs))
	for i, s := range srcs {
		d := s.Data()
		if len(d.Buffers()) != 2 || d.Buffers()[1] == nil {
			if s.Len() == 0 {
				continue
			}
			return nil
		}
		bits[i], offsets[i] = d.Buffers()[1].Bytes(), int64(d.Offset())
	}
	valid, nulls := gatherValidity(srcs, refs, mem)
	buf := newBuffer(mem, int(bitutil.BytesForBits(int64(n))))
	out := buf.Bytes()
	clear(out)
	for j, r := range refs.row {
		k := 0
		if refs.part != nil {
			k = int(refs.part[j])
		}
		if bitutil.BitIsSet(bits[k], int(offsets[k]+r)) {
			bitutil.SetBit(out, j)
		}
	}
	return finish(dt, n, []*memory.Buffer{valid, buf}, nulls)
}

// gatherVar gathers a string or binary column with O-sized offsets.
func gatherVar[O int32 | int64](dt arrow.DataType, srcs []arrow.Array, refs rowRefs, mem memory.Allocator) arrow.Array {
	n := len(refs.row)
	offs := make([][]O, len(srcs))
	data := make([][]byte, len(srcs))
	for i, s := range srcs {
		d := s.Data()
		if len(d.Buffers()) != 3 {
			return nil
		}
		if s.Len() == 0 {
			continue
		}
		if d.Buffers()[1] == nil {
			return nil
		}
		offs[i] = view[O](d.Buffers()[1].Bytes())[d.Offset():]
		if d.Buffers()[2] != nil {
			data[i] = d.Buffers()[2].Bytes()
		}
	}
	// Sizes first, so that the data buffer is allocated once.
	var zero O
	obuf := newBuffer(mem, (n+1)*int(unsafe.Sizeof(zero)))
	dstOffs := view[O](obuf.Bytes())
	var total int64
	dstOffs[0] = 0
	for j, r := range refs.row {
		k := 0
		if refs.part != nil {
			k = int(refs.part[j])
		}
		o := offs[k]
		total += int64(o[r+1] - o[r])
		if unsafe.Sizeof(zero) == 4 && total > math.MaxInt32 {
			obuf.Release()
			return nil // let Take report the overflow
		}
		dstOffs[j+1] = O(total)
	}
	dbuf := newBuffer(mem, int(total))
	dst := dbuf.Bytes()
	for j, r := range refs.row {
		k := 0
		if refs.part != nil {
			k = int(refs.part[j])
		}
		o := offs[k]
		copy(dst[dstOffs[j]:dstOffs[j+1]], data[k][o[r]:o[r+1]])
	}
	valid, nulls := gatherValidity(srcs, refs, mem)
	return finish(dt, n, []*memory.Buffer{valid, obuf, dbuf}, nulls)
}

// finish wraps gathered buffers into an array, taking over their
// references.
func finish(dt arrow.DataType, n int, bufs []*memory.Buffer, nulls int) arrow.Array {
	d := array.NewData(dt, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	defer d.Release()
	return array.MakeFromData(d)
}
