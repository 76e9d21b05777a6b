package dataset

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/ops"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDetectSplit(t *testing.T) {
	tests := []struct {
		rel, split string
		ok         bool
	}{
		{"data/train-00000-of-00008.parquet", "train", true},
		{"data/validation-00001-of-00002.jsonl", "validation", true},
		{"data/extra-00000-of-00001.arrow", "extra", true},
		{"train.jsonl", "train", true},
		{"my_training_set.csv", "train", true},
		{"dev.jsonl", "validation", true},
		{"valid/part1.parquet", "validation", true},
		{"val/part1.parquet", "validation", true},
		{"eval-set.jsonl", "test", true},
		{"testing/x.arrow", "test", true},
		{"evaluation/data.parquet", "test", true},
		{"Test/x.arrow", "test", true},
		{"contest.jsonl", "", false}, // not a word of its own
		{"data/part-0.parquet", "", false},
		{"train/test.jsonl", "train", true}, // directories first
	}
	for _, tc := range tests {
		split, ok := DetectSplit(tc.rel)
		assert.Equal(t, tc.ok, ok, tc.rel)
		assert.Equal(t, tc.split, split, tc.rel)
	}
}

// writeShards exports ds rows [lo, hi) to path in an arrowio format.
func writeFile(t *testing.T, ds *Dataset, path string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	_, err := ds.Export(context.Background(), path, ExportOptions{})
	require.NoError(t, err)
}

func TestLoadSplitsAndCache(t *testing.T) {
	ctx := context.Background()
	src := newTestDataset(t, 300, 50)
	root := t.TempDir()
	writeFile(t, src.Take(100), filepath.Join(root, "data", "train-00000-of-00002.arrow"))
	// The second train shard lacks a column: schemas unify, values are null.
	writeFile(t, src.Skip(100).Take(100).RemoveColumns("tags"), filepath.Join(root, "data", "train-00001-of-00002.arrow"))
	writeFile(t, src.Skip(200), filepath.Join(root, "data", "test-00000-of-00001.arrows"))

	cacheDir := t.TempDir()
	var converted []Progress
	load := func() Splits {
		splits, err := Load(ctx, []string{root}, WithCacheDir(cacheDir), WithProgress(func(p Progress) {
			converted = append(converted, p)
		}))
		require.NoError(t, err)
		return splits
	}
	splits := load()
	assert.Equal(t, []string{"train", "test"}, splits.Names())
	train, test := splits["train"], splits["test"]
	assert.Equal(t, seqIDs(0, 200), ids(t, train, 0))
	assert.Equal(t, seqIDs(200, 300), ids(t, test, 0))
	row, err := train.Row(ctx, 150)
	require.NoError(t, err)
	assert.True(t, row.Column(2).IsNull(0), "tags of the second shard are null")
	row.Release()
	require.NotEmpty(t, converted)
	assert.True(t, converted[len(converted)-1].Done)

	// A second load maps the cache: no conversion, same fingerprints.
	converted = nil
	again := load()
	assert.Empty(t, converted)
	assert.Equal(t, train.Fingerprint(), again["train"].Fingerprint())
	assert.Equal(t, seqIDs(0, 200), ids(t, again["train"], 0))

	// Touching a file changes its identity and so the fingerprint.
	later := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(filepath.Join(root, "data", "test-00000-of-00001.arrows"), later, later))
	third := load()
	assert.NotEqual(t, test.Fingerprint(), third["test"].Fingerprint())
	assert.Equal(t, train.Fingerprint(), third["train"].Fingerprint())

	// An explicit split mapping overrides detection.
	splits, err = Load(ctx, nil, WithCacheDir(cacheDir), WithSplits(map[string][]string{
		"all": {filepath.Join(root, "data", "*.arrow*")},
	}))
	require.NoError(t, err)
	n, err := splits["all"].Len(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(300), n)
}

func TestLoadErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bad := filepath.Join(dir, "train.arrow")
	require.NoError(t, os.WriteFile(bad, []byte("ARROW1\x00\x00 this is not arrow"), 0o644))
	_, err := Load(ctx, []string{bad}, WithCacheDir(t.TempDir()))
	require.Error(t, err)
	assert.Contains(t, err.Error(), bad)
	assert.ErrorIs(t, err, arrowio.ErrCorrupt)

	_, err = Load(ctx, []string{filepath.Join(dir, "nope", "*.parquet")}, WithCacheDir(t.TempDir()))
	assert.ErrorIs(t, err, ErrDataset)
	_, err = Load(ctx, nil)
	assert.ErrorIs(t, err, ErrDataset)
}

