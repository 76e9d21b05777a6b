package dataset

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRebatcherCutsExactSizes feeds batches of assorted sizes (empty
// ones, slices, ones larger than the target) and checks every emitted
// batch but the last has exactly the target rows, the rows keep their
// order, and no memory is leaked.
func TestRebatcherCutsExactSizes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, target := range []int64{1, 7, 100, 1000} {
		t.Run(fmt.Sprint(target), func(t *testing.T) {
			var sizes []int64
			var got []int64
			rb := &rebatcher{mem: mem, rows: target, emit: func(b arrow.RecordBatch) error {
				sizes = append(sizes, b.NumRows())
				got = append(got, b.Column(0).(*array.Int64).Int64Values()...)
				require.NoError(t, b.Column(1).(*array.String).ValidateFull())
				return nil
			}}
			defer rb.release()
			in := testBatches(t, mem, 2500, 333)
			var want []int64
			for i, b := range in {
				switch i % 3 {
				case 0:
					require.NoError(t, rb.add(b))
				case 1: // a slice, then an empty batch
					s := b.NewSlice(10, b.NumRows())
					require.NoError(t, rb.add(s))
					s.Release()
					e := b.NewSlice(0, 0)
					require.NoError(t, rb.add(e))
					e.Release()
					b = b.NewSlice(10, b.NumRows())
					defer b.Release()
				default:
					require.NoError(t, rb.add(b))
				}
				want = append(want, b.Column(0).(*array.Int64).Int64Values()...)
			}
			require.NoError(t, rb.flush())
			for _, b := range in {
				b.Release()
			}
			assert.Equal(t, want, got)
			for i, n := range sizes {
				if i < len(sizes)-1 {
					require.Equal(t, target, n, "batch %d of %d", i, len(sizes))
				} else {
					require.LessOrEqual(t, n, target)
				}
			}
		})
	}
}

// TestFlattenWritesUniformBatches materializes a filtered dataset (whose
// windows shrink unevenly) and checks the cache batches all have one
// power-of-two size.
func TestFlattenWritesUniformBatches(t *testing.T) {
	defer func(n int64) { cacheBatchBytes = n }(cacheBatchBytes)
	cacheBatchBytes = 32 << 10 // rows of ~30 bytes: 1024 per batch
	ctx := context.Background()
	ds := newTestDataset(t, 20000, 700, WithBatchSize(500)).Filter("mod3@v1", keepMod(3))
	flat, err := ds.Flatten(ctx)
	require.NoError(t, err)
	st, err := flat.resolve(ctx)
	require.NoError(t, err)
	c := st.src.chunks
	require.Greater(t, c.NumBatches(), 2)
	first := c.BatchRows(0)
	assert.Equal(t, int64(1024), first, "rows per cache batch")
	for i := range c.NumBatches() - 1 {
		assert.Equal(t, first, c.BatchRows(i), "batch %d", i)
	}
	assert.Equal(t, ids(t, ds, 0), ids(t, flat, 0))
}
