package ops

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMap(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	in := testBatch(t, mem, peopleSchema, peopleRows)
	defer in.Release()

	identity := func(_ context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) { return b, nil }
	half := func(_ context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
		return b.NewSlice(0, b.NumRows()/2), nil
	}
	boom := func(context.Context, arrow.RecordBatch) (arrow.RecordBatch, error) { panic("boom") }
	fails := func(context.Context, arrow.RecordBatch) (arrow.RecordBatch, error) { return nil, errors.New("bad row") }

	tests := []struct {
		name    string
		op      *MapOp
		rows    int64
		wantErr string
	}{
		{"identity", Map("id@v1", identity), 5, ""},
		{"resizing", Map("half@v1", half, Resizing()), 2, ""},
		{"row count checked", Map("half@v1", half), 0, "returned 2 rows for 5"},
		{"panic", Map("boom@v1", boom), 0, "op map(boom@v1) failed on rows [100, 105): panic: boom"},
		{"error", Map("fails@v1", fails), 0, "rows [100, 105): bad row"},
		{"schema checked", Map("id@v1", identity, WithOutputSchema(arrow.NewSchema(nil, nil))), 0, "differs from the declared"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.op.Apply(ctx, mem, in, 100)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrOp)
				var re *RunError
				assert.ErrorAs(t, err, &re)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.rows, out.NumRows())
			out.Release()
		})
	}

	var seen int64 = -1
	idx := MapIndexed("idx@v1", func(_ context.Context, b arrow.RecordBatch, first int64) (arrow.RecordBatch, error) {
		seen = first
		return b, nil // retained by the op
	})
	out, err := idx.Apply(ctx, mem, in, 42)
	require.NoError(t, err)
	out.Release()
	assert.Equal(t, int64(42), seen)
}

func TestDescribe(t *testing.T) {
	fn := func(_ context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) { return b, nil }
	tests := []struct {
		op        Op
		want      string
		cacheable bool
	}{
		{Map("tok@v2", fn), `map(fn="tok@v2",indexed="false",resize="false")`, true},
		{Map("", fn), `map(fn="<unnamed>",indexed="false",resize="false")`, false},
		{Shuffle(7), `shuffle(seed="7")`, true},
		{Shard(4, 1, false), `shard(n="4",i="1",contiguous="false")`, true},
		{RenameColumns(map[string]string{"b": "c", "a": "z"}), `rename_columns(a="z",b="c")`, true},
		{RemoveColumns("b", "a"), `remove_columns(names="[\"a\",\"b\"]")`, true},
		{Sort(SortKey{Column: "x", Descending: true}), `sort(key="x desc nulls_last")`, true},
	}
	for _, tc := range tests {
		d, ok := tc.op.Describe()
		assert.Equal(t, tc.want, d)
		assert.Equal(t, tc.cacheable, ok, d)
	}
	assert.ErrorIs(t, Check(Map("tokenize", fn)), ErrOp, "name without version")
	assert.ErrorIs(t, Check(Map("x@v1", nil)), ErrOp)
	assert.NoError(t, Check(Map("", fn)))
}

func TestFilter(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	in := testBatch(t, mem, peopleSchema, peopleRows)
	defer in.Release()

	adults := Filter("adults@v1", func(_ context.Context, b arrow.RecordBatch) (*array.Boolean, error) {
		ages := b.Column(1).(*array.Int64)
		bb := array.NewBooleanBuilder(mem)
		defer bb.Release()
		for i := range ages.Len() {
			if ages.IsNull(i) {
				bb.AppendNull()
			} else {
				bb.Append(ages.Value(i) >= 21)
			}
		}
		return bb.NewBooleanArray(), nil
	})
	out, err := adults.Apply(ctx, mem, in, 0)
	require.NoError(t, err)
	defer out.Release()
	assert.Equal(t, int64(3), out.NumRows())
	assert.Equal(t, `["ann" "cy" (null)]`, out.Column(0).String())
	assert.Equal(t, `[["a"] ["b" "c"] (null)]`, out.Column(2).String())

	short := Filter("short@v1", func(_ context.Context, b arrow.RecordBatch) (*array.Boolean, error) {
		bb := array.NewBooleanBuilder(mem)
		defer bb.Release()
		bb.Append(true)
		return bb.NewBooleanArray(), nil
	})
	_, err = short.Apply(ctx, mem, in, 7)
	assert.ErrorIs(t, err, ErrOp)
	assert.Contains(t, err.Error(), "rows [7, 12): mask has 1 entries for 5 rows")
}

