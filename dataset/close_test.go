package dataset

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Close releases a cache entry at once: its lock drops (Prune removes it
// while the dataset value is still reachable), later reads fail with
// ErrClosed, and a batch retained before stays readable.
func TestDatasetClose(t *testing.T) {
	ctx := context.Background()
	c, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	base := newTestDataset(t, 1000, 100, WithCache(c))
	flat, err := base.Shuffle(3).Flatten(ctx)
	require.NoError(t, err)
	want := ids(t, flat, 0)

	var kept *array.Int64
	for b, err := range flat.Batches(ctx, 10) {
		require.NoError(t, err)
		kept = b.Column(0).(*array.Int64)
		kept.Retain()
		break
	}
	defer kept.Release()

	rep, err := c.Prune(ctx, PruneOptions{All: true})
	require.NoError(t, err)
	assert.Empty(t, rep.Removed, "the entry is in use")

	require.NoError(t, flat.Close())
	require.NoError(t, flat.Close(), "Close is idempotent")
	for _, err := range flat.Batches(ctx, 10) {
		require.ErrorIs(t, err, ErrClosed)
	}
	_, err = flat.Row(ctx, 5)
	require.ErrorIs(t, err, ErrClosed)

	rep, err = c.Prune(ctx, PruneOptions{All: true})
	require.NoError(t, err)
	assert.Len(t, rep.Removed, 1, "closing dropped the entry's lock")
	assert.Equal(t, want[:10], kept.Int64Values(), "a retained batch outlives Close")

	// The in-memory base dataset was not derived from flat's entry; a
	// fresh computation rebuilds the entry.
	assert.Equal(t, want, ids(t, base.Shuffle(3), 0))
}

// Cache entries record per-batch row counts, so reloading reads no batch
// header; entries without them still open, and a count that disagrees
// with the file is an error, not a panic or wrong data.
func TestEntryBatchRows(t *testing.T) {
	ctx := context.Background()
	c, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	base := newTestDataset(t, 1000, 100, WithCache(c))
	flat, err := base.Shuffle(7).Flatten(ctx)
	require.NoError(t, err)
	want := ids(t, flat, 0)
	fp := flat.Fingerprint()
	require.NoError(t, flat.Close())

	e, ok, err := c.Lookup(fp)
	require.NoError(t, err)
	require.True(t, ok)
	require.Len(t, e.BatchRows, len(e.Files))
	var total int64
	for _, rs := range e.BatchRows {
		for _, n := range rs {
			total += n
		}
	}
	require.Equal(t, e.Rows, total)

	meta := filepath.Join(e.Dir, metaFile)
	raw, err := os.ReadFile(meta)
	require.NoError(t, err)
	rewrite := func(edit func(m map[string]any)) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		edit(m)
		out, err := json.Marshal(m)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(meta, out, 0o644))
	}

	// Without batch_rows (an entry from an older version): headers are read.
	rewrite(func(m map[string]any) { delete(m, "batch_rows") })
	again, err := base.Shuffle(7).Flatten(ctx)
	require.NoError(t, err)
	assert.Equal(t, want, ids(t, again, 0))
	require.NoError(t, again.Close())

	// A count moved from one batch to another: the total still matches,
	// so the damage shows when the batch is read.
	rewrite(func(m map[string]any) {
		br := m["batch_rows"].([]any)[0].([]any)
		require.GreaterOrEqual(t, len(br), 1)
		br[0] = br[0].(float64) + 1
		if len(br) > 1 {
			br[1] = br[1].(float64) - 1
		} else {
			m["rows"] = m["rows"].(float64) + 1
		}
	})
	bad, err := base.Shuffle(7).Flatten(ctx)
	if err == nil {
		for _, err = range bad.Batches(ctx, 0) {
			if err != nil {
				break
			}
		}
		bad.Close()
	}
	require.ErrorIs(t, err, arrowio.ErrCorrupt)
	assert.Contains(t, err.Error(), fp)
}

// Parquet exports use exportRowGroupRows per row group unless the caller
// sets a size.
func TestExportRowGroupSize(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 140K rows")
	}
	ctx := context.Background()
	const n = exportRowGroupRows + 9000
	ds := newTestDataset(t, n, 32<<10)
	for _, tc := range []struct {
		name   string
		opts   []arrowio.WriteOption
		groups int
	}{
		{"default", nil, 2},
		{"caller's size", []arrowio.WriteOption{arrowio.WithRowGroupSize(50_000)}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out.parquet")
			_, err := ds.Export(ctx, path, ExportOptions{WriteOptions: tc.opts})
			require.NoError(t, err)
			r, err := arrowio.OpenParquet(afero.NewOsFs(), path)
			require.NoError(t, err)
			defer r.Close()
			require.Equal(t, tc.groups, r.NumRowGroups())
			var rows int64
			for _, g := range r.RowGroups() {
				rows += g.NumRows
			}
			require.Equal(t, int64(n), rows)
		})
	}
}
