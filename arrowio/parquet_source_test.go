package arrowio

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCoalesceRanges(t *testing.T) {
	cases := []struct {
		name        string
		in          []byteRange
		hole, limit int64
		want        []byteRange
	}{
		{"empty", nil, 10, 100, nil},
		{"adjacent", []byteRange{{0, 10}, {10, 5}}, 0, 100, []byteRange{{0, 15}}},
		{"unsorted with small hole", []byteRange{{20, 5}, {0, 10}}, 10, 100, []byteRange{{0, 25}}},
		{"hole too wide", []byteRange{{0, 10}, {21, 5}}, 10, 100, []byteRange{{0, 10}, {21, 5}}},
		{"overlapping", []byteRange{{0, 10}, {5, 3}, {8, 10}}, 0, 100, []byteRange{{0, 18}}},
		{"merged range over the limit", []byteRange{{0, 60}, {60, 60}}, 0, 100, []byteRange{{0, 60}, {60, 60}}},
		{"single range over the limit", []byteRange{{0, 200}, {200, 10}}, 0, 100, []byteRange{{0, 200}, {200, 10}}},
		{"empty ranges dropped", []byteRange{{0, 0}, {5, 5}}, 0, 100, []byteRange{{5, 5}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, coalesceRanges(tc.in, tc.hole, tc.limit))
		})
	}
}

// TestParquetSourceLocking checks which files get their ReadAt calls
// serialised and which are prebuffered.
func TestParquetSourceLocking(t *testing.T) {
	mem := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(mem, "/f", []byte("data"), 0o644))
	dir := t.TempDir()
	osFs := afero.NewOsFs()
	require.NoError(t, afero.WriteFile(osFs, dir+"/f", []byte("data"), 0o644))
	cases := []struct {
		name           string
		fsys           afero.Fs
		path           string
		locked, remote bool
	}{
		{"os file", osFs, dir + "/f", false, false},
		{"os file behind a base path", afero.NewBasePathFs(osFs, dir), "/f", false, false},
		{"in-memory file", mem, "/f", true, false},
		{"unknown file type", countingFs{mem, new(atomic.Int64)}, "/f", false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tc.fsys.Open(tc.path)
			require.NoError(t, err)
			defer f.Close()
			s, err := newParquetSource(f, DefaultPrebuffer)
			require.NoError(t, err)
			assert.Equal(t, tc.locked, s.mu != nil, "serialised")
			assert.Equal(t, tc.remote, s.remote, "prebuffered")
		})
	}
}

// holeFs serves files like countingFs, but a ReadAt touching bytes
// [from, to) reads nothing and reports io.EOF, as a file that changed under
// the reader would.
type holeFs struct {
	afero.Fs
	from, to int64
}

func (h holeFs) Open(name string) (afero.File, error) {
	f, err := countingFs{h.Fs, new(atomic.Int64)}.Open(name)
	if err != nil {
		return nil, err
	}
	return holeFile{f.(countingFile), h.from, h.to}, nil
}

type holeFile struct {
	countingFile
	from, to int64
}

func (h holeFile) ReadAt(p []byte, off int64) (int, error) {
	if off < h.to && off+int64(len(p)) > h.from {
		return 0, io.EOF
	}
	return h.countingFile.ReadAt(p, off)
}

// TestParquetPrebufferFailure checks that a failed prebuffer read is
// reported as a *PosError wrapping ErrCorrupt that names the row group.
func TestParquetPrebufferFailure(t *testing.T) {
	fsys := afero.NewMemMapFs()
	writeRoundTripFile(t, fsys, memory.DefaultAllocator, "/r.parquet", 8000, WithRowGroupSize(2000))
	st, err := fsys.Stat("/r.parquet")
	require.NoError(t, err)
	r, err := OpenParquet(holeFs{fsys, st.Size() / 2, st.Size() - footerTail}, "/r.parquet", WithColumns("id"))
	require.NoError(t, err)
	defer r.Close()
	var got error
	groups := 0
	for _, err := range r.Batches(context.Background()) {
		if err != nil {
			got = err
			break
		}
		groups++
	}
	require.Error(t, got)
	assert.ErrorIs(t, got, ErrCorrupt)
	var pe *PosError
	require.ErrorAs(t, got, &pe)
	assert.Equal(t, "/r.parquet", pe.Path)
	assert.Equal(t, groups, pe.RowGroup, "the first group that could not be read")
	assert.Greater(t, groups, 0, "the groups before the hole were read")
}

// TestParquetReadAheadStop stops reading after the first batch while the
// next row group is being fetched ahead; Close waits for the fetch.
func TestParquetReadAheadStop(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fsys := afero.NewMemMapFs()
	writeRoundTripFile(t, fsys, mem, "/r.parquet", 8000, WithRowGroupSize(2000))
	n := new(atomic.Int64)
	r, err := OpenParquet(countingFs{fsys, n}, "/r.parquet", WithAllocator(mem))
	require.NoError(t, err)
	for b, err := range r.Batches(context.Background()) {
		require.NoError(t, err)
		require.EqualValues(t, 2000, b.NumRows())
		break
	}
	require.NoError(t, r.Close())
	assert.Zero(t, r.src.bytes, "no buffer is held once iteration stopped")
}

