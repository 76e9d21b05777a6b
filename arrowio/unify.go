package arrowio

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// UnifySchemas returns one schema every input can be cast to, for reading
// shards of one dataset that were written with slightly different schemas.
// Fields are matched by name; the result keeps the order of first
// appearance, and a field missing from some input becomes nullable. Types
// unify as follows: equal types stay; null unifies with anything; integers
// widen to the wider integer, integers and floats to float64; strings and
// large strings to large_string when mixed; structs unify field by field;
// lists by element. Anything else is an error wrapping ErrSchema that names
// the field and both types. Schema metadata is taken from the first input.
func UnifySchemas(schemas ...*arrow.Schema) (*arrow.Schema, error) {
	if len(schemas) == 0 {
		return nil, fmt.Errorf("%w: no schemas to unify", ErrSchema)
	}
	fields, err := unifyFieldLists(nil, schemas[0].Fields(), "", len(schemas) > 1)
	if err != nil {
		return nil, err
	}
	for _, s := range schemas[1:] {
		if fields, err = unifyFieldLists(fields, s.Fields(), "", true); err != nil {
			return nil, err
		}
	}
	md := schemas[0].Metadata()
	return arrow.NewSchema(fields, &md), nil
}

// unifyFieldLists merges b into a. When partial is true, fields present in
// only one list become nullable.
func unifyFieldLists(a, b []arrow.Field, prefix string, partial bool) ([]arrow.Field, error) {
	out := make([]arrow.Field, len(a), len(a)+len(b))
	copy(out, a)
	index := make(map[string]int, len(out))
	for i, f := range out {
		index[f.Name] = i
	}
	seen := make([]bool, len(out))
	for _, fb := range b {
		i, ok := index[fb.Name]
		if !ok {
			if partial && a != nil {
				fb.Nullable = true
			}
			index[fb.Name] = len(out)
			out = append(out, fb)
			seen = append(seen, true)
			continue
		}
		seen[i] = true
		t, err := unifyTypes(out[i].Type, fb.Type, prefix+fb.Name)
		if err != nil {
			return nil, err
		}
		out[i].Type = t
		out[i].Nullable = out[i].Nullable || fb.Nullable || t.ID() == arrow.NULL
	}
	if partial && a != nil {
		for i := range a {
			if !seen[i] {
				out[i].Nullable = true
			}
		}
	}
	return out, nil
}

func unifyTypes(a, b arrow.DataType, name string) (arrow.DataType, error) {
	if arrow.TypeEqual(a, b) {
		return a, nil
	}
	switch {
	case a.ID() == arrow.NULL:
		return b, nil
	case b.ID() == arrow.NULL:
		return a, nil
	case isInteger(a) && isInteger(b):
		if arrow.IsUnsignedInteger(a.ID()) != arrow.IsUnsignedInteger(b.ID()) {
			return arrow.PrimitiveTypes.Int64, nil
		}
		if a.(arrow.FixedWidthDataType).BitWidth() >= b.(arrow.FixedWidthDataType).BitWidth() {
			return a, nil
		}
		return b, nil
	case isNumeric(a) && isNumeric(b):
		return arrow.PrimitiveTypes.Float64, nil
	case isStringLike(a) && isStringLike(b):
		return arrow.BinaryTypes.LargeString, nil
	case a.ID() == arrow.STRUCT && b.ID() == arrow.STRUCT:
		fs, err := unifyFieldLists(a.(*arrow.StructType).Fields(), b.(*arrow.StructType).Fields(), name+".", true)
		if err != nil {
			return nil, err
		}
		return arrow.StructOf(fs...), nil
	case isListLike(a) && isListLike(b):
		ea, eb := a.(arrow.ListLikeType).ElemField(), b.(arrow.ListLikeType).ElemField()
		t, err := unifyTypes(ea.Type, eb.Type, name+"[]")
		if err != nil {
			return nil, err
		}
		ea.Type, ea.Nullable = t, ea.Nullable || eb.Nullable
		if a.ID() == arrow.LARGE_LIST || b.ID() == arrow.LARGE_LIST {
			return arrow.LargeListOfField(ea), nil
		}
		return arrow.ListOfField(ea), nil
	}
	return nil, fmt.Errorf("%w: field %q has types %s and %s, which do not unify", ErrSchema, name, a, b)
}

