package ops

import (
	"context"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// gatherSchema covers every layout gatherRows has a path for: fixed
// widths (1, 2, 4, 8, 16 bytes and an odd width), booleans, binary and
// string (32- and 64-bit offsets), lists with flat and with nested or
// nullable children, fixed-size lists of both kinds, and structs.
var gatherSchema = arrow.NewSchema([]arrow.Field{
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "i16", Type: arrow.PrimitiveTypes.Int16},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 20, Scale: 2}, Nullable: true},
	{Name: "fsb", Type: &arrow.FixedSizeBinaryType{ByteWidth: 3}, Nullable: true},
	{Name: "ts", Type: arrow.FixedWidthTypes.Timestamp_us},
	{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary},
	{Name: "emb", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32), Nullable: true},
	{Name: "lnull", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
	{Name: "llist", Type: arrow.LargeListOf(arrow.PrimitiveTypes.Int16)},
	{Name: "nested", Type: arrow.ListOf(arrow.ListOf(arrow.BinaryTypes.String)), Nullable: true},
	{Name: "fsl", Type: arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Float64), Nullable: true},
	{Name: "fslstr", Type: arrow.FixedSizeListOf(2, arrow.BinaryTypes.String)},
	{Name: "st", Type: arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: "c", Type: arrow.ListOf(arrow.PrimitiveTypes.Uint8)},
	), Nullable: true},
}, nil)