func TestExportShards(t *testing.T) {
	ctx := context.Background()
	ds := newTestDataset(t, 1000, 100).Shuffle(4)
	out := filepath.Join(t.TempDir(), "out")
	paths, err := ds.Export(ctx, out, ExportOptions{NumShards: 8, Format: "arrow", Split: "test"})
	require.NoError(t, err)
	require.Len(t, paths, 8)
	assert.Equal(t, "test-00000-of-00008.arrow", filepath.Base(paths[0]))
	assert.Equal(t, "test-00007-of-00008.arrow", filepath.Base(paths[7]))

	back, err := Load(ctx, []string{out}, WithCacheDir(t.TempDir()))
	require.NoError(t, err)
	assert.Equal(t, ops.Permutation(1000, 4), ids(t, back["test"], 0), "shards keep the order")

	// By size: about 4 shards.
	var total int64
	st, err := ds.resolve(ctx)
	require.NoError(t, err)
	total = estimateBytes(st)
	paths, err = ds.Export(ctx, filepath.Join(t.TempDir(), "bysize"), ExportOptions{MaxShardBytes: total/4 + 1, Format: "arrow"})
	require.NoError(t, err)
	assert.Len(t, paths, 4)
}

func TestSaveToDiskRoundTrip(t *testing.T) {
	ctx := context.Background()
	ds := newTestDataset(t, 500, 100)
	train, test := ds.TrainTestSplit(ops.SplitSpec{TestCount: 100, Seed: 1})
	dir := filepath.Join(t.TempDir(), "saved")
	require.NoError(t, Splits{"train": train, "test": test}.SaveToDisk(ctx, dir, SaveOptions{NumShards: 2}))
	for _, f := range []string{"dataset_dict.json", "train/state.json", "train/dataset_info.json",
		"train/data-00000-of-00002.arrow", "train/data-00001-of-00002.arrow", "test/state.json"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err, f)
	}
	back, err := Load(ctx, []string{dir}, WithCacheDir(t.TempDir()))
	require.NoError(t, err)
	assert.Equal(t, ids(t, train, 0), ids(t, back["train"], 0))
	assert.Equal(t, ids(t, test, 0), ids(t, back["test"], 0))
	// The shards are Arrow IPC streams, as Hugging Face writes them.
	raw, err := os.ReadFile(filepath.Join(dir, "test", "data-00000-of-00002.arrow"))
	require.NoError(t, err)
	assert.NotEqual(t, "ARROW1", string(raw[:6]), "stream format has no file magic")
	assert.Equal(t, []byte{0xff, 0xff, 0xff, 0xff}, raw[:4], "stream continuation marker")
	assert.Error(t, train.SaveToDisk(ctx, dir, SaveOptions{}), "refuses to overwrite")

	one := filepath.Join(t.TempDir(), "one")
	require.NoError(t, test.SaveToDisk(ctx, one, SaveOptions{}))
	back, err = Load(ctx, []string{one}, WithCacheDir(t.TempDir()))
	require.NoError(t, err)
	got := ids(t, back["train"], 0)
	assert.True(t, slices.Equal(ids(t, test, 0), got))
}

func TestExportStreamsFilters(t *testing.T) {
	ctx := context.Background()
	ds := newTestDataset(t, 1000, 100).Filter("mod2@v1", keepMod(2))
	path := filepath.Join(t.TempDir(), "even.arrow")
	_, err := ds.Export(ctx, path, ExportOptions{})
	require.NoError(t, err)
	c, _ := ds.cfg.getCache()
	es, _ := c.Entries()
	assert.Empty(t, es, "a single-file export does not materialize the filter")
	back, err := Load(ctx, []string{path}, WithCacheDir(t.TempDir()))
	require.NoError(t, err)
	got := ids(t, back["train"], 0)
	require.Len(t, got, 500)
	assert.Equal(t, int64(998), got[499])
}
