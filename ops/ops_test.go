package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memTable is a Table over one in-memory batch.
type memTable struct{ b arrow.RecordBatch }

func (t memTable) Len() int64 { return t.b.NumRows() }
func (t memTable) Column(_ context.Context, name string) (arrow.Array, error) {
	idx := t.b.Schema().FieldIndices(name)
	if len(idx) == 0 {
		return nil, fmt.Errorf("no column %q", name)
	}
	c := t.b.Column(idx[0])
	c.Retain()
	return c, nil
}

// rangeTable is a Table of n rows with no columns.
type rangeTable int64

func (t rangeTable) Len() int64 { return int64(t) }
func (t rangeTable) Column(context.Context, string) (arrow.Array, error) {
	return nil, errors.New("no columns")
}

// testBatch builds a batch from JSON rows with the schema given.
func testBatch(t testing.TB, mem memory.Allocator, schema *arrow.Schema, rows string) arrow.RecordBatch {
	t.Helper()
	rb, _, err := array.RecordFromJSON(mem, schema, strings.NewReader(rows))
	require.NoError(t, err)
	return rb
}

var peopleSchema = arrow.NewSchema([]arrow.Field{
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "age", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
}, nil)

const peopleRows = `[
{"name":"ann","age":31,"tags":["a"]},
{"name":"bob","age":null,"tags":[]},
{"name":"cy","age":25,"tags":["b","c"]},
{"name":null,"age":31,"tags":null},
{"name":"dee","age":19,"tags":["d"]}
]`

func positions(t *testing.T, op IndexOp, tbl Table) []int64 {
	t.Helper()
	sel, err := op.Positions(context.Background(), tbl)
	require.NoError(t, err)
	return sel.Materialize()
}

func TestSelectionCompose(t *testing.T) {
	tests := []struct {
		name          string
		parent, child Selection
		want          []int64
		contiguous    bool
	}{
		{"range of range", Range(10, 5), Range(1, 3), []int64{11, 12, 13}, true},
		{"idx of range", Range(10, 5), Positions([]int64{4, 0}), []int64{14, 10}, false},
		{"range of idx", Positions([]int64{7, 3, 5}), Range(1, 2), []int64{3, 5}, false},
		{"idx of idx", Positions([]int64{7, 3, 5}), Positions([]int64{2, 2, 0}), []int64{5, 5, 7}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.parent.Compose(tc.child)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Materialize())
			assert.Equal(t, tc.contiguous, got.Contiguous())
		})
	}
	_, err := Range(0, 3).Compose(Positions([]int64{3}))
	assert.ErrorIs(t, err, ErrOp)
	_, err = Range(0, 3).Compose(Range(2, 2))
	assert.ErrorIs(t, err, ErrOp)
}

func TestPermutationIsStable(t *testing.T) {
	// These values pin the algorithm: a change here changes every shuffle
	// users have cached, on every machine.
	assert.Equal(t, []int64{0, 4, 3, 2, 8, 6, 5, 9, 7, 1}, Permutation(10, 42))
	p := Permutation(1000, 7)
	assert.Equal(t, p, Permutation(1000, 7))
	assert.NotEqual(t, p, Permutation(1000, 8))
	sorted := slices.Clone(p)
	slices.Sort(sorted)
	assert.Equal(t, Range(0, 1000).Materialize(), sorted)
	assert.Empty(t, Permutation(0, 1))
}

func TestRandBelowIsUniform(t *testing.T) {
	r := NewRand(1)
	var counts [3]int
	for range 30000 {
		counts[r.Below(3)]++
	}
	for _, c := range counts {
		assert.InDelta(t, 10000, c, 500)
	}
}

