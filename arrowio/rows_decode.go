package arrowio

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// setFn writes value i of a column to the Go value at p. p points at zeroed
// memory, so a null leaves it alone.
type setFn func(p unsafe.Pointer, i int)

// fillFn writes values 0..n-1 of a column to n Go values stride bytes
// apart starting at base: a column-at-a-time fast path.
type fillFn func(base unsafe.Pointer, stride uintptr, n int)

// dec is a column accessor resolved for one array and one Go type.
type dec struct {
	set  setFn
	fill fillFn // nil when there is no faster path than calling set
}

// fillOf returns d's fill, or a loop over its set.
func fillOf(d dec) fillFn {
	if d.fill != nil {
		return d.fill
	}
	set := d.set
	return func(base unsafe.Pointer, stride uintptr, n int) {
		for i := range n {
			set(unsafe.Add(base, uintptr(i)*stride), i)
		}
	}
}

// sliceHeader is the memory layout of a Go slice.
type sliceHeader struct {
	data     unsafe.Pointer
	len, cap int
}

type decoder struct{ root reflect.Type }

func (d *decoder) fail(goPath, col string, format string, args ...any) error {
	return &FieldError{Type: d.root.String(), Field: goPath, Column: col,
		Err: fmt.Errorf("%w: %s", ErrSchema, fmt.Sprintf(format, args...))}
}

func (d *decoder) mismatch(nd *node, arr arrow.Array, goPath, col string) error {
	return d.fail(goPath, col, "column type %s does not fit Go type %s", arr.DataType(), nd.rt)
}

// skipNulls wraps set so that null entries of arr are left at zero.
func skipNulls(arr arrow.Array, set setFn) setFn {
	if arr.NullN() == 0 {
		return set
	}
	return func(p unsafe.Pointer, i int) {
		if arr.IsValid(i) {
			set(p, i)
		}
	}
}