// TestParquetPrefetch fetches row groups ahead with Prefetch and checks
// that their reads then come from memory, that nothing is fetched twice
// (a group fetched or being read), and that Close drops what was fetched.
func TestParquetPrefetch(t *testing.T) {
	fsys := afero.NewMemMapFs()
	writeRoundTripFile(t, fsys, memory.DefaultAllocator, "/r.parquet", 8000, WithRowGroupSize(2000))
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprintf("stream=%v", stream), func(t *testing.T) {
			fs, n := countReads(fsys, stream)
			r, err := OpenParquet(fs, "/r.parquet", WithColumns("id"))
			require.NoError(t, err)
			defer r.Close()
			opened := n.Load()
			reads := func() int64 {
				r.src.fetch.Wait() // fetches ahead run on their own goroutines
				return n.Load() - opened
			}
			r.Prefetch(1)
			r.Prefetch(1) // already fetched
			r.Prefetch(2)
			r.Prefetch(-1) // out of range
			r.Prefetch(4)
			assert.EqualValues(t, 2, reads())
			for k, g := range []int{1, 2, 0} {
				ids, err := groupIDs(t, r, []int{g})
				require.NoError(t, err)
				require.Len(t, ids, 2000)
				assert.EqualValues(t, 2000*g, ids[0])
				assert.EqualValues(t, []int64{2, 2, 3}[k], reads(), "after reading group %d", g)
			}
			r.Prefetch(3)
			require.NoError(t, r.Close())
			assert.Zero(t, r.src.bytes, "Close drops what was fetched ahead")
			r.Prefetch(3) // closed: nothing
		})
	}
}

// TestParquetPrefetchLocal checks that Prefetch does nothing on a local
// file.
func TestParquetPrefetchLocal(t *testing.T) {
	r := openRoundTripFile(t, "/r.parquet", 4000, WithRowGroupSize(2000))
	r.Prefetch(1)
	assert.False(t, r.ahead.has(1))
	assert.Zero(t, r.src.bytes)
}

// TestOpenParquetFooter reopens a file with the footer of a first open:
// nothing is read to open it, and the batches are the same. A footer of
// another file (another size) is ignored.
func TestOpenParquetFooter(t *testing.T) {
	fsys := afero.NewMemMapFs()
	writeRoundTripFile(t, fsys, memory.DefaultAllocator, "/r.parquet", 8000, WithRowGroupSize(2000))
	writeRoundTripFile(t, fsys, memory.DefaultAllocator, "/other.parquet", 100)
	first, err := OpenParquet(fsys, "/r.parquet")
	require.NoError(t, err)
	footer := first.Footer()
	want := collectBatches(t, first)
	require.NoError(t, first.Close())
	assert.Positive(t, footer.Size())

	n := new(atomic.Int64)
	r, err := OpenParquetFooter(countingFs{fsys, n}, "/r.parquet", footer)
	require.NoError(t, err)
	assert.Zero(t, n.Load(), "reads to open with a footer")
	assert.Equal(t, want, collectBatches(t, r))
	require.NoError(t, r.Close())

	other, err := OpenParquet(fsys, "/other.parquet")
	require.NoError(t, err)
	otherFooter := other.Footer()
	require.NoError(t, other.Close())
	r, err = OpenParquetFooter(countingFs{fsys, n}, "/r.parquet", otherFooter)
	require.NoError(t, err)
	assert.Positive(t, n.Load(), "the file's own footer is read")
	assert.Equal(t, want, collectBatches(t, r))
	require.NoError(t, r.Close())
}

// TestParquetStoredArrowSchema opens files whose footer carries the Arrow
// schema (ARROW:schema, as pyarrow writes), which the reader checks before
// pqarrow decodes it; a damaged entry is ErrCorrupt, not a crash.
func TestParquetStoredArrowSchema(t *testing.T) {
	md := arrow.NewMetadata([]string{"k"}, []string{"v"})
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.LargeString, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "Europe/Paris"}, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Float64, Nullable: true}), Nullable: true},
	}, &md)
	batch, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(
		`[{"id": 1, "s": "x", "ts": 5, "l": [1, 2], "st": {"a": 1.5}}, {"id": 2, "s": null, "ts": null, "l": null, "st": null}]`))
	require.NoError(t, err)
	defer batch.Release()
	var buf bytes.Buffer
	fw, err := pqarrow.NewFileWriter(schema, &buf, parquet.NewWriterProperties(),
		pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	require.NoError(t, err)
	require.NoError(t, fw.Write(batch))
	require.NoError(t, fw.Close())
	good := buf.Bytes()
	require.True(t, bytes.Contains(good, []byte("ARROW:schema")))

	fsys := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(fsys, "/good.parquet", good, 0o644))
	r, err := OpenParquet(fsys, "/good.parquet")
	require.NoError(t, err)
	assert.Equal(t, arrow.LARGE_STRING, r.Schema().Field(1).Type.ID(), "types come from the stored schema")
	assert.NotEmpty(t, collectBatches(t, r))
	require.NoError(t, r.Close())
	require.NoError(t, checkArrowSchemaFraming(r.pf.MetaData()))
}
