package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/quiverdata/quiver/hubfs"
	"github.com/quiverdata/quiver/hubfs/hubtest"
)

// TestHubLocations runs commands on hf:// locations served by the
// in-process Hub.
func TestHubLocations(t *testing.T) {
	srv := hubtest.New()
	defer srv.Close()
	repo := srv.AddRepo("dataset", "quiver/small")
	_, err := repo.CommitDir("main", filepath.Join("..", "..", "testdata", "cli"))
	require.NoError(t, err)

	env := func(stdout, stderr *bytes.Buffer) Env {
		return Env{Stdout: stdout, Stderr: stderr, Fs: afero.NewOsFs(), HubOptions: []hubfs.Option{
			hubfs.WithEndpoint(srv.URL), hubfs.WithHTTPClient(srv.Client()),
			hubfs.WithCacheDir(t.TempDir()), hubfs.WithToken(""),
		}}
	}
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), []string{"count", "hf://datasets/quiver/small/small.jsonl"}, env(&stdout, &stderr))
	require.Equal(t, ExitOK, code, stderr.String())
	require.Equal(t, "5\n", stdout.String())

	stdout.Reset()
	dir := t.TempDir()
	out := filepath.Join(dir, "all.jsonl")
	code = Run(context.Background(), []string{"convert", "hf://datasets/quiver/small@main/s*.jsonl", "hf://datasets/quiver/small/more.jsonl", out}, env(&stdout, &stderr))
	require.Equal(t, ExitOK, code, stderr.String())
	rows := readJSONL(t, mustRead(t, out))
	require.Len(t, rows, 6)
	require.Equal(t, true, rows[5]["extra"])

	stderr.Reset()
	code = Run(context.Background(), []string{"count", "hf://datasets/quiver/missing/x.jsonl"}, env(&stdout, &stderr))
	require.Equal(t, ExitError, code)
	require.Contains(t, stderr.String(), "quiver/missing")
}
