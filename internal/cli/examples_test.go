package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/quiverdata/quiver/internal/datagen"
)

// TestHelpExamplesRun runs every example line of every command's --help, as
// a user would paste it, in a directory holding the files they name.
func TestHelpExamplesRun(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("QUIVER_CACHE", t.TempDir())
	for _, d := range []string{"logs", "raw", "shards"} {
		require.NoError(t, os.Mkdir(d, 0o755))
	}
	f, err := os.Create("data.jsonl")
	require.NoError(t, err)
	_, err = datagen.WriteJSONL(f, datagen.Config{Seed: 1, Rows: 300})
	require.NoError(t, err)
	require.NoError(t, f.Close())
	for _, out := range []string{"data.jsonl.zst", "data.parquet", "data.arrow", "logs/a.jsonl.zst", "logs/b.jsonl.zst", "raw/a.parquet", "shards/x.parquet", "shards/x.jsonl.gz"} {
		code, _, stderr := run(t, "convert", "data.jsonl", out)
		require.Equal(t, ExitOK, code, stderr)
	}

	var examples []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, line := range strings.Split(c.Example, "\n") {
			if line = strings.TrimSpace(line); strings.HasPrefix(line, "dsctl ") {
				examples = append(examples, line)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot(&Env{}))
	require.Greater(t, len(examples), 20)

	for _, ex := range examples {
		t.Run(ex, func(t *testing.T) {
			// The part before a pipe is dsctl's; quotes only guard globs.
			line, _, _ := strings.Cut(ex, " | ")
			args := strings.Fields(strings.ReplaceAll(line, "'", ""))[1:]
			var stdout, stderr bytes.Buffer
			code := Run(context.Background(), args, Env{Stdout: &stdout, Stderr: &stderr})
			require.Equal(t, ExitOK, code, stderr.String())
		})
	}
}
