package dataset

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/ops"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
}, nil)

// testBatches returns n rows (id = row, text = "row <id>", tags = [id%3
// times id]) cut into batches of size rows.
func testBatches(t testing.TB, mem memory.Allocator, n, size int) []arrow.RecordBatch {
	t.Helper()
	var out []arrow.RecordBatch
	for lo := 0; lo < n; lo += size {
		b := array.NewRecordBuilder(mem, testSchema)
		for i := lo; i < min(n, lo+size); i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("row %d", i))
			lb := b.Field(2).(*array.ListBuilder)
			lb.Append(true)
			for range i % 3 {
				lb.ValueBuilder().(*array.Int32Builder).Append(int32(i))
			}
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return out
}

// newTestDataset returns a dataset of n rows in batches of size, with a
// fresh cache directory.
func newTestDataset(t testing.TB, n, size int, opts ...Option) *Dataset {
	t.Helper()
	batches := testBatches(t, memory.DefaultAllocator, n, size)
	opts = append([]Option{WithCacheDir(t.TempDir())}, opts...)
	ds, err := FromBatches(testSchema, batches, opts...)
	require.NoError(t, err)
	for _, b := range batches {
		b.Release()
	}
	return ds
}

// ids collects the id column of every row, checking text agrees.
func ids(t testing.TB, ds *Dataset, size int) []int64 {
	t.Helper()
	var out []int64
	for b, err := range ds.Batches(context.Background(), size) {
		require.NoError(t, err)
		idc := b.Column(b.Schema().FieldIndices("id")[0]).(*array.Int64)
		// doubleID rewrites ids but not texts; every other test keeps them aligned.
		if tc := b.Schema().FieldIndices("text"); len(tc) > 0 && !strings.Contains(ds.Describe(), "double@") {
			txt := b.Column(tc[0]).(*array.String)
			for i := range idc.Len() {
				require.Equal(t, fmt.Sprintf("row %d", idc.Value(i)), txt.Value(i))
			}
		}
		out = append(out, idc.Int64Values()...)
	}
	return out
}

func seqIDs(lo, hi int64) []int64 { return ops.Range(lo, hi-lo).Materialize() }

func TestIndexOps(t *testing.T) {
	ds := newTestDataset(t, 1000, 128)
	ctx := context.Background()
	tests := []struct {
		name string
		ds   *Dataset
		want []int64
	}{
		{"all", ds, seqIDs(0, 1000)},
		{"take", ds.Take(5), seqIDs(0, 5)},
		{"skip", ds.Skip(995), seqIDs(995, 1000)},
		{"select", ds.Select([]int64{999, 0, 500, 500}), []int64{999, 0, 500, 500}},
		{"shuffle", ds.Shuffle(42), ops.Permutation(1000, 42)},
		{"shard contiguous", ds.Shard(3, 1, true), seqIDs(334, 667)},
		{"shuffle then take", ds.Shuffle(42).Take(3), ops.Permutation(1000, 42)[:3]},
		{"sort desc", ds.Take(4).Sort(ops.SortKey{Column: "id", Descending: true}), []int64{3, 2, 1, 0}},
		{"shard strided", ds.Take(10).Shard(4, 1, false), []int64{1, 5, 9}},
		{"column ops keep selection", ds.Select([]int64{7, 3}).RenameColumns(map[string]string{"text": "t"}), []int64{7, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, err := tc.ds.Len(ctx)
			require.NoError(t, err)
			assert.Equal(t, int64(len(tc.want)), n)
			for _, size := range []int{1, 7, 1000} {
				assert.Equal(t, tc.want, append([]int64{}, ids(t, tc.ds, size)...), "batch size %d", size)
			}
		})
	}
	// Fingerprints: deterministic, and every op changes them.
	assert.Equal(t, ds.Shuffle(1).Fingerprint(), ds.Shuffle(1).Fingerprint())
	assert.NotEqual(t, ds.Shuffle(1).Fingerprint(), ds.Shuffle(2).Fingerprint())
	assert.Len(t, ds.Fingerprint(), 64)
}

func TestTrainTestSplit(t *testing.T) {
	ds := newTestDataset(t, 100, 30)
	train, test := ds.TrainTestSplit(ops.SplitSpec{TestFraction: 0.25, Seed: 5})
	a, b := ids(t, train, 16), ids(t, test, 16)
	assert.Len(t, a, 75)
	assert.Len(t, b, 25)
	all := append(slices.Clone(a), b...)
	slices.Sort(all)
	assert.Equal(t, seqIDs(0, 100), all)
	assert.NotEqual(t, train.Fingerprint(), test.Fingerprint())
}

