package arrowio

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// encFn appends the Go value at p to the builder it was made for.
type encFn func(p unsafe.Pointer)

// bulkFn appends n Go values laid out contiguously from p.
type bulkFn func(p unsafe.Pointer, n int)

// reserveFn makes room in a builder for n values stride bytes apart from
// base, so that appending them does not grow buffers step by step.
type reserveFn func(base unsafe.Pointer, stride uintptr, n int)

// reserver returns how to reserve ahead for a column of nd, or nil: string
// bytes are summed, fixed-size lists of numbers reserve their values.
func (nd *node) reserver(b array.Builder) reserveFn {
	switch nd.kind {
	case kString:
		sb := b.(*array.StringBuilder)
		return func(base unsafe.Pointer, stride uintptr, n int) {
			total := 0
			for i := range n {
				total += len(*(*string)(unsafe.Add(base, uintptr(i)*stride)))
			}
			sb.ReserveData(total)
		}
	case kFixedList:
		if k := nd.elem.kind; k == kInt || k == kUint || k == kFloat {
			vb, width := b.(*array.FixedSizeListBuilder).ValueBuilder(), nd.n
			return func(_ unsafe.Pointer, _ uintptr, n int) { vb.Reserve(n * width) }
		}
	}
	return nil
}

func scalarEnc[T any](app func(T)) encFn {
	return func(p unsafe.Pointer) { app(*(*T)(p)) }
}

func valuesBulk[T any](app func([]T, []bool)) bulkFn {
	return func(p unsafe.Pointer, n int) { app(unsafe.Slice((*T)(p), n), nil) }
}

// encoder binds the encoding of nd to builder b, which must have been made
// for nd.dt. The builder objects of a RecordBuilder survive NewRecordBatch,
// so the returned function stays valid for the RowBuilder's life.
func (nd *node) encoder(b array.Builder) encFn {
	switch nd.kind {
	case kBool:
		return scalarEnc(b.(*array.BooleanBuilder).Append)
	case kInt:
		switch nd.bits {
		case 8:
			return scalarEnc(b.(*array.Int8Builder).Append)
		case 16:
			return scalarEnc(b.(*array.Int16Builder).Append)
		case 32:
			return scalarEnc(b.(*array.Int32Builder).Append)
		default:
			return scalarEnc(b.(*array.Int64Builder).Append)
		}
	case kUint:
		switch nd.bits {
		case 8:
			return scalarEnc(b.(*array.Uint8Builder).Append)
		case 16:
			return scalarEnc(b.(*array.Uint16Builder).Append)
		case 32:
			return scalarEnc(b.(*array.Uint32Builder).Append)
		default:
			return scalarEnc(b.(*array.Uint64Builder).Append)
		}
	case kFloat:
		if nd.bits == 32 {
			return scalarEnc(b.(*array.Float32Builder).Append)
		}
		return scalarEnc(b.(*array.Float64Builder).Append)
	case kString:
		return scalarEnc(b.(*array.StringBuilder).Append)
	case kBytes:
		bb := b.(*array.BinaryBuilder)
		return func(p unsafe.Pointer) {
			v := *(*[]byte)(p)
			if v == nil {
				bb.AppendNull()
				return
			}
			bb.Append(v)
		}
	case kFixedBytes:
		fb, n := b.(*array.FixedSizeBinaryBuilder), nd.n
		return func(p unsafe.Pointer) { fb.Append(unsafe.Slice((*byte)(p), n)) }
	case kTime:
		tb := b.(*array.TimestampBuilder)
		return func(p unsafe.Pointer) { tb.Append(arrow.Timestamp((*(*time.Time)(p)).UnixMicro())) }
	case kDuration:
		db := b.(*array.DurationBuilder)
		return func(p unsafe.Pointer) { db.Append(arrow.Duration(*(*int64)(p))) }
	case kPtr:
		elem := nd.elem.encoder(b)
		return func(p unsafe.Pointer) {
			q := *(*unsafe.Pointer)(p)
			if q == nil {
				b.AppendNull()
				return
			}
			elem(q)
		}
	case kStruct:
		sb := b.(*array.StructBuilder)
		type kid struct {
			off uintptr
			enc encFn
		}
		kids := make([]kid, len(nd.fields))
		for j, f := range nd.fields {
			kids[j] = kid{f.offset, f.node.encoder(sb.FieldBuilder(j))}
		}
		return func(p unsafe.Pointer) {
			sb.Append(true)
			for _, k := range kids {
				k.enc(unsafe.Add(p, k.off))
			}
		}
	case kList:
		lb := b.(*array.ListBuilder)
		bulk := nd.elem.bulkEncoder(lb.ValueBuilder())
		return func(p unsafe.Pointer) {
			h := (*sliceHeader)(p)
			if h.data == nil {
				lb.AppendNull()
				return
			}
			lb.Append(true)
			bulk(h.data, h.len)
		}
	case kFixedList:
		fb, n := b.(*array.FixedSizeListBuilder), nd.n
		bulk := nd.elem.bulkEncoder(fb.ValueBuilder())
		return func(p unsafe.Pointer) {
			fb.Append(true)
			bulk(p, n)
		}
	case kMap:
		return nd.mapEncoder(b.(*array.MapBuilder))
	}
	panic("arrowio: no encoder for kind") // nodeOf only makes the kinds above
}