func TestShard(t *testing.T) {
	tests := []struct {
		rows       int64
		n, i       int
		contiguous bool
		want       []int64
	}{
		// HF: the first rows%n shards get one extra row.
		{10, 3, 0, true, []int64{0, 1, 2, 3}},
		{10, 3, 1, true, []int64{4, 5, 6}},
		{10, 3, 2, true, []int64{7, 8, 9}},
		{10, 3, 0, false, []int64{0, 3, 6, 9}},
		{10, 3, 2, false, []int64{2, 5, 8}},
		{2, 4, 3, true, []int64{}},
		{2, 4, 3, false, []int64{}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%d/%d/%v", tc.rows, tc.n, tc.i, tc.contiguous), func(t *testing.T) {
			got := positions(t, Shard(tc.n, tc.i, tc.contiguous), rangeTable(tc.rows))
			assert.Equal(t, tc.want, append([]int64{}, got...))
		})
	}
	// Every row lands in exactly one shard.
	for _, contiguous := range []bool{true, false} {
		var all []int64
		for i := range 7 {
			all = append(all, positions(t, Shard(7, i, contiguous), rangeTable(100))...)
		}
		slices.Sort(all)
		assert.Equal(t, Range(0, 100).Materialize(), all)
	}
	_, err := Shard(3, 3, true).Positions(context.Background(), rangeTable(10))
	assert.ErrorIs(t, err, ErrOp)
	assert.Error(t, Check(Shard(0, 0, true)))
}

func TestTakeSkipSelect(t *testing.T) {
	assert.Equal(t, []int64{0, 1, 2}, positions(t, Take(3), rangeTable(10)))
	assert.Equal(t, []int64{0, 1}, positions(t, Take(5), rangeTable(2)))
	assert.Equal(t, []int64{8, 9}, positions(t, Skip(8), rangeTable(10)))
	assert.Empty(t, positions(t, Skip(20), rangeTable(10)))
	assert.Equal(t, []int64{3, 3, 1}, positions(t, SelectRows([]int64{3, 3, 1}), rangeTable(4)))
	_, err := SelectRows([]int64{4}).Positions(context.Background(), rangeTable(4))
	assert.ErrorIs(t, err, ErrOp)
	assert.ErrorIs(t, Check(Take(-1)), ErrOp)
}

func TestSplitSizes(t *testing.T) {
	tests := []struct {
		spec        SplitSpec
		n           int64
		train, test int64
		err         bool
	}{
		{SplitSpec{}, 10, 7, 3, false},
		{SplitSpec{TestFraction: 0.2}, 10, 8, 2, false},
		{SplitSpec{TestFraction: 0.21}, 10, 7, 3, false},  // ceil
		{SplitSpec{TrainFraction: 0.79}, 10, 7, 3, false}, // floor
		{SplitSpec{TestCount: 4}, 10, 6, 4, false},
		{SplitSpec{TestCount: 4, TrainCount: 2}, 10, 2, 4, false},
		{SplitSpec{TestCount: 8, TrainCount: 3}, 10, 0, 0, true},
		{SplitSpec{TestFraction: 1.5}, 10, 0, 0, true},
		{SplitSpec{TestFraction: 0.5, TestCount: 2}, 10, 0, 0, true},
		{SplitSpec{TestCount: 10}, 10, 0, 0, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc.spec), func(t *testing.T) {
			train, test, err := tc.spec.Sizes(tc.n)
			if tc.err {
				assert.ErrorIs(t, err, ErrOp)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.train, train)
			assert.Equal(t, tc.test, test)
		})
	}
}

func TestSplitDisjointAndDeterministic(t *testing.T) {
	spec := SplitSpec{TestFraction: 0.3, Seed: 9}
	train := positions(t, Split(spec, Train), rangeTable(100))
	test := positions(t, Split(spec, Test), rangeTable(100))
	assert.Len(t, train, 70)
	assert.Len(t, test, 30)
	all := append(slices.Clone(train), test...)
	slices.Sort(all)
	assert.Equal(t, Range(0, 100).Materialize(), all)
	assert.Equal(t, test, positions(t, Split(spec, Test), rangeTable(100)))
	d1, _ := Split(spec, Test).Describe()
	d2, _ := Split(spec, Train).Describe()
	assert.NotEqual(t, d1, d2)

	ordered := positions(t, Split(SplitSpec{TestCount: 2, NoShuffle: true}, Test), rangeTable(10))
	assert.Equal(t, []int64{8, 9}, ordered)
}

