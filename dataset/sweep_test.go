package dataset

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/quiverdata/quiver/ops"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSweepWritesSameRows checks that bulk writes of permuted selections
// that sweep (a few KB per sweep here) hold the same rows in the same
// order as reading them row by row.
func TestSweepWritesSameRows(t *testing.T) {
	ctx := context.Background()
	base := newTestDataset(t, 5000, 700, WithSweepBytes(4<<10))
	cases := map[string]*Dataset{
		"shuffle":       base.Shuffle(3),
		"shuffle+cols":  base.Shuffle(4).SelectColumns("text", "id"),
		"select repeat": base.Select([]int64{9, 9, 4000, 1, 1, 1, 2500, 7, 4999, 0}),
		"sort desc":     base.Sort(ops.SortKey{Column: "id", Descending: true}),
		"shard strided": base.Shuffle(5).Shard(3, 1, false),
	}
	for name, ds := range cases {
		t.Run(name, func(t *testing.T) {
			st, err := ds.resolve(ctx)
			require.NoError(t, err)
			require.True(t, ds.cfg.sweepable(st), "test data does not sweep")
			want := ids(t, ds, 0)

			out := filepath.Join(t.TempDir(), "out.arrow")
			_, err = ds.Export(ctx, out, ExportOptions{})
			require.NoError(t, err)
			got := loadIDs(t, out)
			assert.Equal(t, want, got, "export")

			dir := t.TempDir()
			_, err = ds.Export(ctx, dir, ExportOptions{NumShards: 3, Format: "parquet"})
			require.NoError(t, err)
			assert.Equal(t, want, loadIDs(t, dir), "sharded export")

			flat, err := ds.Flatten(ctx)
			require.NoError(t, err)
			assert.Equal(t, want, ids(t, flat, 0), "flatten")
		})
	}
	off := newTestDataset(t, 5000, 700, WithSweepBytes(-1)).Shuffle(3)
	st, err := off.resolve(ctx)
	require.NoError(t, err)
	assert.False(t, off.cfg.sweepable(st), "WithSweepBytes(-1) still sweeps")
}

// loadIDs loads the files at location (one split) and returns their ids.
func loadIDs(t *testing.T, location string) []int64 {
	t.Helper()
	splits, err := Load(context.Background(), []string{location}, WithCacheDir(t.TempDir()))
	require.NoError(t, err)
	require.Len(t, splits, 1)
	for _, ds := range splits {
		return ids(t, ds, 0)
	}
	return nil
}

// TestContiguousExportEvictsBehind exports a mapped dataset (filtered, and
// as it is) while evicting the pages behind the read every few KB, and
// checks the output is unchanged.
func TestContiguousExportEvictsBehind(t *testing.T) {
	defer func(n, m int64) { trailBytes, cacheBatchBytes = n, m }(trailBytes, cacheBatchBytes)
	trailBytes = 2 << 10
	cacheBatchBytes = 16 << 10 // 1024-row batches
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.arrow")
	_, err := newTestDataset(t, 6000, 500).Export(ctx, src, ExportOptions{})
	require.NoError(t, err)
	splits, err := Load(ctx, []string{src}, WithCacheDir(filepath.Join(dir, "cache")), WithBatchSize(700))
	require.NoError(t, err)
	base := splits["train"]
	for name, ds := range map[string]*Dataset{"plain": base, "filtered": base.Filter("mod3@v1", keepMod(3))} {
		t.Run(name, func(t *testing.T) {
			st, err := ds.resolve(ctx)
			require.NoError(t, err)
			require.NotNil(t, st.src.evictChunk, "source is not a mapped cache entry")
			require.Greater(t, st.src.chunks.NumBatches(), 3)
			want := ids(t, ds, 0)
			out := filepath.Join(t.TempDir(), "out.parquet")
			_, err = ds.Export(ctx, out, ExportOptions{})
			require.NoError(t, err)
			assert.Equal(t, want, loadIDs(t, out))
		})
	}
}

// TestExportReportsProgress checks that single-file and sharded exports
// report Stage "export" with rows growing to the row count and a final
// Done report counting every file.
func TestExportReportsProgress(t *testing.T) {
	ctx := context.Background()
	for _, shards := range []int{1, 3} {
		t.Run(fmt.Sprint(shards), func(t *testing.T) {
			var mu sync.Mutex
			var reports []Progress
			ds := newTestDataset(t, 5000, 700, WithBatchSize(600), WithProgress(func(p Progress) {
				mu.Lock()
				defer mu.Unlock()
				if p.Stage == "export" {
					reports = append(reports, p)
				}
			})).Shuffle(1)
			out := filepath.Join(t.TempDir(), "out.arrow")
			opts := ExportOptions{}
			if shards > 1 {
				out, opts = t.TempDir(), ExportOptions{NumShards: shards, Format: "arrow"}
			}
			_, err := ds.Export(ctx, out, opts)
			require.NoError(t, err)
			require.NotEmpty(t, reports)
			last := reports[len(reports)-1]
			assert.True(t, last.Done)
			assert.Equal(t, int64(5000), last.Rows)
			assert.Equal(t, shards, last.Files)
			assert.Equal(t, shards, last.FilesDone)
			for i := 1; i < len(reports); i++ {
				require.GreaterOrEqual(t, reports[i].Rows, reports[i-1].Rows, "rows went back")
			}
			require.Greater(t, len(reports), shards+1, "no report while writing")
		})
	}
}