// bulkEncoder appends runs of contiguous values: one AppendValues call for
// numbers, a loop over the element encoder otherwise.
func (nd *node) bulkEncoder(b array.Builder) bulkFn {
	switch nd.kind {
	case kInt:
		switch nd.bits {
		case 8:
			return valuesBulk(b.(*array.Int8Builder).AppendValues)
		case 16:
			return valuesBulk(b.(*array.Int16Builder).AppendValues)
		case 32:
			return valuesBulk(b.(*array.Int32Builder).AppendValues)
		default:
			return valuesBulk(b.(*array.Int64Builder).AppendValues)
		}
	case kUint:
		switch nd.bits {
		case 8:
			return valuesBulk(b.(*array.Uint8Builder).AppendValues)
		case 16:
			return valuesBulk(b.(*array.Uint16Builder).AppendValues)
		case 32:
			return valuesBulk(b.(*array.Uint32Builder).AppendValues)
		default:
			return valuesBulk(b.(*array.Uint64Builder).AppendValues)
		}
	case kFloat:
		if nd.bits == 32 {
			return valuesBulk(b.(*array.Float32Builder).AppendValues)
		}
		return valuesBulk(b.(*array.Float64Builder).AppendValues)
	}
	enc, size := nd.encoder(b), nd.size
	return func(p unsafe.Pointer, n int) {
		for i := range n {
			enc(unsafe.Add(p, uintptr(i)*size))
		}
	}
}

// mapEncoder writes map entries in ascending key order, so equal maps give
// equal batches.
func (nd *node) mapEncoder(mb *array.MapBuilder) encFn {
	keyEnc := nd.key.encoder(mb.KeyBuilder())
	itemEnc := nd.elem.encoder(mb.ItemBuilder())
	mt, kt, vt := nd.rt, nd.key.rt, nd.elem.rt
	var less func(a, b reflect.Value) int
	switch kt.Kind() {
	case reflect.String:
		less = func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) }
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		less = func(a, b reflect.Value) int { return cmp.Compare(a.Int(), b.Int()) }
	default:
		less = func(a, b reflect.Value) int { return cmp.Compare(a.Uint(), b.Uint()) }
	}
	type entry struct{ k, v reflect.Value }
	return func(p unsafe.Pointer) {
		m := reflect.NewAt(mt, p).Elem()
		if m.IsNil() {
			mb.AppendNull()
			return
		}
		mb.Append(true)
		entries := make([]entry, 0, m.Len())
		for it := m.MapRange(); it.Next(); {
			entries = append(entries, entry{it.Key(), it.Value()})
		}
		slices.SortFunc(entries, func(a, b entry) int { return less(a.k, b.k) })
		k, v := reflect.New(kt), reflect.New(vt)
		for _, e := range entries {
			k.Elem().Set(e.k)
			v.Elem().Set(e.v)
			keyEnc(k.UnsafePointer())
			itemEnc(v.UnsafePointer())
		}
	}
}