// gatherRowsJSON returns n random rows of gatherSchema as JSON. Every
// nullable column has nulls; lnull has null elements.
func gatherRowsJSON(r *rand.Rand, first, n int) string {
	var sb strings.Builder
	sb.WriteString("[")
	maybe := func(v string) string {
		if r.IntN(5) == 0 {
			return "null"
		}
		return v
	}
	str := func() string {
		return fmt.Sprintf("%q", strings.Repeat(string(rune('a'+r.IntN(26))), r.IntN(12)))
	}
	list := func(k int, elem func() string) string {
		parts := make([]string, k)
		for i := range parts {
			parts[i] = elem()
		}
		return "[" + strings.Join(parts, ",") + "]"
	}
	for i := range n {
		if i > 0 {
			sb.WriteString(",\n")
		}
		id := first + i
		fmt.Fprintf(&sb, `{"i8":%s,"i16":%d,"f32":%s,"i64":%s,"dec":%s,"fsb":%s,"ts":%d,"ok":%s,`,
			maybe(fmt.Sprint(id%100)), id%30000, maybe(fmt.Sprintf("%d.5", id)), maybe(fmt.Sprint(id)),
			maybe(fmt.Sprintf(`"%d.25"`, id)), maybe(`"`+base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%03d", id%1000)))+`"`), id, maybe(fmt.Sprint(id%3 == 0)))
		fmt.Fprintf(&sb, `"s":%s,"ls":%s,"bin":"%s",`, maybe(str()), maybe(str()), "AQI=")
		fmt.Fprintf(&sb, `"emb":%s,"lnull":%s,"llist":%s,`,
			maybe(list(r.IntN(5), func() string { return fmt.Sprint(r.IntN(100)) })),
			list(r.IntN(4), func() string { return maybe(fmt.Sprint(r.IntN(100))) }),
			list(r.IntN(4), func() string { return fmt.Sprint(r.IntN(100)) }))
		fmt.Fprintf(&sb, `"nested":%s,"fsl":%s,"fslstr":%s,`,
			maybe(list(r.IntN(3), func() string { return maybe(list(r.IntN(3), str)) })),
			maybe(list(3, func() string { return fmt.Sprint(r.IntN(1000)) })),
			list(2, func() string { return maybe(str()) }))
		fmt.Fprintf(&sb, `"st":%s}`, maybe(fmt.Sprintf(`{"a":%s,"b":%s,"c":%s}`,
			maybe(fmt.Sprint(id)), maybe(str()), list(r.IntN(3), func() string { return fmt.Sprint(r.IntN(200)) }))))
	}
	sb.WriteString("]")
	return sb.String()
}

// TestGatherScattered checks Gather on scattered rows (the row-by-row
// path) against arrow-go's Take kernel over the concatenated batches, for
// every layout, with sliced inputs (non-zero offsets) and nulls, and that
// every buffer is released.
func TestGatherScattered(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r := rand.New(rand.NewPCG(1, 2))
	// Three batches, two of them slices of larger ones.
	var batches []arrow.RecordBatch
	for k, n := range []int{40, 55, 33} {
		full := testBatch(t, mem, gatherSchema, gatherRowsJSON(r, k*1000, n+10))
		batches = append(batches, full.NewSlice(int64(k*3), int64(k*3+n)))
		full.Release()
	}
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	c := NewChunks(gatherSchema, batches)
	joined, err := ConcatBatches(mem, gatherSchema, batches)
	require.NoError(t, err)
	defer joined.Release()

	cases := map[string][]int64{
		"permutation": nil,
		"repeats":     {5, 5, 90, 0, 127, 5, 60, 61, 2, 127},
		"one batch":   {3, 1, 7, 2, 9, 0},
	}
	perm := r.Perm(int(c.Len()))
	for _, p := range perm {
		cases["permutation"] = append(cases["permutation"], int64(p))
	}
	for name, idx := range cases {
		t.Run(name, func(t *testing.T) {
			// The row path must take these itself, not fall back.
			direct, ok, err := gatherScattered(mem, c, Positions(idx))
			require.NoError(t, err)
			require.True(t, ok, "scattered rows use gatherRows")
			defer direct.Release()

			got, err := Gather(context.Background(), mem, c, Positions(idx))
			require.NoError(t, err)
			defer got.Release()

			ib := array.NewInt64Builder(mem)
			ib.AppendValues(idx, nil)
			ia := ib.NewInt64Array()
			ib.Release()
			defer ia.Release()
			for j, col := range joined.Columns() {
				want, err := compute.TakeArray(compute.WithAllocator(context.Background(), mem), col, ia)
				require.NoError(t, err)
				name := gatherSchema.Field(j).Name
				require.Truef(t, array.Equal(want, direct.Column(j)), "column %s:\nwant %v\ngot  %v", name, want, direct.Column(j))
				require.Truef(t, array.Equal(want, got.Column(j)), "column %s via Gather", name)
				require.Equal(t, want.NullN(), direct.Column(j).NullN(), "column %s null count", name)
				want.Release()
			}
		})
	}
}

// Runs of consecutive rows go to the span path; bad positions are errors.
func TestGatherScatteredDispatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := testBatch(t, mem, gatherSchema, gatherRowsJSON(rand.New(rand.NewPCG(3, 4)), 0, 50))
	defer b.Release()
	c := NewChunks(gatherSchema, []arrow.RecordBatch{b})

	_, ok, err := gatherScattered(mem, c, Positions([]int64{10, 11, 12, 13, 14, 20, 21, 22, 23, 24}))
	require.NoError(t, err)
	require.False(t, ok, "runs of 5 rows are copied run by run")

	_, _, err = gatherScattered(mem, c, Positions([]int64{3, 1, 50, 2}))
	require.ErrorIs(t, err, ErrOp)
	_, _, err = gatherScattered(mem, c, Positions([]int64{3, -1, 7, 2}))
	require.ErrorIs(t, err, ErrOp)
}

// benchGatherChunks returns four batches of 64K rows shaped like the
// dataset benchmarks (id, score, ~200-byte text, list<float32>[16]).
func benchGatherChunks(b *testing.B) (Chunks, int64) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "score", Type: arrow.PrimitiveTypes.Float64},
		{Name: "text", Type: arrow.BinaryTypes.String},
		{Name: "emb", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32)},
	}, nil)
	var batches []arrow.RecordBatch
	var bytes int64
	text := strings.Repeat("quiver ", 29)
	for k := range 4 {
		rb := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := range 1 << 16 {
			rb.Field(0).(*array.Int64Builder).Append(int64(k<<16 + i))
			rb.Field(1).(*array.Float64Builder).Append(float64(i))
			rb.Field(2).(*array.StringBuilder).Append(text)
			lb := rb.Field(3).(*array.ListBuilder)
			lb.Append(true)
			for e := range 16 {
				lb.ValueBuilder().(*array.Float32Builder).Append(float32(e))
			}
		}
		batches = append(batches, rb.NewRecordBatch())
		rb.Release()
		bytes += int64(1<<16) * (8 + 8 + 4 + int64(len(text)) + 4 + 64)
	}
	return NewChunks(schema, batches), bytes
}

// BenchmarkGatherShuffled gathers a whole permutation in windows of 1000
// rows on one goroutine, with the row path and with the span path.
func BenchmarkGatherShuffled(b *testing.B) {
	c, bytes := benchGatherChunks(b)
	r := rand.New(rand.NewPCG(1, 1))
	perm := make([]int64, c.Len())
	for i, p := range r.Perm(int(c.Len())) {
		perm[i] = int64(p)
	}
	mem := memory.DefaultAllocator
	paths := map[string]func(sel Selection) (arrow.RecordBatch, error){
		"rows": func(sel Selection) (arrow.RecordBatch, error) {
			out, ok, err := gatherScattered(mem, c, sel)
			if !ok && err == nil {
				err = fmt.Errorf("fell back")
			}
			return out, err
		},
		"spans": func(sel Selection) (arrow.RecordBatch, error) {
			spans, err := routeSpans(c, sel)
			if err != nil {
				return nil, err
			}
			bs := make([]arrow.RecordBatch, c.NumBatches())
			for i := range bs {
				bs[i], _ = c.Batch(i)
			}
			return fastGather(mem, c.Schema, bs, spans)
		},
	}
	for _, name := range []string{"rows", "spans"} {
		gather := paths[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(bytes)
			for b.Loop() {
				for lo := 0; lo < len(perm); lo += 1000 {
					out, err := gather(Positions(perm[lo:min(len(perm), lo+1000)]))
					if err != nil {
						b.Fatal(err)
					}
					out.Release()
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(perm)), "ns/row")
		})
	}
}