func isInteger(t arrow.DataType) bool { return arrow.IsInteger(t.ID()) }
func isNumeric(t arrow.DataType) bool { return arrow.IsInteger(t.ID()) || arrow.IsFloating(t.ID()) }
func isStringLike(t arrow.DataType) bool {
	return t.ID() == arrow.STRING || t.ID() == arrow.LARGE_STRING || t.ID() == arrow.STRING_VIEW
}
func isListLike(t arrow.DataType) bool {
	return t.ID() == arrow.LIST || t.ID() == arrow.LARGE_LIST || t.ID() == arrow.FIXED_SIZE_LIST
}

// CastBatch returns batch converted to schema: columns are matched by name
// and reordered, columns missing from batch become all-null, struct columns
// are converted field by field, and other type changes use Arrow's cast
// kernels. mem allocates new columns (nil: memory.DefaultAllocator). The
// result is owned by the caller; batch is not released. It is the companion
// of UnifySchemas.
func CastBatch(ctx context.Context, mem memory.Allocator, batch arrow.RecordBatch, schema *arrow.Schema) (arrow.RecordBatch, error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if batch.Schema().Equal(schema) {
		batch.Retain()
		return batch, nil
	}
	n := int(batch.NumRows())
	cols := make([]arrow.Array, 0, schema.NumFields())
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	in := batch.Schema()
	for _, f := range schema.Fields() {
		var col arrow.Array
		if idx := in.FieldIndices(f.Name); len(idx) > 0 {
			c, err := castArray(ctx, mem, batch.Column(idx[0]), f.Type, f.Name)
			if err != nil {
				return nil, err
			}
			col = c
		} else {
			col = array.MakeArrayOfNull(mem, f.Type, n)
		}
		cols = append(cols, col)
	}
	return array.NewRecordBatch(schema, cols, int64(n)), nil
}

func castArray(ctx context.Context, mem memory.Allocator, arr arrow.Array, to arrow.DataType, name string) (arrow.Array, error) {
	if arrow.TypeEqual(arr.DataType(), to) {
		arr.Retain()
		return arr, nil
	}
	if arr.DataType().ID() == arrow.NULL {
		return array.MakeArrayOfNull(mem, to, arr.Len()), nil
	}
	if st, ok := to.(*arrow.StructType); ok {
		if sa, ok := arr.(*array.Struct); ok {
			return castStruct(ctx, mem, sa, st, name)
		}
	}
	out, err := compute.CastArray(compute.WithAllocator(ctx, mem), arr, compute.SafeCastOptions(to))
	if err != nil {
		return nil, fmt.Errorf("%w: column %q: cast %s to %s: %v", ErrSchema, name, arr.DataType(), to, err)
	}
	return out, nil
}

func castStruct(ctx context.Context, mem memory.Allocator, sa *array.Struct, to *arrow.StructType, name string) (arrow.Array, error) {
	from := sa.DataType().(*arrow.StructType)
	children := make([]arrow.ArrayData, 0, to.NumFields())
	defer func() {
		for _, c := range children {
			c.Release()
		}
	}()
	for _, f := range to.Fields() {
		var child arrow.Array
		if i, ok := from.FieldIdx(f.Name); ok {
			// Field(i) is already sliced to the struct's offset and length.
			c, err := castArray(ctx, mem, sa.Field(i), f.Type, name+"."+f.Name)
			if err != nil {
				return nil, err
			}
			child = c
		} else {
			child = array.MakeArrayOfNull(mem, f.Type, sa.Len())
		}
		children = append(children, child.Data())
		child.Data().Retain()
		child.Release()
	}
	var nulls []*memory.Buffer
	nullBuf := sa.Data().Buffers()[0]
	if nullBuf != nil && sa.NullN() > 0 {
		if sa.Offset() == 0 {
			nulls = []*memory.Buffer{nullBuf}
		} else {
			// Re-base the validity bitmap to offset 0 to match the children.
			b := memory.NewResizableBuffer(mem)
			b.Resize(int(bitutil.BytesForBits(int64(sa.Len()))))
			bitutil.CopyBitmap(nullBuf.Bytes(), sa.Offset(), sa.Len(), b.Bytes(), 0)
			defer b.Release()
			nulls = []*memory.Buffer{b}
		}
	} else {
		nulls = []*memory.Buffer{nil}
	}
	data := array.NewData(to, sa.Len(), nulls, children, sa.NullN(), 0)
	defer data.Release()
	return array.MakeFromData(data), nil
}
