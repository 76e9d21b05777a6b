package streaming

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "text", Type: arrow.BinaryTypes.String},
}, nil)

// makeSource builds an in-memory source whose shard i holds shardRows[i]
// rows cut into batches of at most batchRows; ids run 0..N-1 in shard order.
func makeSource(t testing.TB, mem memory.Allocator, shardRows []int64, batchRows int64) Source {
	t.Helper()
	var shards [][]arrow.RecordBatch
	var id int64
	for _, n := range shardRows {
		var bs []arrow.RecordBatch
		for n > 0 {
			k := min(n, batchRows)
			b := array.NewRecordBuilder(mem, testSchema)
			for range k {
				b.Field(0).(*array.Int64Builder).Append(id)
				b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("row-%d", id))
				id++
			}
			bs = append(bs, b.NewRecordBatch())
			b.Release()
			n -= k
		}
		shards = append(shards, bs)
	}
	t.Cleanup(func() {
		for _, bs := range shards {
			for _, b := range bs {
				b.Release()
			}
		}
	})
	src, err := FromBatches(testSchema, shards)
	require.NoError(t, err)
	return src
}

// checkedMem returns a checked allocator asserted empty after the test and
// its cleanups (which release the sources' batches).
func checkedMem(t *testing.T) *memory.CheckedAllocator {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return mem
}

func newStream(t testing.TB, src Source, opts ...Option) *Stream {
	t.Helper()
	s, err := New(src, opts...)
	require.NoError(t, err)
	return s
}

// ids collects the id column of everything s yields, and the batch sizes.
func ids(t testing.TB, s *Stream) ([]int64, []int64) {
	t.Helper()
	var out, sizes []int64
	for b, err := range s.Batches(context.Background()) {
		require.NoError(t, err)
		col := b.Column(0).(*array.Int64)
		out = append(out, col.Int64Values()...)
		sizes = append(sizes, b.NumRows())
		require.Equal(t, "row-"+fmt.Sprint(col.Value(0)), b.Column(1).(*array.String).Value(0), "text travels with id")
	}
	return out, sizes
}

// requirePermutation checks that got holds 0..n-1 once each.
func requirePermutation(t testing.TB, n int64, got []int64) {
	t.Helper()
	sorted := slices.Sorted(slices.Values(got))
	require.Equal(t, seq(n), sorted)
}

func seq(n int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = int64(i)
	}
	return out
}

var shardSizes = []int64{700, 0, 1234, 5, 999, 1500, 321}

func total(rows []int64) int64 {
	var n int64
	for _, r := range rows {
		n += r
	}
	return n
}

func TestInOrder(t *testing.T) {
	mem := checkedMem(t)
	src := makeSource(t, mem, shardSizes, 256)
	s := newStream(t, src, WithAllocator(mem), WithChunkRows(500))
	got, sizes := ids(t, s)
	require.Equal(t, seq(total(shardSizes)), got)
	for _, n := range sizes {
		require.LessOrEqual(t, n, int64(500))
	}
	require.Equal(t, total(shardSizes), s.Count())
	// The epoch is over: iterating again yields nothing.
	again, _ := ids(t, s)
	require.Empty(t, again)
}

func TestShuffleIsDeterministicPermutation(t *testing.T) {
	mem := checkedMem(t)
	src := makeSource(t, mem, shardSizes, 256)
	n := total(shardSizes)
	for _, window := range []int{0, 1, 100, 1000, 100000} {
		t.Run(fmt.Sprint(window), func(t *testing.T) {
			a, _ := ids(t, newStream(t, src, WithAllocator(mem)).Shuffle(7, window))
			b, _ := ids(t, newStream(t, src, WithAllocator(mem)).Shuffle(7, window))
			require.Equal(t, a, b, "same seed, same order")
			requirePermutation(t, n, a)
			require.NotEqual(t, seq(n), a)
			s := newStream(t, src, WithAllocator(mem)).Shuffle(7, window)
			s.SetEpoch(1)
			c, _ := ids(t, s)
			requirePermutation(t, n, c)
			require.NotEqual(t, a, c, "another epoch, another order")
			d, _ := ids(t, newStream(t, src, WithAllocator(mem)).Shuffle(8, window))
			require.NotEqual(t, a, d, "another seed, another order")
		})
	}
}