func TestColumnOps(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	in := testBatch(t, mem, peopleSchema, peopleRows)
	defer in.Release()

	names := func(s *arrow.Schema) []string { return fieldNames(s) }
	run := func(op BatchOp) arrow.RecordBatch {
		t.Helper()
		s, ok, err := op.Schema(in.Schema())
		require.NoError(t, err)
		require.True(t, ok)
		out, err := op.Apply(ctx, mem, in, 0)
		require.NoError(t, err)
		assert.True(t, s.Equal(out.Schema()))
		return out
	}
	out := run(RenameColumns(map[string]string{"name": "who"}))
	assert.Equal(t, []string{"who", "age", "tags"}, names(out.Schema()))
	out.Release()
	out = run(RemoveColumns("age"))
	assert.Equal(t, []string{"name", "tags"}, names(out.Schema()))
	out.Release()
	out = run(SelectColumns("tags", "name"))
	assert.Equal(t, []string{"tags", "name"}, names(out.Schema()))
	out.Release()

	target := arrow.NewSchema([]arrow.Field{
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "age", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	out = run(Cast(target))
	assert.Equal(t, "[31 (null) 25 31 19]", out.Column(1).String())
	assert.Equal(t, arrow.PrimitiveTypes.Float64, out.Column(1).DataType())
	out.Release()

	bad := arrow.NewSchema([]arrow.Field{{Name: "name", Type: arrow.PrimitiveTypes.Int64},
		{Name: "age", Type: arrow.PrimitiveTypes.Int64}, {Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String)}}, nil)
	_, err := Cast(bad).Apply(ctx, mem, in, 0)
	assert.ErrorIs(t, err, ErrOp)
	assert.Contains(t, err.Error(), `cast column "name"`)

	for _, op := range []BatchOp{RenameColumns(map[string]string{"x": "y"}), RemoveColumns("x"), SelectColumns("x"),
		RenameColumns(map[string]string{"name": "age"})} {
		_, _, err := op.Schema(in.Schema())
		assert.ErrorIs(t, err, ErrOp)
	}

	ib := array.NewInt32Builder(mem)
	ib.AppendValues([]int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, nil)
	vals := ib.NewArray()
	ib.Release()
	add := AddColumn(arrow.Field{Name: "rank", Type: arrow.PrimitiveTypes.Int32}, vals)
	vals.Release()
	out, err = add.Apply(ctx, mem, in, 3)
	require.NoError(t, err)
	assert.Equal(t, "[3 4 5 6 7]", out.Column(3).String())
	out.Release()
	_, err = add.Apply(ctx, mem, in, 6)
	assert.ErrorIs(t, err, ErrOp)
	d1, _ := add.Describe()
	assert.Contains(t, d1, "sha256=")
	add.values.Release() // test-only: drop the op's reference
}

func TestGather(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	whole := testBatch(t, mem, peopleSchema, peopleRows)
	defer whole.Release()
	// Three chunks: rows [0,2), [2,3), [3,5).
	chunks := []arrow.RecordBatch{whole.NewSlice(0, 2), whole.NewSlice(2, 3), whole.NewSlice(3, 5)}
	defer func() {
		for _, c := range chunks {
			c.Release()
		}
	}()
	c := NewChunks(peopleSchema, chunks)
	assert.Equal(t, int64(5), c.Len())

	for _, sel := range []Selection{
		Range(0, 5), Range(3, 2), Range(1, 3), Positions([]int64{4, 0, 2, 2, 1}),
		Positions([]int64{0, 3, 4}), Positions(nil), Positions([]int64{2}),
	} {
		got, err := Gather(ctx, mem, c, sel)
		require.NoError(t, err)
		want, err := TakeBatch(ctx, mem, whole, sel.Materialize())
		require.NoError(t, err)
		assert.True(t, array.RecordEqual(want, got), "%v: got %v want %v", sel.Materialize(), got, want)
		got.Release()
		want.Release()
	}
	_, err := Gather(ctx, mem, c, Positions([]int64{5}))
	assert.ErrorIs(t, err, ErrOp)
}

func TestFastTakeMatchesCompute(t *testing.T) {
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int16, Nullable: true},
			arrow.Field{Name: "y", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true}), Nullable: true},
		{Name: "fsl", Type: arrow.FixedSizeListOf(2, arrow.PrimitiveTypes.Int8), Nullable: true},
		{Name: "ll", Type: arrow.LargeListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
	}, nil)
	require.True(t, fastSchema(schema))
	rows := `[
{"b":true,"f":1.5,"ls":"a","bin":"AQI=","st":{"x":1,"y":["p"]},"fsl":[1,2],"ll":[1]},
{"b":null,"f":null,"ls":null,"bin":null,"st":null,"fsl":null,"ll":null},
{"b":false,"f":2.5,"ls":"ccc","bin":"","st":{"x":null,"y":null},"fsl":[3,4],"ll":[]},
{"b":true,"f":3.5,"ls":"","bin":"Aw==","st":{"x":4,"y":["q","r"]},"fsl":[5,6],"ll":[2,3]},
{"b":false,"f":4.5,"ls":"dd","bin":"BA==","st":{"x":5,"y":[]},"fsl":[7,8],"ll":null}
]`
	whole := testBatch(t, mem, schema, rows)
	defer whole.Release()
	chunks := []arrow.RecordBatch{whole.NewSlice(0, 3), whole.NewSlice(3, 5)}
	defer chunks[0].Release()
	defer chunks[1].Release()
	c := NewChunks(schema, chunks)
	for _, idx := range [][]int64{{4, 1, 0, 3, 2}, {1, 2, 3}, {3, 3, 0}, {2}} {
		got, err := Gather(ctx, mem, c, Positions(idx))
		require.NoError(t, err)
		ia := array.NewInt64Builder(mem)
		ia.AppendValues(idx, nil)
		arr := ia.NewArray()
		ia.Release()
		want, err := takeWith(ctx, mem, whole, arr) // arrow-go's kernel
		arr.Release()
		require.NoError(t, err)
		assert.True(t, array.RecordEqual(want, got), "%v:\ngot  %v\nwant %v", idx, got, want)
		got.Release()
		want.Release()
	}
}