// prepare resolves the accessor that decodes arr into values of nd. It does
// all type checking, so the returned functions cannot fail. Work that can be
// done for the whole array at once (copying string bytes, decoding list
// elements) is done here.
func (d *decoder) prepare(nd *node, arr arrow.Array, goPath, col string) (dec, error) {
	if arr.DataType().ID() == arrow.NULL {
		return dec{set: func(unsafe.Pointer, int) {}}, nil
	}
	if da, ok := arr.(*array.Dictionary); ok && nd.kind != kPtr {
		inner, err := d.prepare(nd, da.Dictionary(), goPath, col)
		if err != nil {
			return dec{}, err
		}
		set := inner.set
		return dec{set: skipNulls(da, func(p unsafe.Pointer, i int) { set(p, da.GetValueIndex(i)) })}, nil
	}
	switch nd.kind {
	case kPtr:
		inner, err := d.prepare(nd.elem, arr, goPath, col)
		if err != nil {
			return dec{}, err
		}
		// One allocation per batch: row i points at element i of a backing
		// array (each row is decoded once, so no two rows share a value).
		n, esize := arr.Len(), nd.elem.size
		base := reflect.MakeSlice(reflect.SliceOf(nd.elem.rt), n, n).UnsafePointer()
		set := inner.set
		return dec{set: func(p unsafe.Pointer, i int) {
			if arr.IsNull(i) {
				return
			}
			q := unsafe.Add(base, uintptr(i)*esize)
			set(q, i)
			*(*unsafe.Pointer)(p) = q
		}}, nil
	case kBool:
		a, ok := arr.(*array.Boolean)
		if !ok {
			return dec{}, d.mismatch(nd, arr, goPath, col)
		}
		return dec{set: skipNulls(arr, func(p unsafe.Pointer, i int) { *(*bool)(p) = a.Value(i) })}, nil
	case kInt, kUint, kFloat:
		if !numericFits(arr.DataType().ID(), nd) {
			return dec{}, d.mismatch(nd, arr, goPath, col)
		}
		return numericDec(nd, arr), nil
	case kString:
		var set setFn
		switch a := arr.(type) {
		case *array.String:
			set = offsetStrings(a.ValueOffsets(), a.ValueBytes())
		case *array.LargeString:
			set = offsetStrings(a.ValueOffsets(), a.ValueBytes())
		case *array.StringView:
			set = func(p unsafe.Pointer, i int) { *(*string)(p) = strings.Clone(a.Value(i)) }
		default:
			return dec{}, d.mismatch(nd, arr, goPath, col)
		}
		return dec{set: skipNulls(arr, set)}, nil
	case kBytes:
		var set setFn
		switch a := arr.(type) {
		case *array.Binary:
			set = offsetBytes(a.ValueOffsets(), a.ValueBytes())
		case *array.LargeBinary:
			set = offsetBytes(a.ValueOffsets(), a.ValueBytes())
		case *array.String:
			set = offsetBytes(a.ValueOffsets(), a.ValueBytes())
		case *array.LargeString:
			set = offsetBytes(a.ValueOffsets(), a.ValueBytes())
		case *array.BinaryView:
			set = func(p unsafe.Pointer, i int) { *(*[]byte)(p) = append([]byte{}, a.Value(i)...) }
		case *array.StringView:
			set = func(p unsafe.Pointer, i int) { *(*[]byte)(p) = append([]byte{}, a.Value(i)...) }
		case *array.FixedSizeBinary:
			set = func(p unsafe.Pointer, i int) { *(*[]byte)(p) = append([]byte{}, a.Value(i)...) }
		default:
			return dec{}, d.mismatch(nd, arr, goPath, col)
		}
		return dec{set: skipNulls(arr, set)}, nil
	case kFixedBytes:
		n := nd.n
		var value func(i int) []byte
		switch a := arr.(type) {
		case *array.FixedSizeBinary:
			if a.DataType().(*arrow.FixedSizeBinaryType).ByteWidth != n {
				return dec{}, d.mismatch(nd, arr, goPath, col)
			}
			value = a.Value
		case *array.Binary:
			value = a.Value
		case *array.LargeBinary:
			value = a.Value
		default:
			return dec{}, d.mismatch(nd, arr, goPath, col)
		}
		if _, ok := arr.(*array.FixedSizeBinary); !ok {
			for i := range arr.Len() {
				if arr.IsValid(i) && len(value(i)) != n {
					return dec{}, d.fail(goPath, col, "row %d holds %d bytes, Go type %s holds %d", i, len(value(i)), nd.rt, n)
				}
			}
		}
		return dec{set: skipNulls(arr, func(p unsafe.Pointer, i int) {
			copy(unsafe.Slice((*byte)(p), n), value(i))
		})}, nil
	case kTime:
		var set setFn
		switch a := arr.(type) {
		case *array.Timestamp:
			vals := a.TimestampValues()
			switch a.DataType().(*arrow.TimestampType).Unit {
			case arrow.Second:
				set = func(p unsafe.Pointer, i int) { *(*time.Time)(p) = time.Unix(int64(vals[i]), 0).UTC() }
			case arrow.Millisecond:
				set = func(p unsafe.Pointer, i int) { *(*time.Time)(p) = time.UnixMilli(int64(vals[i])).UTC() }
			case arrow.Microsecond:
				set = func(p unsafe.Pointer, i int) { *(*time.Time)(p) = time.UnixMicro(int64(vals[i])).UTC() }
			default:
				set = func(p unsafe.Pointer, i int) { *(*time.Time)(p) = time.Unix(0, int64(vals[i])).UTC() }
			}
		case *array.Date32:
			vals := a.Date32Values()
			set = func(p unsafe.Pointer, i int) { *(*time.Time)(p) = time.Unix(int64(vals[i])*86400, 0).UTC() }
		case *array.Date64:
			vals := a.Date64Values()
			set = func(p unsafe.Pointer, i int) { *(*time.Time)(p) = time.UnixMilli(int64(vals[i])).UTC() }
		default:
			return dec{}, d.mismatch(nd, arr, goPath, col)
		}
		return dec{set: skipNulls(arr, set)}, nil
	case kDuration:
		a, ok := arr.(*array.Duration)
		if !ok {
			return dec{}, d.mismatch(nd, arr, goPath, col)
		}
		vals, mult := a.DurationValues(), a.DataType().(*arrow.DurationType).Unit.Multiplier()
		return dec{set: skipNulls(arr, func(p unsafe.Pointer, i int) {
			*(*time.Duration)(p) = time.Duration(vals[i]) * mult
		})}, nil
	case kStruct:
		return d.prepareStruct(nd, arr, goPath, col)
	case kList:
		return d.prepareList(nd, arr, goPath, col)
	case kFixedList:
		return d.prepareFixedList(nd, arr, goPath, col)
	case kMap:
		return d.prepareMap(nd, arr, goPath, col)
	}
	return dec{}, d.mismatch(nd, arr, goPath, col)
}