// TestShuffleWindowBoundsDisplacement checks that a row moves at most one
// window away from its place in shard order, the memory/quality trade-off
// the window size controls.
func TestShuffleWindowMixes(t *testing.T) {
	src := makeSource(t, memory.DefaultAllocator, []int64{10000}, 1000)
	got, _ := ids(t, newStream(t, src).Shuffle(1, 1000))
	for i, id := range got {
		require.Equal(t, int64(i)/1000, id/1000, "row %d stays in its window", id)
	}
	// within a window, a shuffle moves most rows
	moved := 0
	for i, id := range got[:1000] {
		if int64(i) != id {
			moved++
		}
	}
	require.Greater(t, moved, 900)
}

func TestSplit(t *testing.T) {
	mem := checkedMem(t)
	src := makeSource(t, mem, shardSizes, 256)
	n := total(shardSizes) // 4759: no world size below divides it
	for _, shuffle := range []bool{false, true} {
		base := newStream(t, src, WithAllocator(mem), WithChunkRows(300))
		if shuffle {
			base = base.Shuffle(3, 500)
		}
		global, _ := ids(t, base)
		for _, elastic := range []bool{false, true} {
			for _, pad := range []bool{false, true} {
				for _, world := range []int{1, 2, 3, 8} {
					name := fmt.Sprintf("shuffle=%v/elastic=%v/pad=%v/world=%d", shuffle, elastic, pad, world)
					t.Run(name, func(t *testing.T) {
						per := n / int64(world)
						if pad && n%int64(world) != 0 {
							per++
						}
						var ranks [][]int64
						var union []int64
						for r := range world {
							got, _ := ids(t, base.Elastic(elastic).Pad(pad).SplitByNode(r, world))
							require.Len(t, got, int(per), "rank %d", r)
							ranks = append(ranks, got)
							union = append(union, got...)
						}
						// The global sequence, cut or padded with its start.
						want := global[:min(n, per*int64(world))]
						for int64(len(want)) < per*int64(world) {
							want = append(slices.Clone(want), global[int64(len(want))-n])
						}
						if elastic { // round-robin over ranks is the global order
							var rr []int64
							for i := range per {
								for r := range world {
									rr = append(rr, ranks[r][i])
								}
							}
							require.Equal(t, want, rr)
						} else { // ranks are consecutive runs of it
							require.Equal(t, want, union)
						}
					})
				}
			}
		}
	}
}

func TestWorkersWithinNodes(t *testing.T) {
	src := makeSource(t, memory.DefaultAllocator, shardSizes, 256)
	base := newStream(t, src).Shuffle(11, 300).Elastic(true)
	global, _ := ids(t, base)
	per := total(shardSizes) / 6
	var got [6][]int64
	for r := range 3 {
		for w := range 2 {
			got[r*2+w], _ = ids(t, base.SplitByNode(r, 3).SplitByWorker(w, 2))
			require.Len(t, got[r*2+w], int(per))
		}
	}
	for i := range per {
		for c := range 6 {
			require.Equal(t, global[i*6+int64(c)], got[c][i])
		}
	}
}

// collectUntil reads s until stop batches were received, returning the ids
// and the state taken after the last of them.
func collectUntil(t testing.TB, s *Stream, stop int) ([]int64, State) {
	t.Helper()
	var out []int64
	k := 0
	for b, err := range s.Batches(context.Background()) {
		require.NoError(t, err)
		out = append(out, b.Column(0).(*array.Int64).Int64Values()...)
		k++
		if k == stop {
			break
		}
	}
	return out, roundTrip(t, s.State())
}

func roundTrip(t testing.TB, st State) State {
	t.Helper()
	data, err := json.Marshal(st)
	require.NoError(t, err)
	var back State
	require.NoError(t, json.Unmarshal(data, &back))
	return back
}

func evenIDs(_ context.Context, b arrow.RecordBatch) (*array.Boolean, error) {
	ids := b.Column(0).(*array.Int64)
	mb := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer mb.Release()
	for i := range ids.Len() {
		mb.Append(ids.Value(i)%3 != 0)
	}
	return mb.NewBooleanArray(), nil
}

