package streaming

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// offsetSource is makeSource with ids starting at from.
func offsetSource(t *testing.T, mem memory.Allocator, from int64, shardRows []int64) Source {
	t.Helper()
	var shards [][]arrow.RecordBatch
	id := from
	for _, n := range shardRows {
		b := array.NewRecordBuilder(mem, testSchema)
		for range n {
			b.Field(0).(*array.Int64Builder).Append(id)
			b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("row-%d", id))
			id++
		}
		shards = append(shards, []arrow.RecordBatch{b.NewRecordBatch()})
		b.Release()
	}
	t.Cleanup(func() {
		for _, bs := range shards {
			bs[0].Release()
		}
	})
	src, err := FromBatches(testSchema, shards)
	require.NoError(t, err)
	return src
}

func interleaveIDs(t *testing.T, it *Interleaved, stopAfter int) ([]int64, InterleaveState) {
	t.Helper()
	var out []int64
	k := 0
	for b, err := range it.Batches(context.Background()) {
		require.NoError(t, err)
		out = append(out, b.Column(0).(*array.Int64).Int64Values()...)
		k++
		if k == stopAfter {
			break
		}
	}
	return out, it.State()
}

func TestInterleave(t *testing.T) {
	mem := checkedMem(t)
	a := offsetSource(t, mem, 0, []int64{400, 600})
	b := offsetSource(t, mem, 100000, []int64{250, 250})
	build := func(stop Stopping) *Interleaved {
		sa := newStream(t, a, WithAllocator(mem), WithChunkRows(128)).Shuffle(1, 100)
		sb := newStream(t, b, WithAllocator(mem), WithChunkRows(128))
		it, err := Interleave([]*Stream{sa, sb}, []float64{0.7, 0.3}, 9, stop, 64)
		require.NoError(t, err)
		return it
	}
	aOrder, _ := ids(t, newStream(t, a, WithChunkRows(128)).Shuffle(1, 100))

	for _, stop := range []Stopping{FirstExhausted, AllExhausted} {
		t.Run(fmt.Sprint(stop), func(t *testing.T) {
			want, _ := interleaveIDs(t, build(stop), -1)
			again, _ := interleaveIDs(t, build(stop), -1)
			require.Equal(t, want, again, "reproducible")
			// each input's rows come in that input's order (again from
			// the start when oversampled)
			var fromA, fromB []int64
			for _, id := range want {
				if id >= 100000 {
					fromB = append(fromB, id)
				} else {
					fromA = append(fromA, id)
				}
			}
			twice := append(slices.Clone(aOrder), aOrder...)
			require.Equal(t, twice[:len(fromA)], fromA)
			require.Equal(t, seq(int64(len(fromB))%500), sub(fromB, 100000)[:len(fromB)%500])
			if stop == AllExhausted {
				// A runs out first (~1430 rows) and is oversampled until B
				// runs out (~1670 rows).
				require.Greater(t, len(fromA), 1000)
				require.Len(t, fromB, 500)
			} else {
				require.Len(t, fromA, 1000)
				require.Less(t, len(fromB), 500)
			}
			// proportions hold
			require.InDelta(t, 0.7, float64(len(fromA))/float64(len(want)), 0.05)
			// resume at several points
			for _, stopAt := range []int{1, 3, 7, 11} {
				first, st := interleaveIDs(t, build(stop), stopAt)
				it := build(stop)
				require.NoError(t, it.Resume(st))
				rest, _ := interleaveIDs(t, it, -1)
				require.Equal(t, want, append(first, rest...), "resumed after %d batches", stopAt)
			}
		})
	}
}

func TestInterleaveRoundRobin(t *testing.T) {
	a := offsetSource(t, memory.DefaultAllocator, 0, []int64{5})
	b := offsetSource(t, memory.DefaultAllocator, 100, []int64{3})
	it, err := Interleave([]*Stream{newStream(t, a), newStream(t, b)}, nil, 0, FirstExhausted, 4)
	require.NoError(t, err)
	got, _ := interleaveIDs(t, it, -1)
	require.Equal(t, []int64{0, 100, 1, 101, 2, 102, 3}, got)
	it, err = Interleave([]*Stream{newStream(t, a), newStream(t, b)}, nil, 0, AllExhausted, 4)
	require.NoError(t, err)
	got, _ = interleaveIDs(t, it, -1)
	require.Equal(t, []int64{0, 100, 1, 101, 2, 102, 3, 100, 4, 101}, got)
}

func sub(xs []int64, d int64) []int64 {
	out := make([]int64, len(xs))
	for i, x := range xs {
		out[i] = x - d
	}
	return out
}

