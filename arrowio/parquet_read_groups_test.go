package arrowio

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// groupIDs reads the id column of the given row groups of r.
func groupIDs(t *testing.T, r *ParquetReader, groups []int) ([]int64, error) {
	t.Helper()
	var ids []int64
	for b, err := range r.ReadRowGroups(context.Background(), groups) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, b.Column(0).(*array.Int64).Int64Values()...)
	}
	return ids, nil
}

func TestParquetReadRowGroups(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fsys := countingFs{Fs: afero.NewMemMapFs(), readAts: new(atomic.Int64)}
	writeRoundTripFile(t, fsys, mem, "/p.parquet", 1000, WithRowGroupSize(250))

	// Opened with row group 0 only: ReadRowGroups reaches the others.
	r, err := OpenParquet(fsys, "/p.parquet", WithColumns("id"), WithRowGroups(0), WithBatchSize(100), WithAllocator(mem))
	require.NoError(t, err)
	defer r.Close()
	opened := fsys.readAts.Load()

	cases := []struct {
		groups []int
		first  []int64 // first id of each group read, in order
	}{
		{[]int{2}, []int64{500}},
		{[]int{3, 0, 3}, []int64{750, 0, 750}},
		{nil, nil},
	}
	for _, tc := range cases {
		ids, err := groupIDs(t, r, tc.groups)
		require.NoError(t, err)
		require.Len(t, ids, 250*len(tc.groups))
		for i, f := range tc.first {
			assert.Equal(t, f, ids[250*i], "group %d of %v", i, tc.groups)
			assert.Equal(t, f+249, ids[250*i+249], "group %d of %v", i, tc.groups)
		}
	}
	// One ReadAt per column chunk read (the next group's read ahead while
	// one decodes), never the footer again.
	assert.EqualValues(t, 4, fsys.readAts.Load()-opened, "reads after open")

	for _, groups := range [][]int{{4}, {1, -1}} {
		ids, err := groupIDs(t, r, groups)
		assert.ErrorIs(t, err, ErrSchema, "%v", groups)
		assert.Empty(t, ids, "%v: nothing is read before the range check", groups)
		var pe *PosError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "/p.parquet", pe.Path)
	}
}

// TestParquetReadRowGroupsConcurrent reads different row groups of one
// reader at once, as a read-ahead does (run with -race).
func TestParquetReadRowGroupsConcurrent(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fsys := afero.NewMemMapFs()
	writeRoundTripFile(t, fsys, mem, "/p.parquet", 1000, WithRowGroupSize(250))
	r, err := OpenParquet(fsys, "/p.parquet", WithAllocator(mem))
	require.NoError(t, err)
	var wg sync.WaitGroup
	got := make([]int64, 4)
	errs := make([]error, 4)
	for g := range 4 {
		wg.Go(func() {
			for b, err := range r.ReadRowGroups(context.Background(), []int{g}) {
				if err != nil {
					errs[g] = err
					return
				}
				got[g] += b.NumRows()
			}
		})
	}
	wg.Wait()
	require.NoError(t, r.Close())
	for g := range 4 {
		assert.NoError(t, errs[g])
		assert.EqualValues(t, 250, got[g], "group %d", g)
	}
	_, err = groupIDs(t, r, []int{0})
	assert.ErrorContains(t, err, "closed")
}
