package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// run executes dsctl in-process on the OS filesystem and returns the exit
// code and both output streams.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, Env{Stdout: &stdout, Stderr: &stderr, Fs: afero.NewOsFs()})
	return code, stdout.String(), stderr.String()
}

func fixture(name string) string { return filepath.Join("..", "..", "testdata", "cli", name) }

// readJSONL parses a JSON Lines file into generic rows.
func readJSONL(t *testing.T, text string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(text), "\n") {
		var row map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &row), line)
		rows = append(rows, row)
	}
	return rows
}

func TestUsageErrors(t *testing.T) {
	dir, emptyDir := t.TempDir(), t.TempDir()
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown command", []string{"frobnicate"}, ExitUsage, "unknown command"},
		{"convert without output", []string{"convert", fixture("small.jsonl")}, ExitUsage, "requires at least 2 arg"},
		{"unknown flag", []string{"convert", "--bogus", "a", "b"}, ExitUsage, "unknown flag"},
		{"unknown output extension", []string{"convert", fixture("small.jsonl"), filepath.Join(dir, "out.xyz")}, ExitUsage, "out.xyz"},
		{"bad --to", []string{"convert", "--to", "xml", fixture("small.jsonl"), filepath.Join(dir, "o")}, ExitUsage, `"xml"`},
		{"negative limit", []string{"convert", "--limit", "-1", fixture("small.jsonl"), filepath.Join(dir, "o.parquet")}, ExitUsage, "--limit"},
		{"parquet to stdout", []string{"convert", "--to", "parquet", fixture("small.jsonl"), "-"}, ExitUsage, "standard output"},
		{"gzip for parquet", []string{"convert", "--compression", "gzip", fixture("small.jsonl"), filepath.Join(dir, "o.jsonl")}, ExitOK, ""},
		{"bad text compression", []string{"convert", "--compression", "snappy", fixture("small.jsonl"), filepath.Join(dir, "o.jsonl")}, ExitUsage, "snappy"},
		{"missing input", []string{"convert", filepath.Join(dir, "nope.jsonl"), filepath.Join(dir, "o.parquet")}, ExitError, "nope.jsonl: no such file or directory"},
		{"glob without match", []string{"count", filepath.Join(dir, "*.parquet")}, ExitError, "file does not exist"},
		{"empty directory", []string{"count", emptyDir}, ExitError, "file does not exist"},
		{"bad hf url", []string{"count", "hf://nonsense"}, ExitUsage, "hf://nonsense"},
		{"head negative", []string{"head", "-n", "-2", fixture("small.jsonl")}, ExitUsage, "negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, tc.args...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.msg)
			if code != ExitOK {
				require.True(t, strings.HasPrefix(stderr, "dsctl: "), stderr)
				require.Equal(t, 1, strings.Count(stderr, "\n"), "errors are one line: %q", stderr)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	require.Equal(t, ExitOK, code)
	require.Equal(t, "dsctl "+Version+"\n", out)
}

func TestConvertRoundTrip(t *testing.T) {
	want := readJSONL(t, mustRead(t, fixture("small.jsonl")))
	for _, ext := range []string{"parquet", "arrow", "arrows", "jsonl.zst", "jsonl.gz"} {
		t.Run(ext, func(t *testing.T) {
			dir := t.TempDir()
			mid := filepath.Join(dir, "mid."+ext)
			code, _, stderr := run(t, "convert", fixture("small.jsonl"), mid)
			require.Equal(t, ExitOK, code, stderr)
			code, out, stderr := run(t, "convert", mid, "-")
			require.Equal(t, ExitOK, code, stderr)
			require.Equal(t, want, readJSONL(t, out))
			code, out, _ = run(t, "count", mid)
			require.Equal(t, ExitOK, code)
			require.Equal(t, "5\n", out)
		})
	}
}

func TestConvertColumnsAndLimit(t *testing.T) {
	code, out, stderr := run(t, "convert", "--columns", "text,id", "--limit", "2", fixture("small.jsonl"), "-")
	require.Equal(t, ExitOK, code, stderr)
	require.Equal(t, "{\"text\":\"hello\",\"id\":1}\n{\"text\":\"héllo wörld\",\"id\":2}\n", out)
}

// TestConvertLimitAcrossInputs reads two inputs (ids 1-5, then 6) in
// batches of two and stops inside a batch, at a batch end, at the end of
// the first input and past the end.
func TestConvertLimitAcrossInputs(t *testing.T) {
	all := []any{1.0, 2.0, 3.0, 4.0, 5.0, 6.0}
	for _, limit := range []int{1, 2, 3, 5, 6, 100} {
		t.Run(strconv.Itoa(limit), func(t *testing.T) {
			code, out, stderr := run(t, "convert", "--batch-size", "2", "--limit", strconv.Itoa(limit), fixture("small.jsonl"), fixture("more.jsonl"), "-")
			require.Equal(t, ExitOK, code, stderr)
			var ids []any
			for _, r := range readJSONL(t, out) {
				ids = append(ids, r["id"])
			}
			require.Equal(t, all[:min(limit, len(all))], ids)
		})
	}
}

func TestConvertUnifiesSchemas(t *testing.T) {
	code, out, stderr := run(t, "convert", fixture("small.jsonl"), fixture("more.jsonl"), "-")
	require.Equal(t, ExitOK, code, stderr)
	rows := readJSONL(t, out)
	require.Len(t, rows, 6)
	require.Equal(t, nil, rows[0]["extra"])
	require.Equal(t, true, rows[5]["extra"])
	require.Equal(t, nil, rows[5]["score"])
}

func TestConvertBadInputLeavesNoOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.parquet")
	code, _, stderr := run(t, "convert", fixture("bad.jsonl"), out)
	require.Equal(t, ExitError, code)
	require.Contains(t, stderr, "bad.jsonl:3:")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries, "no output and no temporary file may remain")
}

func TestCancelledConvertLeavesNoOutput(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out.parquet")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stdout, stderr bytes.Buffer
	code := Run(ctx, []string{"convert", fixture("small.jsonl"), out}, Env{Stdout: &stdout, Stderr: &stderr})
	require.Equal(t, ExitError, code)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Empty(t, entries)
}

func TestInspectCommands(t *testing.T) {
	dir := t.TempDir()
	pq := filepath.Join(dir, "small.parquet")
	code, _, stderr := run(t, "convert", "--row-group-size", "2", fixture("small.jsonl"), pq)
	require.Equal(t, ExitOK, code, stderr)

	code, out, _ := run(t, "info", pq)
	require.Equal(t, ExitOK, code)
	require.Contains(t, out, "format       parquet")
	require.Contains(t, out, "rows         5")
	require.Contains(t, out, "row groups   3")
	require.Contains(t, out, "  id: int64")

	code, out, _ = run(t, "info", "--json", pq)
	require.Equal(t, ExitOK, code)
	var info fileInfo
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	require.Equal(t, int64(5), info.Rows)
	require.Len(t, info.Layout.RowGroups, 3)

	code, out, _ = run(t, "schema", fixture("small.jsonl"))
	require.Equal(t, ExitOK, code)
	require.True(t, strings.HasPrefix(out, "id: int64\ntext: utf8\nscore: float64\n"), out)

	code, out, _ = run(t, "head", "-n", "2", "--table", "--columns", "id,text", pq)
	require.Equal(t, ExitOK, code)
	require.Equal(t, "id  text\n1   hello\n2   héllo wörld\n", out)

	code, out, _ = run(t, "count", pq, fixture("small.jsonl"))
	require.Equal(t, ExitOK, code)
	require.Contains(t, out, "10  total")
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(b)
}