func TestRow(t *testing.T) {
	ds := newTestDataset(t, 300, 64).Shuffle(3)
	ctx := context.Background()
	perm := ops.Permutation(300, 3)
	for _, i := range []int64{0, 63, 64, 299} {
		r, err := ds.Row(ctx, i)
		require.NoError(t, err)
		assert.Equal(t, perm[i], r.Column(0).(*array.Int64).Value(0))
		r.Release()
	}
	_, err := ds.Row(ctx, 300)
	assert.ErrorIs(t, err, ErrDataset)
}

// doubleID is a named map: id → 2·id, counting its calls.
func doubleID(calls *atomic.Int64) ops.MapFunc {
	return func(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
		calls.Add(1)
		ib := array.NewInt64Builder(memory.DefaultAllocator)
		defer ib.Release()
		for _, v := range b.Column(0).(*array.Int64).Int64Values() {
			ib.Append(2 * v)
		}
		col := ib.NewArray()
		defer col.Release()
		cols := slices.Clone(b.Columns())
		cols[0] = col
		return array.NewRecordBatch(b.Schema(), cols, b.NumRows()), nil
	}
}

// keepMod keeps ids divisible by m.
func keepMod(m int64) ops.PredicateFunc {
	return func(ctx context.Context, b arrow.RecordBatch) (*array.Boolean, error) {
		bb := array.NewBooleanBuilder(memory.DefaultAllocator)
		defer bb.Release()
		for _, v := range b.Column(0).(*array.Int64).Int64Values() {
			bb.Append(v%m == 0)
		}
		return bb.NewBooleanArray(), nil
	}
}

func TestMapFilterShuffleIsCached(t *testing.T) {
	dir := t.TempDir()
	batches := testBatches(t, memory.DefaultAllocator, 5000, 1000)
	var calls atomic.Int64
	pipeline := func(workers int) *Dataset {
		ds, err := FromBatches(testSchema, batches, WithCacheDir(dir), WithWorkers(workers), WithBatchSize(256))
		require.NoError(t, err)
		return ds.Map("double@v1", doubleID(&calls)).Filter("mod3@v1", keepMod(3)).Shuffle(11)
	}
	first := pipeline(4)
	got := ids(t, first, 100)
	require.Len(t, got, 1667) // 2·id divisible by 3 ⇔ id divisible by 3
	assert.Equal(t, int64(20), calls.Load(), "5000 rows in windows of 256")

	calls.Store(0)
	again := pipeline(1)
	assert.Equal(t, first.Fingerprint(), again.Fingerprint())
	assert.Equal(t, got, ids(t, again, 100), "same order with one worker")
	assert.Zero(t, calls.Load(), "second run reads the cache")

	c, err := OpenCache(dir)
	require.NoError(t, err)
	es, err := c.Entries()
	require.NoError(t, err)
	require.Len(t, es, 1)
	assert.Equal(t, int64(1667), es[0].Rows)
	assert.Contains(t, es[0].Description, `map(fn="double@v1"`)
}

func TestMapStreamsWithoutCache(t *testing.T) {
	var calls atomic.Int64
	ds := newTestDataset(t, 100, 10).Map("double@v1", doubleID(&calls))
	got := ids(t, ds, 10)
	assert.Equal(t, int64(198), got[99])
	c, err := ds.cfg.getCache()
	require.NoError(t, err)
	es, err := c.Entries()
	require.NoError(t, err)
	assert.Empty(t, es, "a row-preserving map at the end streams")

	m, err := ds.Materialize(context.Background())
	require.NoError(t, err)
	assert.Equal(t, ds.Fingerprint(), m.Fingerprint())
	es, _ = c.Entries()
	assert.Len(t, es, 1)
	assert.Equal(t, got, ids(t, m, 10))
}

func TestFailingMapLeavesNoEntry(t *testing.T) {
	ctx := context.Background()
	for _, mode := range []string{"error", "panic"} {
		t.Run(mode, func(t *testing.T) {
			ds := newTestDataset(t, 1000, 100, WithBatchSize(100))
			bad := ds.Map("bad@v1", func(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
				if b.Column(0).(*array.Int64).Value(0) == 600 {
					if mode == "panic" {
						panic("row 600 is cursed")
					}
					return nil, errors.New("row 600 is cursed")
				}
				return b, nil
			}).Filter("mod2@v1", keepMod(2))
			_, err := bad.Len(ctx)
			require.Error(t, err)
			assert.ErrorIs(t, err, ops.ErrOp)
			assert.Contains(t, err.Error(), "map(bad@v1)")
			assert.Contains(t, err.Error(), "rows [600, 700)")
			c, _ := ds.cfg.getCache()
			es, err := c.Entries()
			require.NoError(t, err)
			assert.Empty(t, es)
			names, _ := os.ReadDir(c.Dir())
			for _, n := range names {
				assert.False(t, n.IsDir(), "leftover %s", n.Name())
			}
		})
	}
}