func TestInterleaveErrors(t *testing.T) {
	a := offsetSource(t, memory.DefaultAllocator, 0, []int64{10})
	s := newStream(t, a)
	_, err := Interleave(nil, nil, 0, FirstExhausted, 0)
	require.Error(t, err)
	_, err = Interleave([]*Stream{s, s.Select("id")}, nil, 0, FirstExhausted, 0)
	require.ErrorContains(t, err, "schema")
	_, err = Interleave([]*Stream{s}, []float64{0}, 0, FirstExhausted, 0)
	require.Error(t, err)
	_, err = Interleave([]*Stream{s}, []float64{1, 2}, 0, FirstExhausted, 0)
	require.Error(t, err)
}

// TestInterleaveElasticResume checks checkpoints of an Interleaved stream
// of elastic inputs: on the same world size the resumed run is the
// uninterrupted one; on another, the ranks of the new world continue from
// one rank's checkpoint (all took theirs at the same step) so that no row
// is seen twice and every input's rows taken form a prefix of its global
// order, with nothing skipped.
func TestInterleaveElasticResume(t *testing.T) {
	a := offsetSource(t, memory.DefaultAllocator, 0, []int64{300, 300})
	b := offsetSource(t, memory.DefaultAllocator, 100000, []int64{600})
	inputs := func(rank, world int) []*Stream {
		return []*Stream{
			newStream(t, a, WithChunkRows(16)).Shuffle(4, 50).Elastic(true).SplitByNode(rank, world),
			newStream(t, b, WithChunkRows(16)).Shuffle(5, 50).Elastic(true).SplitByNode(rank, world),
		}
	}
	build := func(rank, world int) *Interleaved {
		it, err := Interleave(inputs(rank, world), []float64{0.6, 0.4}, 3, FirstExhausted, 10)
		require.NoError(t, err)
		return it
	}

	want, _ := interleaveIDs(t, build(1, 2), -1)
	first, st := interleaveIDs(t, build(1, 2), 4)
	it := build(1, 2)
	require.NoError(t, it.Resume(st))
	rest, _ := interleaveIDs(t, it, -1)
	require.Equal(t, want, append(first, rest...), "resumed on the same world size")

	var got []int64
	var states []InterleaveState
	for rank := range 2 {
		ids, st := interleaveIDs(t, build(rank, 2), 4)
		got = append(got, ids...)
		states = append(states, st)
	}
	for j := range states[0].Inputs {
		require.Equal(t, states[0].Inputs[j].State.Position, states[1].Inputs[j].State.Position,
			"ranks in lockstep are at the same global position of input %d", j)
		require.Zero(t, states[0].Inputs[j].Rows, "input %d's place is global", j)
	}
	for rank := range 3 {
		it := build(rank, 3)
		require.NoError(t, it.Resume(states[0]), "rank %d of 3", rank)
		ids, _ := interleaveIDs(t, it, -1)
		require.NotEmpty(t, ids)
		got = append(got, ids...)
	}
	seen := map[int64]bool{}
	for _, id := range got {
		require.False(t, seen[id], "row %d seen twice", id)
		seen[id] = true
	}
	for j, whole := range inputs(0, 1) {
		order, _ := ids(t, whole)
		var taken []int64
		for _, id := range got {
			if (id >= 100000) == (j == 1) {
				taken = append(taken, id)
			}
		}
		require.ElementsMatch(t, order[:len(taken)], taken, "input %d: a prefix of its global order", j)
	}
}

// TestInterleaveResumeOtherSplit checks that a checkpoint whose inputs'
// places are not global (an input with Take re-cuts what it yields) does
// not resume on another world size, and that a split input that is not
// elastic resumes only on its own rank.
func TestInterleaveResumeOtherSplit(t *testing.T) {
	a := offsetSource(t, memory.DefaultAllocator, 0, []int64{300})
	b := offsetSource(t, memory.DefaultAllocator, 1000, []int64{300})
	build := func(rank, world int, elastic bool) *Interleaved {
		sa := newStream(t, a, WithChunkRows(16)).Elastic(elastic).SplitByNode(rank, world).Take(1000)
		sb := newStream(t, b, WithChunkRows(16)).Elastic(elastic).SplitByNode(rank, world).Take(1000)
		it, err := Interleave([]*Stream{sa, sb}, []float64{0.5, 0.5}, 3, FirstExhausted, 10)
		require.NoError(t, err)
		return it
	}
	_, st := interleaveIDs(t, build(0, 2, true), 3)
	require.True(t, st.Inputs[0].Rows > 0 || st.Inputs[1].Rows > 0, "the checkpoint is inside an input's batch")
	require.NoError(t, build(0, 2, true).Resume(st), "same world size")
	require.ErrorIs(t, build(0, 3, true).Resume(st), ErrState, "another world size")

	_, st = interleaveIDs(t, build(0, 2, false), 3)
	require.NoError(t, build(0, 2, false).Resume(st))
	require.ErrorIs(t, build(1, 2, false).Resume(st), ErrState, "another rank")
	require.ErrorIs(t, build(0, 3, false).Resume(st), ErrState, "another world size")
}