func (d *decoder) prepareStruct(nd *node, arr arrow.Array, goPath, col string) (dec, error) {
	a, ok := arr.(*array.Struct)
	if !ok {
		return dec{}, d.mismatch(nd, arr, goPath, col)
	}
	st := a.DataType().(*arrow.StructType)
	type kid struct {
		off uintptr
		dec dec
	}
	kids := make([]kid, 0, len(nd.fields))
	for _, f := range nd.fields {
		idx := lookupField(st.Fields(), f.name)
		if idx < 0 && f.optional {
			continue
		}
		if idx < 0 {
			return dec{}, d.fail(f.goPath, col+"."+f.name, "no field %q in struct column %q", f.name, col)
		}
		kd, err := d.prepare(f.node, a.Field(idx), f.goPath, col+"."+f.name)
		if err != nil {
			return dec{}, err
		}
		kids = append(kids, kid{f.offset, kd})
	}
	set := func(p unsafe.Pointer, i int) {
		for _, k := range kids {
			k.dec.set(unsafe.Add(p, k.off), i)
		}
	}
	if arr.NullN() > 0 {
		return dec{set: skipNulls(arr, set)}, nil
	}
	return dec{set: set, fill: func(base unsafe.Pointer, stride uintptr, n int) {
		for _, k := range kids {
			fillOf(k.dec)(unsafe.Add(base, k.off), stride, n)
		}
	}}, nil
}

// prepareList decodes every element of a list column at once into one
// backing array; each row's slice is then a capped window of it.
func (d *decoder) prepareList(nd *node, arr arrow.Array, goPath, col string) (dec, error) {
	la, ok := arr.(array.ListLike)
	if !ok {
		return dec{}, d.mismatch(nd, arr, goPath, col)
	}
	var lo, hi int64
	first := true
	for i := range la.Len() {
		if la.IsNull(i) {
			continue
		}
		s, e := la.ValueOffsets(i)
		if first {
			lo, hi, first = s, e, false
		}
		lo, hi = min(lo, s), max(hi, e)
	}
	values := la.ListValues()
	if lo < 0 || hi > int64(values.Len()) || lo > hi {
		return dec{}, &FieldError{Type: d.root.String(), Field: goPath, Column: col,
			Err: fmt.Errorf("%w: list offsets [%d, %d) outside %d values", ErrCorrupt, lo, hi, values.Len())}
	}
	count := int(hi - lo)
	backing := reflect.MakeSlice(nd.rt, count, count)
	data := backing.UnsafePointer()
	esize := nd.elem.size
	if raw := rawNumeric(nd.elem, values); raw != nil {
		copy(unsafe.Slice((*byte)(data), uintptr(count)*esize), raw[uintptr(lo)*esize:uintptr(hi)*esize])
	} else {
		sub := array.NewSlice(values, lo, hi)
		ed, err := d.prepare(nd.elem, sub, goPath+"[]", col+"[]")
		if err != nil {
			sub.Release()
			return dec{}, err
		}
		fillOf(ed)(data, esize, count)
		sub.Release()
	}
	return dec{set: skipNulls(arr, func(p unsafe.Pointer, i int) {
		s, e := la.ValueOffsets(i)
		n := int(e - s)
		if n == 0 {
			// Like Go's own b[k:k], an empty window keeps the base pointer
			// rather than pointing past the end of the backing array.
			*(*sliceHeader)(p) = sliceHeader{data, 0, 0}
			return
		}
		*(*sliceHeader)(p) = sliceHeader{unsafe.Add(data, uintptr(s-lo)*esize), n, n}
	})}, nil
}

