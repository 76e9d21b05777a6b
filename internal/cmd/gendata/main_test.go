package main

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/quiverdata/quiver/internal/datagen"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func want(t *testing.T, cfg datagen.Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := datagen.WriteJSONL(&buf, cfg)
	require.NoError(t, err)
	return buf.Bytes()
}

func TestGendataFiles(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		cfg    datagen.Config
		decode func(io.Reader) (io.Reader, error)
	}{
		{"plain rows", []string{"-rows", "50", "-seed", "4", "-o", "out.jsonl"}, datagen.Config{Seed: 4, Rows: 50}, nil},
		{"gzip size", []string{"-size", "20KB", "-o", "out.jsonl.gz"}, datagen.Config{Seed: 1, Bytes: 20000},
			func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) }},
		{"zstd rows", []string{"-rows", "30", "-o", "out.jsonl.zst"}, datagen.Config{Seed: 1, Rows: 30},
			func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			var stderr bytes.Buffer
			require.NoError(t, run(tt.args, fsys, io.Discard, &stderr))
			assert.Contains(t, stderr.String(), "rows")
			path := tt.args[len(tt.args)-1]
			data, err := afero.ReadFile(fsys, path)
			require.NoError(t, err)
			if tt.decode != nil {
				r, err := tt.decode(bytes.NewReader(data))
				require.NoError(t, err)
				data, err = io.ReadAll(r)
				require.NoError(t, err)
			}
			assert.Equal(t, want(t, tt.cfg), data)
			entries, err := afero.ReadDir(fsys, ".")
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temporary file is left behind")
		})
	}
}

func TestGendataStdout(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run([]string{"-rows", "5", "-o", "-", "-q"}, afero.NewMemMapFs(), &out, io.Discard))
	assert.Equal(t, want(t, datagen.Config{Seed: 1, Rows: 5}), out.Bytes())
}

func TestGendataUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-o", "x.jsonl"},
		{"-rows", "5"},
		{"-rows", "5", "-size", "1MB", "-o", "x"},
		{"-size", "lots", "-o", "x"},
		{"-rows", "-3", "-o", "x"},
		{"-rows", "5", "-o", "x", "extra"},
		{"-bogus"},
	} {
		fsys := afero.NewMemMapFs()
		err := run(args, fsys, io.Discard, io.Discard)
		assert.Error(t, err, strings.Join(args, " "))
		entries, _ := afero.ReadDir(fsys, ".")
		assert.Empty(t, entries, "nothing written for %v", args)
	}
}

func TestGendataMissingDirectory(t *testing.T) {
	fsys := afero.NewReadOnlyFs(afero.NewMemMapFs())
	err := run([]string{"-rows", "5", "-o", "dir/out.jsonl"}, fsys, io.Discard, io.Discard)
	assert.Error(t, err)
}
