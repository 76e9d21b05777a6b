package arrowio

import (
	"context"
	"errors"
	"iter"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// lending yields n one-row batches, releasing each after the consumer's
// step as readers do, and fails at failAt when it is in range.
func lending(mem memory.Allocator, n, failAt int) iter.Seq2[arrow.RecordBatch, error] {
	schema := arrow.NewSchema([]arrow.Field{{Name: "i", Type: arrow.PrimitiveTypes.Int64}}, nil)
	return func(yield func(arrow.RecordBatch, error) bool) {
		for i := range n {
			if i == failAt {
				yield(nil, errors.New("boom"))
				return
			}
			b := array.NewInt64Builder(mem)
			b.Append(int64(i))
			col := b.NewArray()
			b.Release()
			rec := array.NewRecordBatch(schema, []arrow.Array{col}, 1)
			col.Release()
			more := yield(rec, nil)
			rec.Release()
			if !more {
				return
			}
		}
	}
}

func TestPrefetch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ctx := context.Background()

	var got []int64
	for b, err := range Prefetch(ctx, lending(mem, 50, -1), 3) {
		require.NoError(t, err)
		got = append(got, b.Column(0).(*array.Int64).Value(0))
	}
	require.Len(t, got, 50)
	for i, v := range got {
		require.Equal(t, int64(i), v, "order is kept")
	}

	n := 0
	for range Prefetch(ctx, lending(mem, 50, -1), 3) {
		if n++; n == 5 {
			break // the producer stops and releases what it queued
		}
	}

	var errSeen error
	count := 0
	for b, err := range Prefetch(ctx, lending(mem, 50, 7), 2) {
		if err != nil {
			errSeen = err
			break
		}
		require.NotNil(t, b)
		count++
	}
	require.EqualError(t, errSeen, "boom")
	require.Equal(t, 7, count)

	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	count = 0
	for _, err := range Prefetch(cctx, lending(mem, 1000, -1), 2) {
		if err != nil {
			require.ErrorIs(t, err, context.Canceled)
			break
		}
		if count++; count == 3 {
			cancel()
		}
	}
	require.Less(t, count, 1000)
}
