package cli

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "12h": 12 * time.Hour, "90m": 90 * time.Minute, "0.5d": 12 * time.Hour} {
		got, err := ParseAge(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "d", "-1d", "soon", "7 days"} {
		_, err := ParseAge(bad)
		require.Error(t, err, bad)
	}
}

// TestShuffledShardAndCache shards with a global shuffle, which loads the
// inputs into the dataset cache, then inspects and empties that cache.
func TestShuffledShardAndCache(t *testing.T) {
	cacheDir := t.TempDir()
	t.Setenv("QUIVER_CACHE", cacheDir)

	// A separate process, so the entries it loads are not in use afterwards.
	shard := func() []string {
		dir := t.TempDir()
		cmd, stdout, stderr := dsctlCommand(t, "shard", fixture("small.jsonl"), fixture("more.jsonl"), "--out", dir, "--num-shards", "3", "--shuffle", "--seed", "3", "--format", "jsonl")
		require.NoError(t, cmd.Run(), stderr.String())
		names := strings.Fields(stdout.String())
		require.Len(t, names, 3)
		var ids []string
		for _, n := range names {
			for _, row := range readJSONL(t, mustRead(t, n)) {
				b, _ := json.Marshal(row["id"])
				ids = append(ids, string(b))
			}
		}
		return ids
	}
	first := shard()
	require.Equal(t, first, shard(), "the same seed gives the same shards")
	sorted := append([]string(nil), first...)
	sort.Strings(sorted)
	require.Equal(t, []string{"1", "2", "3", "4", "5", "6"}, sorted, "every row exactly once")
	require.NotEqual(t, []string{"1", "2", "3", "4", "5", "6"}, first, "rows are shuffled")

	code, out, stderr := run(t, "cache", "ls")
	require.Equal(t, ExitOK, code, stderr)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.GreaterOrEqual(t, len(lines), 2, out)
	require.True(t, strings.HasPrefix(lines[0], "FINGERPRINT"))

	code, out, _ = run(t, "cache", "du", "--json")
	require.Equal(t, ExitOK, code)
	var du struct {
		Entries int   `json:"entries"`
		Bytes   int64 `json:"bytes"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &du))
	require.Equal(t, len(lines)-1, du.Entries)
	require.Positive(t, du.Bytes)

	code, _, stderr = run(t, "cache", "prune")
	require.Equal(t, ExitUsage, code, stderr)
	code, out, _ = run(t, "cache", "prune", "--older-than", "1h")
	require.Equal(t, ExitOK, code)
	require.Contains(t, out, "removed 0 entries", "entries were just used")

	code, out, _ = run(t, "cache", "clear", "--dry-run")
	require.Equal(t, ExitOK, code)
	require.Contains(t, out, "would remove")
	code, out, _ = run(t, "cache", "clear")
	require.Equal(t, ExitOK, code)
	require.Contains(t, out, fmt.Sprintf("removed %d entries", du.Entries))
	code, out, _ = run(t, "cache", "du", "--json")
	require.Equal(t, ExitOK, code)
	require.NoError(t, json.Unmarshal([]byte(out), &du))
	require.Zero(t, du.Entries)
}