func (d *decoder) prepareFixedList(nd *node, arr arrow.Array, goPath, col string) (dec, error) {
	la, ok := arr.(array.ListLike)
	if !ok {
		return dec{}, d.mismatch(nd, arr, goPath, col)
	}
	n := nd.n
	if fl, ok := arr.DataType().(*arrow.FixedSizeListType); ok && int(fl.Len()) != n {
		return dec{}, d.mismatch(nd, arr, goPath, col)
	}
	values := la.ListValues()
	for i := range la.Len() {
		if la.IsNull(i) {
			continue
		}
		s, e := la.ValueOffsets(i)
		if int(e-s) != n {
			return dec{}, d.fail(goPath, col, "row %d holds %d values, Go type %s holds %d", i, e-s, nd.rt, n)
		}
		if s < 0 || e > int64(values.Len()) {
			return dec{}, &FieldError{Type: d.root.String(), Field: goPath, Column: col,
				Err: fmt.Errorf("%w: row %d: list offsets [%d, %d) outside %d values", ErrCorrupt, i, s, e, values.Len())}
		}
	}
	esize := nd.elem.size
	if raw := rawNumeric(nd.elem, values); raw != nil {
		width := uintptr(n) * esize
		return dec{set: skipNulls(arr, func(p unsafe.Pointer, i int) {
			s, _ := la.ValueOffsets(i)
			copy(unsafe.Slice((*byte)(p), width), raw[uintptr(s)*esize:])
		})}, nil
	}
	ed, err := d.prepare(nd.elem, values, goPath+"[]", col+"[]")
	if err != nil {
		return dec{}, err
	}
	eset := ed.set
	return dec{set: skipNulls(arr, func(p unsafe.Pointer, i int) {
		s, _ := la.ValueOffsets(i)
		for k := range n {
			eset(unsafe.Add(p, uintptr(k)*esize), int(s)+k)
		}
	})}, nil
}

func (d *decoder) prepareMap(nd *node, arr arrow.Array, goPath, col string) (dec, error) {
	ma, ok := arr.(*array.Map)
	if !ok {
		return dec{}, d.mismatch(nd, arr, goPath, col)
	}
	kd, err := d.prepare(nd.key, ma.Keys(), goPath+"[key]", col+".key")
	if err != nil {
		return dec{}, err
	}
	vd, err := d.prepare(nd.elem, ma.Items(), goPath+"[value]", col+".value")
	if err != nil {
		return dec{}, err
	}
	mt, kt, vt := nd.rt, nd.key.rt, nd.elem.rt
	return dec{set: skipNulls(arr, func(p unsafe.Pointer, i int) {
		s, e := ma.ValueOffsets(i)
		m := reflect.MakeMapWithSize(mt, int(e-s))
		for j := s; j < e; j++ {
			k, v := reflect.New(kt), reflect.New(vt)
			kd.set(k.UnsafePointer(), int(j))
			vd.set(v.UnsafePointer(), int(j))
			m.SetMapIndex(k.Elem(), v.Elem())
		}
		reflect.NewAt(mt, p).Elem().Set(m)
	})}, nil
}

// offsetStrings copies a string column's bytes once and returns a setter
// that slices each value out of the copy.
func offsetStrings[O int32 | int64](offs []O, data []byte) setFn {
	s := string(data)
	b0 := offs[0]
	return func(p unsafe.Pointer, i int) { *(*string)(p) = s[offs[i]-b0 : offs[i+1]-b0] }
}

// offsetBytes is offsetStrings for []byte: windows of one copy, each with
// its capacity capped and never nil.
func offsetBytes[O int32 | int64](offs []O, data []byte) setFn {
	b := bytes.Clone(data)
	if b == nil {
		b = []byte{}
	}
	b0 := offs[0]
	return func(p unsafe.Pointer, i int) {
		s, e := offs[i]-b0, offs[i+1]-b0
		*(*[]byte)(p) = b[s:e:e]
	}
}

type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

// numInfo classifies a numeric Arrow type.
func numInfo(id arrow.Type) (k kind, bits int) {
	switch id {
	case arrow.INT8:
		return kInt, 8
	case arrow.INT16:
		return kInt, 16
	case arrow.INT32:
		return kInt, 32
	case arrow.INT64:
		return kInt, 64
	case arrow.UINT8:
		return kUint, 8
	case arrow.UINT16:
		return kUint, 16
	case arrow.UINT32:
		return kUint, 32
	case arrow.UINT64:
		return kUint, 64
	case arrow.FLOAT32:
		return kFloat, 32
	case arrow.FLOAT64:
		return kFloat, 64
	}
	return kStruct, 0 // not numeric
}