func TestResumeIsExact(t *testing.T) {
	mem := checkedMem(t)
	src := makeSource(t, mem, shardSizes, 256)
	builds := map[string]func() *Stream{
		"plain": func() *Stream { return newStream(t, src, WithAllocator(mem), WithChunkRows(400)) },
		"shuffle": func() *Stream {
			return newStream(t, src, WithAllocator(mem), WithChunkRows(400)).Shuffle(5, 1000)
		},
		"shuffle+batch": func() *Stream {
			return newStream(t, src, WithAllocator(mem), WithChunkRows(400)).Shuffle(5, 1000).Batch(96, false)
		},
		"filter+batch+droplast": func() *Stream {
			return newStream(t, src, WithAllocator(mem), WithChunkRows(400)).Shuffle(5, 700).Filter("not3@v1", evenIDs).Batch(50, true)
		},
		"filter+skip+take": func() *Stream {
			return newStream(t, src, WithAllocator(mem), WithChunkRows(300)).Filter("not3@v1", evenIDs).Skip(123).Take(2000)
		},
		"split+pad+elastic": func() *Stream {
			return newStream(t, src, WithAllocator(mem), WithChunkRows(300)).Shuffle(9, 800).SplitByNode(2, 3).Pad(true).Elastic(true).Batch(64, false)
		},
		"split+contiguous+filter": func() *Stream {
			return newStream(t, src, WithAllocator(mem), WithChunkRows(300)).Shuffle(9, 800).SplitByNode(1, 3).Filter("not3@v1", evenIDs).Batch(33, false)
		},
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for name, build := range builds {
		t.Run(name, func(t *testing.T) {
			want, sizes := ids(t, build())
			require.NotEmpty(t, want)
			for trial := range 12 {
				// resume several times in one epoch
				var got []int64
				s := build()
				for range 3 {
					part, st := collectUntil(t, s, 1+rnd.IntN(len(sizes)/3+1))
					got = append(got, part...)
					s = build()
					require.NoError(t, s.Resume(st))
				}
				rest, _ := ids(t, s)
				got = append(got, rest...)
				require.Equal(t, want, got, "trial %d", trial)
			}
		})
	}
}

func TestResumeElasticAfterWorldChange(t *testing.T) {
	src := makeSource(t, memory.DefaultAllocator, shardSizes, 256)
	n := total(shardSizes)
	base := newStream(t, src, WithChunkRows(200)).Shuffle(21, 600).Elastic(true).Batch(10, false)
	global, _ := ids(t, newStream(t, src, WithChunkRows(200)).Shuffle(21, 600))

	// Two ranks in lockstep for 17 steps of 10 rows each.
	var consumed []int64
	var states []State
	parts := make([][]int64, 2)
	for r := range 2 {
		parts[r], _ = collectUntil(t, base.SplitByNode(r, 2), 17)
		s := base.SplitByNode(r, 2)
		_, st := collectUntil(t, s, 17)
		states = append(states, st)
	}
	require.Equal(t, states[0].Position, states[1].Position, "lockstep ranks agree on the global position")
	for i := range parts[0] {
		consumed = append(consumed, parts[0][i], parts[1][i])
	}
	require.Equal(t, global[:340], consumed)

	// Resume on three ranks from rank 0's state.
	per := (n - 340) / 3
	got := make([][]int64, 3)
	for r := range 3 {
		s := base.SplitByNode(r, 3)
		require.NoError(t, s.Resume(states[0]))
		got[r], _ = ids(t, s)
		require.Len(t, got[r], int(per))
	}
	for i := range per {
		for r := range 3 {
			consumed = append(consumed, got[r][i])
		}
	}
	require.Equal(t, global[:len(consumed)], consumed)
}

func TestResumeRejectsForeignState(t *testing.T) {
	src := makeSource(t, memory.DefaultAllocator, shardSizes, 256)
	a := newStream(t, src).Shuffle(1, 100).SplitByNode(0, 2)
	_, st := collectUntil(t, a, 1)
	for name, other := range map[string]*Stream{
		"seed":   newStream(t, src).Shuffle(2, 100).SplitByNode(0, 2),
		"window": newStream(t, src).Shuffle(1, 101).SplitByNode(0, 2),
		"rank":   newStream(t, src).Shuffle(1, 100).SplitByNode(1, 2),
		"world":  newStream(t, src).Shuffle(1, 100).SplitByNode(0, 3),
		"ops":    newStream(t, src).Shuffle(1, 100).SplitByNode(0, 2).Select("id"),
	} {
		err := other.Resume(st)
		require.ErrorIs(t, err, ErrState, name)
	}
	bad := st
	bad.Version = 99
	require.ErrorIs(t, a.Resume(bad), ErrState)
	require.NoError(t, newStream(t, src).Shuffle(1, 100).SplitByNode(0, 2).Resume(st))
}

func TestEpochs(t *testing.T) {
	src := makeSource(t, memory.DefaultAllocator, []int64{100, 100}, 30)
	s := newStream(t, src).Shuffle(4, 50)
	e0, _ := ids(t, s)
	s.SetEpoch(1)
	e1, _ := ids(t, s)
	s.SetEpoch(0)
	again, _ := ids(t, s)
	require.Equal(t, e0, again)
	require.NotEqual(t, e0, e1)
	require.Equal(t, int64(0), s.Epoch())
}

func TestOps(t *testing.T) {
	mem := checkedMem(t)
	src := makeSource(t, mem, []int64{50, 50}, 20)
	s := newStream(t, src, WithAllocator(mem)).
		Rename("id", "key").
		Cast("key", arrow.PrimitiveTypes.Float64).
		Select("key")
	require.Equal(t, "key", s.Schema().Field(0).Name)
	require.Equal(t, 1, s.Schema().NumFields())
	var n int
	for b, err := range s.Batches(context.Background()) {
		require.NoError(t, err)
		require.True(t, b.Schema().Equal(s.Schema()))
		for _, v := range b.Column(0).(*array.Float64).Float64Values() {
			require.Equal(t, float64(n), v)
			n++
		}
	}
	require.Equal(t, 100, n)

	bad := newStream(t, src, WithAllocator(mem)).Select("nope")
	var err error
	for _, err = range bad.Batches(context.Background()) {
	}
	require.ErrorContains(t, err, `no column "nope"`)

	panicky := newStream(t, src, WithAllocator(mem)).Map("boom@v1", func(context.Context, arrow.RecordBatch) (arrow.RecordBatch, error) { panic("boom") })
	for _, err = range panicky.Batches(context.Background()) {
	}
	require.ErrorContains(t, err, "boom")
}

// shortSource announces more rows than it yields.
type shortSource struct{ Source }

func (s shortSource) Shards() []Shard {
	sh := slices.Clone(s.Source.Shards())
	sh[1].Rows++
	return sh
}

func TestShardMismatch(t *testing.T) {
	src := makeSource(t, memory.DefaultAllocator, []int64{10, 10, 10}, 4)
	s := newStream(t, shortSource{src})
	var err error
	for _, err = range s.Batches(context.Background()) {
		if err != nil {
			break
		}
	}
	require.ErrorIs(t, err, ErrShard)
	var se *ShardError
	require.ErrorAs(t, err, &se)
	require.Equal(t, "mem:1", se.Shard.Path)
}

// failSource fails reading one shard.
type failSource struct {
	Source
	bad int
}

func (s failSource) Read(ctx context.Context, i int) iter.Seq2[arrow.RecordBatch, error] {
	if i == s.bad {
		return func(yield func(arrow.RecordBatch, error) bool) { yield(nil, errors.New("disk on fire")) }
	}
	return s.Source.Read(ctx, i)
}

func TestReadErrorNamesShard(t *testing.T) {
	mem := checkedMem(t)
	src := makeSource(t, mem, []int64{10, 10, 10}, 4)
	s := newStream(t, failSource{src, 2}, WithAllocator(mem)).Shuffle(1, 5)
	var err error
	for _, err = range s.Batches(context.Background()) {
		if err != nil {
			break
		}
	}
	require.ErrorContains(t, err, "mem:2: disk on fire")
}

func TestCancel(t *testing.T) {
	mem := checkedMem(t)
	src := makeSource(t, mem, []int64{1000, 1000}, 100)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newStream(t, src, WithAllocator(mem), WithChunkRows(100))
	var err error
	k := 0
	for _, err = range s.Batches(ctx) {
		if err != nil {
			break
		}
		k++
		if k == 3 {
			cancel()
		}
	}
	require.ErrorIs(t, err, context.Canceled)
}

// countingSource counts the reads of each shard.
type countingSource struct {
	Source
	reads []int
}

func (s *countingSource) Read(ctx context.Context, i int) iter.Seq2[arrow.RecordBatch, error] {
	s.reads[i]++
	return s.Source.Read(ctx, i)
}

// TestResumeSkipsFinishedShards checks that resuming opens no shard the
// checkpoint is past.
func TestResumeSkipsFinishedShards(t *testing.T) {
	src := makeSource(t, memory.DefaultAllocator, []int64{100, 100, 100, 100, 100}, 50)
	_, st := collectUntil(t, newStream(t, src, WithChunkRows(50)), 7) // 350 rows: inside shard 3
	cs := &countingSource{Source: src, reads: make([]int, 5)}
	s := newStream(t, cs, WithChunkRows(50))
	require.NoError(t, s.Resume(st))
	got, _ := ids(t, s)
	require.Equal(t, seq(500)[350:], got)
	require.Equal(t, []int{0, 0, 0, 1, 1}, cs.reads)
}