func TestUnnamedMapIsNotCached(t *testing.T) {
	loggedUncacheable.Clear() // the warning is once per process: start afresh under -count
	var log strings.Builder
	ds := newTestDataset(t, 100, 10)
	ds.cfg.log = newTestLogger(&log)
	var calls atomic.Int64
	m := ds.Map("", doubleID(&calls)).Filter("mod2@v1", keepMod(2))
	assert.False(t, m.Cacheable())
	n, err := m.Len(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(100), n)
	c, _ := ds.cfg.getCache()
	es, _ := c.Entries()
	assert.Empty(t, es)
	assert.Contains(t, log.String(), "no name@version")
	// Logged once per op description.
	ds.Map("", doubleID(&calls))
	assert.Equal(t, 1, strings.Count(log.String(), "no name@version"))
}

func TestBadOpSurfacesAtUse(t *testing.T) {
	ds := newTestDataset(t, 10, 10)
	_, err := ds.SelectColumns("nope").Schema(context.Background())
	assert.ErrorIs(t, err, ops.ErrOp)
	_, err = ds.Shard(2, 5, true).Len(context.Background())
	assert.ErrorIs(t, err, ops.ErrOp)
}

func TestSchemaProbe(t *testing.T) {
	ds := newTestDataset(t, 10, 10).Map("drop@v1", func(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
		s := arrow.NewSchema(b.Schema().Fields()[:1], nil)
		return array.NewRecordBatch(s, b.Columns()[:1], b.NumRows()), nil
	})
	s, err := ds.Schema(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, s.NumFields())
}

type person struct {
	ID   int64  `quiver:"id"`
	Text string `quiver:"text"`
}

type summary struct {
	ID  int64 `quiver:"id"`
	Len int   `quiver:"len"`
}

func TestTypedRows(t *testing.T) {
	ctx := context.Background()
	rows := make([]person, 50)
	for i := range rows {
		rows[i] = person{ID: int64(i), Text: strings.Repeat("x", i%7)}
	}
	ds, err := FromRows(rows, WithCacheDir(t.TempDir()), WithBatchSize(16))
	require.NoError(t, err)
	n, err := ds.Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(50), n)

	mapped := MapRows(ds, "summary@v1", func(p person) (summary, error) {
		return summary{ID: p.ID, Len: len(p.Text)}, nil
	})
	long := FilterRows(mapped, "long@v1", func(s summary) (bool, error) { return s.Len >= 5, nil })
	var got []summary
	for s, err := range Rows[summary](ctx, long, 8) {
		require.NoError(t, err)
		got = append(got, s)
	}
	require.Len(t, got, 14) // i%7 in {5, 6}
	assert.Equal(t, summary{ID: 5, Len: 5}, got[0])
	assert.Equal(t, summary{ID: 6, Len: 6}, got[1])

	r, err := RowAs[person](ctx, ds.Shuffle(1), 0)
	require.NoError(t, err)
	assert.Equal(t, rows[ops.Permutation(50, 1)[0]], r)

	bad := MapRows(ds, "bad@v1", func(p person) (summary, error) {
		if p.ID == 33 {
			return summary{}, errors.New("no thanks")
		}
		return summary{ID: p.ID}, nil
	})
	for _, err := range Rows[summary](ctx, bad, 0) {
		if err != nil {
			assert.Contains(t, err.Error(), "op map_rows(bad@v1) failed on rows [33, 34): no thanks")
			break
		}
	}
	// Decoding into a type the data does not fit is an error, not a panic.
	type wrong struct {
		ID string `quiver:"id"`
	}
	for _, err := range Rows[wrong](ctx, ds, 0) {
		assert.Error(t, err)
		break
	}
}