// numericFits reports whether a column of type id converts to nd: the
// rules documented on AppendRows.
func numericFits(id arrow.Type, nd *node) bool {
	k, bits := numInfo(id)
	if bits == 0 {
		return false
	}
	switch nd.kind {
	case kInt:
		return k == kInt && bits <= nd.bits || k == kUint && bits < nd.bits
	case kUint:
		return k == kUint && bits <= nd.bits
	case kFloat:
		return true // any number, rounded to the nearest float as Go converts
	}
	return false
}

// numericDec dispatches on the Go destination type.
func numericDec(nd *node, arr arrow.Array) dec {
	switch nd.kind {
	case kInt:
		switch nd.bits {
		case 8:
			return numDecTo[int8](arr)
		case 16:
			return numDecTo[int16](arr)
		case 32:
			return numDecTo[int32](arr)
		default:
			return numDecTo[int64](arr)
		}
	case kUint:
		switch nd.bits {
		case 8:
			return numDecTo[uint8](arr)
		case 16:
			return numDecTo[uint16](arr)
		case 32:
			return numDecTo[uint32](arr)
		default:
			return numDecTo[uint64](arr)
		}
	}
	if nd.bits == 32 {
		return numDecTo[float32](arr)
	}
	return numDecTo[float64](arr)
}

// numDecTo dispatches on the Arrow source type.
func numDecTo[D number](arr arrow.Array) dec {
	switch a := arr.(type) {
	case *array.Int8:
		return numDec[int8, D](arr, a.Int8Values())
	case *array.Int16:
		return numDec[int16, D](arr, a.Int16Values())
	case *array.Int32:
		return numDec[int32, D](arr, a.Int32Values())
	case *array.Int64:
		return numDec[int64, D](arr, a.Int64Values())
	case *array.Uint8:
		return numDec[uint8, D](arr, a.Uint8Values())
	case *array.Uint16:
		return numDec[uint16, D](arr, a.Uint16Values())
	case *array.Uint32:
		return numDec[uint32, D](arr, a.Uint32Values())
	case *array.Uint64:
		return numDec[uint64, D](arr, a.Uint64Values())
	case *array.Float32:
		return numDec[float32, D](arr, a.Float32Values())
	case *array.Float64:
		return numDec[float64, D](arr, a.Float64Values())
	}
	panic(fmt.Sprintf("arrowio: numeric column of unexpected array type %T", arr)) // numericFits guards this
}

func numDec[S, D number](arr arrow.Array, vals []S) dec {
	set := func(p unsafe.Pointer, i int) { *(*D)(p) = D(vals[i]) }
	fill := func(base unsafe.Pointer, stride uintptr, n int) {
		for i, v := range vals[:n] {
			*(*D)(unsafe.Add(base, uintptr(i)*stride)) = D(v)
		}
	}
	if arr.NullN() == 0 {
		return dec{set: set, fill: fill}
	}
	return dec{set: skipNulls(arr, set), fill: func(base unsafe.Pointer, stride uintptr, n int) {
		fill(base, stride, n)
		for i := range n {
			if arr.IsNull(i) {
				*(*D)(unsafe.Add(base, uintptr(i)*stride)) = 0
			}
		}
	}}
}

// rawNumeric returns the value bytes of arr when they can be copied into
// Go values of nd as they are: same numeric type, no nulls. Otherwise nil.
func rawNumeric(nd *node, arr arrow.Array) []byte {
	if arr.NullN() != 0 || (nd.kind != kInt && nd.kind != kUint && nd.kind != kFloat) {
		return nil
	}
	if k, bits := numInfo(arr.DataType().ID()); k != nd.kind || bits != nd.bits {
		return nil
	}
	switch a := arr.(type) {
	case *array.Int8:
		return asBytes(a.Int8Values())
	case *array.Int16:
		return asBytes(a.Int16Values())
	case *array.Int32:
		return asBytes(a.Int32Values())
	case *array.Int64:
		return asBytes(a.Int64Values())
	case *array.Uint8:
		return asBytes(a.Uint8Values())
	case *array.Uint16:
		return asBytes(a.Uint16Values())
	case *array.Uint32:
		return asBytes(a.Uint32Values())
	case *array.Uint64:
		return asBytes(a.Uint64Values())
	case *array.Float32:
		return asBytes(a.Float32Values())
	case *array.Float64:
		return asBytes(a.Float64Values())
	}
	return nil
}

func asBytes[S number](v []S) []byte {
	if len(v) == 0 {
		return []byte{}
	}
	var zero S
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), uintptr(len(v))*unsafe.Sizeof(zero))
}
