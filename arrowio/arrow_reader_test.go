package arrowio

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// collect reads every batch of r, checking each against its row offset.
func collectIDs(t *testing.T, r Reader) (sizes []int64) {
	t.Helper()
	next := int64(0)
	for rec, err := range r.Batches(context.Background()) {
		require.NoError(t, err)
		ids := rec.Column(0).(*array.Int64)
		for i := range ids.Len() {
			require.Equal(t, next, ids.Value(i))
			next++
		}
		sizes = append(sizes, rec.NumRows())
	}
	return sizes
}

func TestOpenArrowSniffsLayout(t *testing.T) {
	dir := t.TempDir()
	osfs := afero.NewOsFs()
	// A stream named like Hugging Face's save_to_disk shards, and a file
	// named like a stream: the content decides, not the name.
	writeArrowFile(t, osfs, filepath.Join(dir, "s.arrows"), FormatArrowStream, "", 100, 30)
	require.NoError(t, os.Rename(filepath.Join(dir, "s.arrows"), filepath.Join(dir, "data-00000-of-00001.arrow")))
	writeArrowFile(t, osfs, filepath.Join(dir, "f.arrow"), FormatArrowFile, "", 100, 30)
	require.NoError(t, os.Rename(filepath.Join(dir, "f.arrow"), filepath.Join(dir, "f.stream")))

	cases := []struct {
		file     string
		nommap   bool
		format   Format
		rows     int64
		rowsKnow bool
	}{
		// Mapped streams count rows from message headers.
		{"data-00000-of-00001.arrow", false, FormatArrowStream, 130, mmapSupported},
		{"data-00000-of-00001.arrow", true, FormatArrowStream, 0, false},
		{"f.stream", false, FormatArrowFile, 130, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s/nommap=%v", tc.file, tc.nommap), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r, err := Open(osfs, filepath.Join(dir, tc.file), WithBatchSize(40), WithAllocator(mem), WithNoMmap(tc.nommap))
			require.NoError(t, err)
			require.Equal(t, tc.format, r.Format())
			n, ok := r.NumRows()
			require.Equal(t, tc.rowsKnow, ok)
			require.Equal(t, tc.rows, n)
			require.True(t, testSchema.Equal(r.Schema()))
			// Re-slicing to at most 40 rows, twice (Batches restarts).
			for range 2 {
				require.Equal(t, []int64{40, 40, 20, 30}, collectIDs(t, r))
			}
			c, err := Count(context.Background(), r)
			require.NoError(t, err)
			require.Equal(t, int64(130), c)
			require.NoError(t, r.Close())
		})
	}
}

func TestOpenArrowProjectionAndEarlyStop(t *testing.T) {
	dir := t.TempDir()
	osfs := afero.NewOsFs()
	for _, format := range []Format{FormatArrowFile, FormatArrowStream} {
		t.Run(format.String(), func(t *testing.T) {
			path := filepath.Join(dir, "p."+format.String())
			writeArrowFile(t, osfs, path, format, "", 50, 50)
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r, err := Open(osfs, path, WithColumns("id", "text"), WithBatchSize(10), WithAllocator(mem))
			require.NoError(t, err)
			require.Equal(t, []string{"id", "text"}, fieldNames(r.Schema()))
			seen := 0
			for rec, err := range r.Batches(context.Background()) {
				require.NoError(t, err)
				require.Equal(t, r.Schema(), rec.Schema())
				if seen++; seen == 3 {
					break
				}
			}
			require.NoError(t, r.Close())

			_, err = Open(osfs, path, WithColumns("missing"))
			require.ErrorIs(t, err, ErrSchema)
		})
	}
}

func TestOpenArrowCancelled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.arrows")
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowStream, "", 10)
	r, err := Open(afero.NewOsFs(), path)
	require.NoError(t, err)
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, err := range r.Batches(ctx) {
		require.ErrorIs(t, err, context.Canceled)
	}
}

func TestOpenArrowStreamCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.arrows")
	writeArrowFile(t, afero.NewOsFs(), good, FormatArrowStream, "", 30, 30, 30)
	raw, err := os.ReadFile(good)
	require.NoError(t, err)

	t.Run("empty", func(t *testing.T) {
		p := filepath.Join(dir, "empty.arrows")
		require.NoError(t, os.WriteFile(p, nil, 0o644))
		_, err := Open(afero.NewOsFs(), p)
		require.ErrorIs(t, err, ErrCorrupt)
		var pe *PosError
		require.True(t, errors.As(err, &pe))
		require.Equal(t, p, pe.Path)
	})
	t.Run("truncated body", func(t *testing.T) {
		p := filepath.Join(dir, "trunc.arrows")
		require.NoError(t, os.WriteFile(p, raw[:len(raw)*2/3], 0o644))
		r, err := Open(afero.NewOsFs(), p)
		require.NoError(t, err, "the schema is intact")
		defer r.Close()
		var last error
		for _, err := range r.Batches(context.Background()) {
			last = err
		}
		require.ErrorIs(t, last, ErrCorrupt)
		pe, ok := errors.AsType[*PosError](last)
		require.True(t, ok)
		require.GreaterOrEqual(t, pe.Batch, 1)
		require.Contains(t, last.Error(), "batch ")
	})
}

func TestOpenArrowNonOSFs(t *testing.T) {
	// Streams and files both read from an in-memory filesystem.
	memfs := afero.NewMemMapFs()
	writeArrowFile(t, memfs, "/a.arrow", FormatArrowFile, "zstd", 70)
	writeArrowFile(t, memfs, "/b.arrows", FormatArrowStream, "lz4", 70)
	for _, p := range []string{"/a.arrow", "/b.arrows"} {
		r, err := Open(memfs, p)
		require.NoError(t, err)
		require.Equal(t, []int64{70}, collectIDs(t, r))
		require.NoError(t, r.Close())
	}
}

// TestOpenArrowStreamMapped checks that batches of a mapped stream alias
// the mapping and outlive the reader.
func TestOpenArrowStreamMapped(t *testing.T) {
	if !mmapSupported {
		t.Skip("no mmap here")
	}
	path := filepath.Join(t.TempDir(), "s.arrows")
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowStream, "", 20, 30)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	r, err := Open(afero.NewOsFs(), path, WithAllocator(mem), WithColumns("text", "id"))
	require.NoError(t, err)
	m := r.(*arrowStreamReader).m
	require.NotNil(t, m)
	var kept []arrow.RecordBatch
	for rec, err := range r.Batches(context.Background()) {
		require.NoError(t, err)
		var bufs [][]byte
		for _, c := range rec.Columns() {
			bufferAddrs(c.Data(), &bufs)
		}
		for _, b := range bufs {
			require.True(t, m.contains(b))
		}
		rec.Retain()
		kept = append(kept, rec)
	}
	require.NoError(t, r.Close())
	for _, err := range r.Batches(context.Background()) {
		require.ErrorIs(t, err, ErrClosed)
	}
	require.False(t, m.unmapped.Load())
	require.Len(t, kept, 2)
	require.Equal(t, int64(29), kept[1].Column(1).(*array.Int64).Value(9))
	require.Equal(t, "row 48 says \"héllo\"", kept[1].Column(0).(*array.String).Value(28))
	for _, k := range kept {
		k.Release()
	}
	require.True(t, m.unmapped.Load())
}
