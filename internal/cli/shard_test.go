package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestShardSizes(t *testing.T) {
	require.Equal(t, []int64{4, 3, 3}, shardSizes(10, 3))
	require.Equal(t, []int64{1, 1, 0, 0}, shardSizes(2, 4))
	require.Equal(t, []int64{5}, shardSizes(5, 1))
}

func TestSamplePositions(t *testing.T) {
	a := samplePositions(1000, 10, 7)
	require.Len(t, a, 10)
	require.Equal(t, a, samplePositions(1000, 10, 7), "same seed, same sample")
	require.NotEqual(t, a, samplePositions(1000, 10, 8))
	seen := map[int64]bool{}
	for i, p := range a {
		require.True(t, p >= 0 && p < 1000)
		require.False(t, seen[p], "positions are distinct")
		seen[p] = true
		if i > 0 {
			require.Less(t, a[i-1], p, "positions are sorted")
		}
	}
	require.Equal(t, []int64{0, 1, 2}, samplePositions(3, 10, 1), "n beyond total takes everything")
}

func TestShardByCount(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := run(t, "shard", fixture("small.jsonl"), fixture("more.jsonl"), "--out", dir, "--num-shards", "4", "--split", "test")
	require.Equal(t, ExitOK, code, stderr)
	names := strings.Fields(out)
	require.Len(t, names, 4)
	var total []string
	for i, name := range names {
		require.Equal(t, filepath.Join(dir, "test-0000"+string(rune('0'+i))+"-of-00004.parquet"), name)
		code, n, _ := run(t, "count", name)
		require.Equal(t, ExitOK, code)
		total = append(total, strings.TrimSpace(n))
	}
	require.Equal(t, []string{"2", "2", "1", "1"}, total, "the first rows%n shards take one more row")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 4, "no temporary files remain")

	code, out, _ = run(t, "convert", names[0], names[1], names[2], names[3], "-")
	require.Equal(t, ExitOK, code)
	rows := readJSONL(t, out)
	require.Len(t, rows, 6)
	for i, r := range rows {
		require.Equal(t, float64(i+1), r["id"], "shards are contiguous and in order")
	}
}

func TestShardBySize(t *testing.T) {
	dir := t.TempDir()
	code, out, stderr := run(t, "shard", fixture("small.jsonl"), "--out", dir, "--max-shard-size", "1B", "--format", "jsonl", "--batch-size", "2")
	require.Equal(t, ExitOK, code, stderr)
	names := strings.Fields(out)
	require.Len(t, names, 5, "a shard holds at least one row")
	require.Equal(t, filepath.Join(dir, "train-00004-of-00005.jsonl"), names[4])
}

func TestShardUsage(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"shard", fixture("small.jsonl"), "--num-shards", "2"},
		{"shard", fixture("small.jsonl"), "--out", dir},
		{"shard", fixture("small.jsonl"), "--out", dir, "--num-shards", "2", "--max-shard-size", "1MB"},
		{"shard", fixture("small.jsonl"), "--out", dir, "--max-shard-size", "lots"},
		{"shard", fixture("small.jsonl"), "--out", dir, "--num-shards", "2", "--split", "a/b"},
		{"shard", fixture("small.jsonl"), "--out", dir, "--num-shards", "2", "--format", "xml"},
	} {
		code, _, stderr := run(t, args...)
		require.Equal(t, ExitUsage, code, "%v: %s", args, stderr)
	}
}

func TestSampleCommand(t *testing.T) {
	code, out, stderr := run(t, "sample", "-n", "3", "--seed", "7", fixture("small.jsonl"), fixture("more.jsonl"))
	require.Equal(t, ExitOK, code, stderr)
	rows := readJSONL(t, out)
	require.Len(t, rows, 3)
	code, again, _ := run(t, "sample", "-n", "3", "--seed", "7", fixture("small.jsonl"), fixture("more.jsonl"))
	require.Equal(t, ExitOK, code)
	require.Equal(t, out, again)
}
