package arrowio

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// manyBatchFile writes an Arrow file of n one-row batches and returns its
// path.
func manyBatchFile(tb testing.TB, n int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "many.arrow")
	sizes := make([]int, n)
	for i := range sizes {
		sizes[i] = 1
	}
	writeArrowFile(tb, afero.NewOsFs(), path, FormatArrowFile, "", sizes...)
	return path
}

// BenchmarkOpenManyBatches opens a mapped file of 2000 batches: the cost
// of open per batch is reported as ns/batch.
func BenchmarkOpenManyBatches(b *testing.B) {
	const n = 2000
	path := manyBatchFile(b, n)
	for b.Loop() {
		f, err := OpenArrowFile(afero.NewOsFs(), path, WithAllocator(memory.DefaultAllocator))
		if err != nil {
			b.Fatal(err)
		}
		if f.NumBatches() != n {
			b.Fatal("batch count")
		}
		f.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/batch")
}

// BenchmarkOpenManyBatchesRows is BenchmarkOpenManyBatches with the row
// counts known (OpenArrowFileRows): no batch header is read.
func BenchmarkOpenManyBatchesRows(b *testing.B) {
	const n = 2000
	path := manyBatchFile(b, n)
	rows := make([]int64, n)
	for i := range rows {
		rows[i] = 1
	}
	for b.Loop() {
		f, err := OpenArrowFileRows(afero.NewOsFs(), path, rows, WithAllocator(memory.DefaultAllocator))
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/batch")
}

func TestOpenArrowFileRows(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.arrow")
	sizes := []int{30, 0, 45, 7}
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowFile, "", sizes...)
	rows := []int64{30, 0, 45, 7}
	for _, nommap := range []bool{false, true} {
		t.Run(fmt.Sprint("nommap=", nommap), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			eager, err := OpenArrowFile(afero.NewOsFs(), path, WithNoMmap(nommap), WithAllocator(mem))
			require.NoError(t, err)
			defer eager.Close()
			lazy, err := OpenArrowFileRows(afero.NewOsFs(), path, rows, WithNoMmap(nommap), WithAllocator(mem))
			require.NoError(t, err)
			defer lazy.Close()
			require.Equal(t, eager.NumBatches(), lazy.NumBatches())
			require.Equal(t, eager.NumRows(), lazy.NumRows())
			require.True(t, eager.Schema().Equal(lazy.Schema()))
			for i := range lazy.NumBatches() {
				require.Equal(t, eager.BatchRows(i), lazy.BatchRows(i))
				want, err := eager.BatchAt(i)
				require.NoError(t, err)
				got, err := lazy.BatchAt(i)
				require.NoError(t, err)
				requireBatchEqual(t, want, got)
				want.Release()
				got.Release()
			}
			require.Equal(t, eager.Mapped(), lazy.Mapped())
			require.Equal(t, !nommap && mmapSupported, lazy.Mapped())
		})
	}
}

func TestOpenArrowFileRowsMismatch(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.arrow")
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowFile, "", 10, 20)

	// Wrong number of batches: refused at open.
	_, err := OpenArrowFileRows(afero.NewOsFs(), path, []int64{30})
	require.ErrorIs(t, err, ErrCorrupt)
	var pe *PosError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, path, pe.Path)

	// Wrong count for batch 1: found when it is decoded.
	f, err := OpenArrowFileRows(afero.NewOsFs(), path, []int64{10, 21})
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, int64(31), f.NumRows())
	b, err := f.BatchAt(0)
	require.NoError(t, err)
	b.Release()
	_, err = f.BatchAt(1)
	require.ErrorIs(t, err, ErrCorrupt)
	require.ErrorAs(t, err, &pe)
	require.Equal(t, 1, pe.Batch)
}

// A damaged batch header is not read at open by OpenArrowFileRows; BatchAt
// reports it as an error naming the batch, without panicking.
func TestOpenArrowFileRowsDamagedHeader(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "a.arrow")
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowFile, "", 10, 20)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	_, blocks, err := func() ([]ipcBlock, []ipcBlock, error) {
		b, d, err := readFooter(bytes.NewReader(raw), int64(len(raw)))
		return d, b, err
	}()
	require.NoError(t, err)
	require.Len(t, blocks, 2)
	// Overwrite batch 1's flatbuffer with garbage (after the 8-byte prefix).
	at := blocks[1].Offset + 8
	for k := range int64(16) {
		raw[at+k] = 0xff
	}
	bad := filepath.Join(dir, "bad.arrow")
	require.NoError(t, os.WriteFile(bad, raw, 0o644))

	_, err = OpenArrowFile(afero.NewOsFs(), bad)
	require.ErrorIs(t, err, ErrCorrupt, "eager open reads every header")

	for _, nommap := range []bool{false, true} {
		f, err := OpenArrowFileRows(afero.NewOsFs(), bad, []int64{10, 20}, WithNoMmap(nommap))
		require.NoError(t, err)
		b, err := f.BatchAt(0)
		require.NoError(t, err)
		b.Release()
		_, err = f.BatchAt(1)
		require.ErrorIs(t, err, ErrCorrupt)
		var pe *PosError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, 1, pe.Batch)
		require.Equal(t, bad, pe.Path)
		require.False(t, f.Mapped())
		require.NoError(t, f.Close())
	}
}