func TestSplitStratified(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	b := array.NewStringBuilder(mem)
	for i := range 100 {
		if i%4 == 0 {
			b.Append("rare")
		} else {
			b.Append("common")
		}
	}
	col := b.NewArray()
	b.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "label", Type: arrow.BinaryTypes.String}}, nil)
	rb := array.NewRecordBatch(schema, []arrow.Array{col}, 100)
	col.Release()
	defer rb.Release()

	spec := SplitSpec{TestFraction: 0.2, Seed: 3, StratifyBy: "label"}
	test := positions(t, Split(spec, Test), memTable{rb})
	train := positions(t, Split(spec, Train), memTable{rb})
	require.Len(t, test, 20)
	require.Len(t, train, 80)
	count := func(rows []int64) (rare int) {
		for _, r := range rows {
			if r%4 == 0 {
				rare++
			}
		}
		return rare
	}
	assert.Equal(t, 5, count(test))
	assert.Equal(t, 20, count(train))
	all := append(slices.Clone(train), test...)
	slices.Sort(all)
	assert.Equal(t, Range(0, 100).Materialize(), all)
}

func TestSort(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rb := testBatch(t, mem, peopleSchema, peopleRows)
	defer rb.Release()
	tests := []struct {
		keys []SortKey
		want []int64
	}{
		{[]SortKey{{Column: "age"}}, []int64{4, 2, 0, 3, 1}},
		{[]SortKey{{Column: "age", NullsFirst: true}}, []int64{1, 4, 2, 0, 3}},
		{[]SortKey{{Column: "age", Descending: true}}, []int64{0, 3, 2, 4, 1}},
		{[]SortKey{{Column: "age", Descending: true}, {Column: "name", NullsFirst: true}}, []int64{3, 0, 2, 4, 1}},
		{[]SortKey{{Column: "name", Descending: true}}, []int64{4, 2, 1, 0, 3}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.keys), func(t *testing.T) {
			assert.Equal(t, tc.want, positions(t, Sort(tc.keys...), memTable{rb}))
		})
	}
	_, err := Sort(SortKey{Column: "tags"}).Positions(context.Background(), memTable{rb})
	assert.ErrorIs(t, err, ErrOp)
	_, err = Sort(SortKey{Column: "nope"}).Positions(context.Background(), memTable{rb})
	assert.ErrorIs(t, err, ErrOp)
}

func TestUniquePositions(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rb := testBatch(t, mem, peopleSchema, peopleRows)
	defer rb.Release()
	assert.Equal(t, []int64{0, 1, 2, 4}, UniquePositions(rb.Column(1)))
	assert.Equal(t, []int64{0, 1, 2, 3, 4}, UniquePositions(rb.Column(2)))
}

func TestInterleaveOrder(t *testing.T) {
	type pick struct {
		s int32
		r int64
	}
	flat := func(sizes []int64, spec InterleaveSpec) []int64 {
		src, rows, err := InterleaveOrder(sizes, spec)
		require.NoError(t, err)
		out := make([]int64, len(src))
		for k := range src {
			out[k] = 10*int64(src[k]) + rows[k] // value of the HF examples
		}
		return out
	}
	// The examples of Hugging Face's interleave_datasets documentation,
	// with source s holding 10*s + row.
	assert.Equal(t, []int64{0, 10, 20, 1, 11, 21, 2, 12, 22}, flat([]int64{3, 3, 3}, InterleaveSpec{}))
	assert.Equal(t, []int64{0, 10, 20, 1, 11, 21, 2, 12, 22, 0, 10, 23, 1, 11, 24},
		flat([]int64{3, 3, 5}, InterleaveSpec{Stopping: AllExhausted}))
	assert.Equal(t, []int64{0, 10, 1, 11}, flat([]int64{2, 4}, InterleaveSpec{}))

	spec := InterleaveSpec{Probabilities: []float64{0.7, 0.2, 0.1}, Seed: 42}
	got := flat([]int64{3, 3, 5}, spec)
	assert.Equal(t, got, flat([]int64{3, 3, 5}, spec), "deterministic")
	// first-exhausted stops right after some source's last row.
	last := got[len(got)-1]
	assert.Contains(t, []int64{2, 12, 24}, last)

	all := flat([]int64{3, 3, 5}, InterleaveSpec{Probabilities: []float64{0.5, 0.5, 0}, Stopping: AllExhausted})
	for _, v := range all {
		assert.Less(t, v, int64(20), "zero-probability source never picked")
	}
	_, _, err := InterleaveOrder([]int64{1, 2}, InterleaveSpec{Probabilities: []float64{1}})
	assert.ErrorIs(t, err, ErrOp)
	_ = pick{}
}