func TestConcatenateInterleaveUnique(t *testing.T) {
	ctx := context.Background()
	a := newTestDataset(t, 10, 4)
	b := newTestDataset(t, 5, 2).Shuffle(2)
	cat, err := Concatenate(ctx, a.Take(3), b)
	require.NoError(t, err)
	want := append(seqIDs(0, 3), ops.Permutation(5, 2)...)
	assert.Equal(t, want, ids(t, cat, 4))

	il, err := Interleave(ctx, ops.InterleaveSpec{}, a.Take(3), a.Skip(5))
	require.NoError(t, err)
	assert.Equal(t, []int64{0, 5, 1, 6, 2, 7}, ids(t, il, 4))

	_, err = Concatenate(ctx, a, a.RemoveColumns("tags"))
	assert.ErrorIs(t, err, ErrDataset)

	u, err := cat.Map("double@v1", doubleID(new(atomic.Int64))).Unique(ctx, "id")
	require.NoError(t, err)
	defer u.Release()
	assert.Equal(t, "[0 2 4 6 8]", u.String(), "ids 0..2 and 0..4, doubled")
	tags, err := a.Unique(ctx, "tags")
	require.NoError(t, err)
	defer tags.Release()
	assert.Equal(t, 7, tags.Len(), "rows 0, 3, 6, 9 all hold []")
}

func TestConcatColumns(t *testing.T) {
	ctx := context.Background()
	a := newTestDataset(t, 10, 4).SelectColumns("id")
	b := newTestDataset(t, 10, 3).Shuffle(5).RenameColumns(map[string]string{"id": "other", "text": "t", "tags": "g"})
	both, err := ConcatColumns(ctx, a, b)
	require.NoError(t, err)
	s, err := both.Schema(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"id", "other", "t", "g"}, fieldNamesOf(s))
	var other []int64
	for rb, err := range both.Batches(ctx, 0) {
		require.NoError(t, err)
		other = append(other, rb.Column(1).(*array.Int64).Int64Values()...)
	}
	assert.Equal(t, ops.Permutation(10, 5), other)
	assert.Equal(t, seqIDs(0, 10), ids(t, both, 3))
	_, err = ConcatColumns(ctx, a, a)
	assert.ErrorIs(t, err, ErrDataset)
	_, err = ConcatColumns(ctx, a, b.Take(3))
	assert.ErrorIs(t, err, ErrDataset)
}

func fieldNamesOf(s *arrow.Schema) []string {
	var out []string
	for _, f := range s.Fields() {
		out = append(out, f.Name)
	}
	return out
}

func TestWorkerCountDoesNotChangeOutput(t *testing.T) {
	ctx := context.Background()
	batches := testBatches(t, memory.DefaultAllocator, 3000, 700)
	// An indexed map writes each row's logical index into id.
	byIndex := func(ctx context.Context, b arrow.RecordBatch, first int64) (arrow.RecordBatch, error) {
		ib := array.NewInt64Builder(memory.DefaultAllocator)
		defer ib.Release()
		for i := range b.NumRows() {
			ib.Append(first + i)
		}
		col := ib.NewArray()
		defer col.Release()
		s := arrow.NewSchema([]arrow.Field{{Name: "pos", Type: arrow.PrimitiveTypes.Int64}, b.Schema().Field(0)}, nil)
		return array.NewRecordBatch(s, []arrow.Array{col, b.Column(0)}, b.NumRows()), nil
	}
	var outs [][]int64
	for _, w := range []int{1, 2, 5} {
		ds, err := FromBatches(testSchema, batches, WithCacheDir(t.TempDir()), WithWorkers(w), WithBatchSize(64))
		require.NoError(t, err)
		pipe := ds.Filter("mod3@v1", keepMod(3)).Shuffle(8).Apply(ops.MapIndexed("pos@v1", byIndex))
		var got []int64
		for b, err := range pipe.Batches(ctx, 50) {
			require.NoError(t, err)
			pos := b.Column(0).(*array.Int64)
			for i := range pos.Len() {
				require.Equal(t, int64(len(got)), pos.Value(i), "row index seen by the map")
				got = append(got, b.Column(1).(*array.Int64).Value(i))
			}
		}
		outs = append(outs, got)
	}
	require.Len(t, outs[0], 1000)
	assert.Equal(t, outs[0], outs[1])
	assert.Equal(t, outs[0], outs[2])
}

func TestFlatten(t *testing.T) {
	ctx := context.Background()
	ds := newTestDataset(t, 500, 100).Shuffle(2)
	flat, err := ds.Flatten(ctx)
	require.NoError(t, err)
	assert.Equal(t, ds.Fingerprint(), flat.Fingerprint())
	assert.Equal(t, ids(t, ds, 0), ids(t, flat, 0))
	st, err := flat.resolve(ctx)
	require.NoError(t, err)
	assert.True(t, st.sel.Contiguous(), "flattened data is read in order")
	assert.NotNil(t, st.src.entry, "and lives in the cache")
}
