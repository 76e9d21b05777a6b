package streaming

import (
	"context"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// gatherColumn returns col's values at offs, in order, as a new array.
// Fixed-width, string and binary columns are copied directly (one sized
// allocation per buffer, no builders); other types go through arrow's
// take kernel.
func gatherColumn(ctx context.Context, col arrow.Array, offs []int64, mem memory.Allocator) (arrow.Array, error) {
	d := col.Data()
	n := len(offs)
	if n == 0 || col.Len() == 0 {
		return takeColumn(ctx, col, offs, mem)
	}
	var buffers []*memory.Buffer
	switch dt := col.DataType().(type) {
	case arrow.FixedWidthDataType:
		if col.DataType().ID() == arrow.BOOL || col.DataType().ID() == arrow.DICTIONARY || len(d.Buffers()) != 2 || dt.BitWidth()%8 != 0 {
			return takeColumn(ctx, col, offs, mem)
		}
		w := dt.BitWidth() / 8
		src := d.Buffers()[1].Bytes()[d.Offset()*w:]
		out := alloc(mem, n*w)
		dst := out.Bytes()
		switch w {
		case 8:
			gatherWords(unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(dst))), n), unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(src))), len(src)/8), offs)
		case 4:
			gatherWords(unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(dst))), n), unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(src))), len(src)/4), offs)
		case 2:
			gatherWords(unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(dst))), n), unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(src))), len(src)/2), offs)
		case 1:
			gatherWords(dst, src, offs)
		default:
			for i, o := range offs {
				copy(dst[i*w:(i+1)*w], src[int(o)*w:int(o+1)*w])
			}
		}
		buffers = []*memory.Buffer{nil, out}
	case *arrow.StringType, *arrow.BinaryType:
		offsets := arrow.Int32Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset():]
		var data []byte
		if b := d.Buffers()[2]; b != nil {
			data = b.Bytes()
		}
		var total int
		for _, o := range offs {
			total += int(offsets[o+1] - offsets[o])
		}
		if total > 1<<31-1 {
			return takeColumn(ctx, col, offs, mem)
		}
		outOff := alloc(mem, (n+1)*4)
		outData := alloc(mem, total)
		oo := arrow.Int32Traits.CastFromBytes(outOff.Bytes())
		od := outData.Bytes()
		pos := int32(0)
		for i, o := range offs {
			a, b := offsets[o], offsets[o+1]
			oo[i] = pos
			pos += int32(copy(od[pos:], data[a:b]))
		}
		oo[n] = pos
		buffers = []*memory.Buffer{nil, outOff, outData}
	case *arrow.LargeStringType, *arrow.LargeBinaryType:
		offsets := arrow.Int64Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset():]
		var data []byte
		if b := d.Buffers()[2]; b != nil {
			data = b.Bytes()
		}
		var total int64
		for _, o := range offs {
			total += offsets[o+1] - offsets[o]
		}
		outOff := alloc(mem, (n+1)*8)
		outData := alloc(mem, int(total))
		oo := arrow.Int64Traits.CastFromBytes(outOff.Bytes())
		od := outData.Bytes()
		pos := int64(0)
		for i, o := range offs {
			a, b := offsets[o], offsets[o+1]
			oo[i] = pos
			pos += int64(copy(od[pos:], data[a:b]))
		}
		oo[n] = pos
		buffers = []*memory.Buffer{nil, outOff, outData}
	default:
		return takeColumn(ctx, col, offs, mem)
	}
	nulls := 0
	if col.NullN() > 0 {
		valid := alloc(mem, int(bitutil.BytesForBits(int64(n))))
		vb := valid.Bytes()
		clear(vb)
		for i, o := range offs {
			if col.IsValid(int(o)) {
				bitutil.SetBit(vb, i)
			} else {
				nulls++
			}
		}
		buffers[0] = valid
	}
	out := array.NewData(col.DataType(), n, buffers, nil, nulls, 0)
	for _, b := range buffers {
		if b != nil {
			b.Release()
		}
	}
	defer out.Release()
	return array.MakeFromData(out), nil
}

func gatherWords[T any](dst, src []T, offs []int64) {
	for i, o := range offs {
		dst[i] = src[o]
	}
}

// alloc returns a buffer of n bytes from mem, to be written whole.
func alloc(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// takeColumn is the take kernel on one column.
func takeColumn(ctx context.Context, col arrow.Array, offs []int64, mem memory.Allocator) (arrow.Array, error) {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(offs, nil)
	ind := b.NewArray()
	defer ind.Release()
	return compute.TakeArray(compute.WithAllocator(ctx, mem), col, ind)
}
