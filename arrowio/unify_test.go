package arrowio

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

func TestUnifySchemas(t *testing.T) {
	i32, i64, f64, str := arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, arrow.BinaryTypes.String
	u8 := arrow.PrimitiveTypes.Uint8
	tests := []struct {
		name string
		a, b arrow.DataType
		want arrow.DataType // nil: an error
	}{
		{"same", i64, i64, i64},
		{"null and int", arrow.Null, i64, i64},
		{"int and null", str, arrow.Null, str},
		{"int widening", i32, i64, i64},
		{"unsigned and signed", u8, i32, i64},
		{"int and float", i64, f64, f64},
		{"string kinds", str, arrow.BinaryTypes.LargeString, arrow.BinaryTypes.LargeString},
		{"lists", arrow.ListOf(i32), arrow.ListOf(f64), arrow.ListOf(f64)},
		{"structs", arrow.StructOf(arrow.Field{Name: "x", Type: i64}), arrow.StructOf(arrow.Field{Name: "y", Type: str}),
			arrow.StructOf(arrow.Field{Name: "x", Type: i64, Nullable: true}, arrow.Field{Name: "y", Type: str, Nullable: true})},
		{"string and int", str, i64, nil},
		{"struct and list", arrow.StructOf(), arrow.ListOf(i64), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := arrow.NewSchema([]arrow.Field{{Name: "c", Type: tc.a, Nullable: true}}, nil)
			b := arrow.NewSchema([]arrow.Field{{Name: "c", Type: tc.b, Nullable: true}}, nil)
			got, err := UnifySchemas(a, b)
			if tc.want == nil {
				require.ErrorIs(t, err, ErrSchema)
				require.Contains(t, err.Error(), `"c"`)
				return
			}
			require.NoError(t, err)
			require.True(t, arrow.TypeEqual(tc.want, got.Field(0).Type), "got %s want %s", got.Field(0).Type, tc.want)
		})
	}
}

func TestUnifySchemasFieldOrderAndNullability(t *testing.T) {
	a := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "text", Type: arrow.BinaryTypes.String}}, nil)
	b := arrow.NewSchema([]arrow.Field{{Name: "extra", Type: arrow.FixedWidthTypes.Boolean}, {Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)
	got, err := UnifySchemas(a, b)
	require.NoError(t, err)
	require.Equal(t, "id text extra", strings.Join(fieldNames(got), " "))
	require.False(t, got.Field(0).Nullable, "present everywhere and never null")
	require.True(t, got.Field(1).Nullable, "missing from b")
	require.True(t, got.Field(2).Nullable, "missing from a")

	_, err = UnifySchemas()
	require.True(t, errors.Is(err, ErrSchema))
}

func TestCastBatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)

	inner := arrow.StructOf(arrow.Field{Name: "lang", Type: arrow.BinaryTypes.String, Nullable: true})
	in := arrow.NewSchema([]arrow.Field{
		{Name: "meta", Type: inner, Nullable: true},
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
	}, nil)
	rb := array.NewRecordBuilder(mem, in)
	sb := rb.Field(0).(*array.StructBuilder)
	langs := sb.FieldBuilder(0).(*array.StringBuilder)
	sb.Append(true)
	langs.Append("en")
	sb.AppendNull()
	sb.Append(true)
	langs.Append("fr")
	rb.Field(1).(*array.Int32Builder).AppendValues([]int32{1, 2, 3}, nil)
	batch := rb.NewRecordBatch()
	rb.Release()
	defer batch.Release()

	outInner := arrow.StructOf(
		arrow.Field{Name: "lang", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "len", Type: arrow.PrimitiveTypes.Int64, Nullable: true})
	out := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Float64},
		{Name: "meta", Type: outInner, Nullable: true},
		{Name: "missing", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	for _, slice := range []bool{false, true} {
		src := batch
		if slice {
			src = batch.NewSlice(1, 3)
		}
		got, err := CastBatch(context.Background(), mem, src, out)
		require.NoError(t, err)
		require.True(t, got.Schema().Equal(out))
		want := `[{"id":1,"meta":{"lang":"en","len":null},"missing":null},{"id":2,"meta":null,"missing":null},{"id":3,"meta":{"lang":"fr","len":null},"missing":null}]`
		if slice {
			want = `[{"id":2,"meta":null,"missing":null},{"id":3,"meta":{"lang":"fr","len":null},"missing":null}]`
			src.Release()
		}
		js, err := got.MarshalJSON()
		require.NoError(t, err)
		require.JSONEq(t, want, string(js))
		got.Release()
	}

	bad := arrow.NewSchema([]arrow.Field{{Name: "meta", Type: arrow.PrimitiveTypes.Int64}}, nil)
	_, err := CastBatch(context.Background(), mem, batch, bad)
	require.ErrorIs(t, err, ErrSchema)
}
