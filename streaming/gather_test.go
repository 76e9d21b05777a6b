package streaming

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// gatherSchema has a column for every fast path and some for the Take
// fallback (list, struct, dictionary).
const gatherSchemaJSON = `[
	{"i8": 1, "u16": 2, "i32": 3, "f64": 1.5, "ts": 10, "b": true, "s": "a", "bin": "eA==", "ls": "x", "d128": "1.25", "list": [1, 2], "st": {"x": 1}},
	{"i8": null, "u16": null, "i32": null, "f64": null, "ts": null, "b": null, "s": null, "bin": null, "ls": null, "d128": null, "list": null, "st": null}
]`

var gatherSchema = arrow.NewSchema([]arrow.Field{
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "u16", Type: arrow.PrimitiveTypes.Uint16, Nullable: true},
	{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "bin", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "ls", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "d128", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	{Name: "list", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
	{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
}, nil)

// randomBatch builds n rows of gatherSchema; with nulls, about a fifth of
// the values are null.
func randomBatch(t *testing.T, mem memory.Allocator, r *rand.Rand, n int, nulls bool) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, gatherSchema)
	defer b.Release()
	null := func() bool { return nulls && r.IntN(5) == 0 }
	for i := range n {
		for j := range gatherSchema.NumFields() {
			if null() {
				b.Field(j).AppendNull()
				continue
			}
			switch fb := b.Field(j).(type) {
			case *array.Int8Builder:
				fb.Append(int8(i))
			case *array.Uint16Builder:
				fb.Append(uint16(r.Uint32()))
			case *array.Int32Builder:
				fb.Append(r.Int32())
			case *array.Float64Builder:
				fb.Append(r.Float64())
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(r.Int64()))
			case *array.BooleanBuilder:
				fb.Append(r.IntN(2) == 0)
			case *array.StringBuilder:
				fb.Append(strings.Repeat("s", r.IntN(20)))
			case *array.BinaryBuilder:
				fb.Append([]byte(strings.Repeat("b", r.IntN(7))))
			case *array.LargeStringBuilder:
				fb.Append(strings.Repeat("L", r.IntN(9)))
			case *array.Decimal128Builder:
				fb.Append(decimal128.FromI64(r.Int64N(1e9)))
			case *array.ListBuilder:
				fb.Append(true)
				for range r.IntN(3) {
					fb.ValueBuilder().(*array.Int64Builder).Append(r.Int64())
				}
			case *array.StructBuilder:
				fb.Append(true)
				fb.FieldBuilder(0).(*array.Int64Builder).Append(int64(i))
			default:
				t.Fatalf("no generator for %T", fb)
			}
		}
	}
	return b.NewRecordBatch()
}

// TestGatherPartsMatchesTake checks that the typed gather gives the same
// batches as arrow's Take over the concatenated parts, for sliced and
// unsliced parts, with and without nulls, and frees all it allocates.
func TestGatherPartsMatchesTake(t *testing.T) {
	cases := []struct {
		name  string
		sizes []int // rows of each part
		nulls bool
		slice bool // parts are slices with a non-zero offset
	}{
		{"one part", []int{50}, false, false},
		{"one part with nulls", []int{50}, true, false},
		{"three parts", []int{10, 1, 30}, false, false},
		{"three sliced parts with nulls", []int{17, 5, 40}, true, true},
		{"empty part between", []int{8, 0, 8}, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r := rand.New(rand.NewPCG(7, uint64(len(tc.sizes))))
			var parts []arrow.RecordBatch
			var total int64
			for _, n := range tc.sizes {
				b := randomBatch(t, mem, r, n+3, tc.nulls)
				if tc.slice {
					s := b.NewSlice(3, int64(n)+3)
					b.Release()
					b = s
				} else {
					s := b.NewSlice(0, int64(n))
					b.Release()
					b = s
				}
				parts = append(parts, b)
				total += int64(n)
			}
			defer func() {
				for _, p := range parts {
					p.Release()
				}
			}()
			// A permutation of all rows, then some repeats.
			offs := make([]int64, 0, total+5)
			for _, i := range r.Perm(int(total)) {
				offs = append(offs, int64(i))
			}
			for range 5 {
				offs = append(offs, r.Int64N(total))
			}
			got, err := gatherParts(context.Background(), parts, offs, mem)
			if err != nil {
				t.Fatal(err)
			}
			defer got.Release()
			want := takeReference(t, parts, offs, mem)
			defer want.Release()
			if !array.RecordEqual(got, want) {
				t.Fatalf("gather differs from Take:\ngot  %v\nwant %v", got, want)
			}
			for j := range got.NumCols() {
				if g, w := got.Column(int(j)).NullN(), want.Column(int(j)).NullN(); g != w {
					t.Errorf("column %d: %d nulls, want %d", j, g, w)
				}
				if v, ok := got.Column(int(j)).(interface{ ValidateFull() error }); ok {
					if err := v.ValidateFull(); err != nil {
						t.Errorf("column %d: %v", j, err)
					}
				}
			}
		})
	}
}

// TestGatherPartsOutOfRange checks that an offset past the parts is an
// error, not a panic.
func TestGatherPartsOutOfRange(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := randomBatch(t, mem, rand.New(rand.NewPCG(1, 1)), 4, false)
	defer b.Release()
	for _, parts := range [][]arrow.RecordBatch{{b}, {b, b}} {
		if out, err := gatherParts(context.Background(), parts, []int64{0, int64(4 * len(parts))}, mem); err == nil {
			out.Release()
			t.Errorf("%d parts: no error for an offset past the end", len(parts))
		}
	}
}

func takeReference(t *testing.T, parts []arrow.RecordBatch, offs []int64, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	cols := make([]arrow.Array, gatherSchema.NumFields())
	ib := array.NewInt64Builder(mem)
	ib.AppendValues(offs, nil)
	ind := ib.NewArray()
	ib.Release()
	defer ind.Release()
	for j := range cols {
		var srcs []arrow.Array
		for _, p := range parts {
			srcs = append(srcs, p.Column(j))
		}
		cat, err := array.Concatenate(srcs, mem)
		if err != nil {
			t.Fatal(err)
		}
		cols[j], err = compute.TakeArray(compute.WithAllocator(context.Background(), mem), cat, ind)
		cat.Release()
		if err != nil {
			t.Fatal(err)
		}
	}
	out := array.NewRecordBatch(gatherSchema, cols, int64(len(offs)))
	for _, c := range cols {
		c.Release()
	}
	return out
}

// TestGatherRecycledBuffers gathers repeatedly with the default allocator,
// whose buffers the gather recycles without zeroing them: stale bytes of a
// previous gather must not show (validity bits, offsets, values).
func TestGatherRecycledBuffers(t *testing.T) {
	mem := memory.DefaultAllocator
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 4 {
		nulls := round%2 == 1
		a, b := randomBatch(t, mem, r, 300, nulls), randomBatch(t, mem, r, 200, !nulls)
		parts := []arrow.RecordBatch{a, b}
		offs := make([]int64, 0, 500)
		for _, i := range r.Perm(500) {
			offs = append(offs, int64(i))
		}
		got, err := gatherParts(context.Background(), parts, offs[:400+round*30], mem)
		if err != nil {
			t.Fatal(err)
		}
		want := takeReference(t, parts, offs[:400+round*30], mem)
		if !array.RecordEqual(got, want) {
			t.Fatalf("round %d: gather differs from Take", round)
		}
		got.Release()
		want.Release()
		a.Release()
		b.Release()
	}
}
