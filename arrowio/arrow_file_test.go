package arrowio

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// testSchema covers flat, variable-length, nested and nullable columns.
var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "emb", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32)},
	{Name: "meta", Type: arrow.StructOf(
		arrow.Field{Name: "ok", Type: arrow.FixedWidthTypes.Boolean},
		arrow.Field{Name: "tag", Type: arrow.BinaryTypes.String, Nullable: true},
	)},
}, func() *arrow.Metadata { m := arrow.NewMetadata([]string{"origin"}, []string{"test"}); return &m }())

// makeBatch builds n rows starting at id first, through mem.
func makeBatch(mem memory.Allocator, first, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, testSchema)
	defer b.Release()
	ids := b.Field(0).(*array.Int64Builder)
	scores := b.Field(1).(*array.Float64Builder)
	texts := b.Field(2).(*array.StringBuilder)
	embs := b.Field(3).(*array.ListBuilder)
	ev := embs.ValueBuilder().(*array.Float32Builder)
	meta := b.Field(4).(*array.StructBuilder)
	oks := meta.FieldBuilder(0).(*array.BooleanBuilder)
	tags := meta.FieldBuilder(1).(*array.StringBuilder)
	for i := first; i < first+n; i++ {
		ids.Append(int64(i))
		if i%7 == 3 {
			scores.AppendNull()
		} else {
			scores.Append(float64(i) / 4)
		}
		if i%11 == 5 {
			texts.AppendNull()
		} else {
			texts.Append(fmt.Sprintf("row %d says %q", i, "héllo"))
		}
		embs.Append(true)
		for k := range i % 4 {
			ev.Append(float32(i*10 + k))
		}
		meta.Append(true)
		oks.Append(i%2 == 0)
		if i%3 == 0 {
			tags.AppendNull()
		} else {
			tags.Append(fmt.Sprint("t", i%5))
		}
	}
	return b.NewRecordBatch()
}

// writeArrowFile writes batches of the given sizes to path on fsys with a
// checked allocator on the writer side.
func writeArrowFile(t testing.TB, fsys afero.Fs, path string, format Format, codec string, sizes ...int) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	w, err := Create(fsys, path, testSchema, WithOutputFormat(format, CompressionNone),
		WithCodec(codec, 0), WithWriteAllocator(mem))
	require.NoError(t, err)
	defer w.Abort()
	first := 0
	for _, n := range sizes {
		rec := makeBatch(mem, first, n)
		require.NoError(t, w.Write(rec))
		rec.Release()
		first += n
	}
	require.NoError(t, w.Close())
}

func requireBatchEqual(t *testing.T, want, got arrow.RecordBatch) {
	t.Helper()
	require.True(t, want.Schema().Equal(got.Schema()), "schema %s vs %s", want.Schema(), got.Schema())
	require.True(t, array.RecordEqual(want, got), "batches differ:\nwant %v\ngot  %v", want, got)
}

// bufferAddrs lists the data pointers of every non-empty buffer of d.
func bufferAddrs(d arrow.ArrayData, out *[][]byte) {
	for _, b := range d.Buffers() {
		if b != nil && b.Len() > 0 {
			*out = append(*out, b.Bytes())
		}
	}
	for _, c := range d.Children() {
		bufferAddrs(c, out)
	}
}

func TestArrowFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	osfs := afero.NewOsFs()
	path := filepath.Join(dir, "a.arrow")
	sizes := []int{100, 1, 37, 0, 250}
	writeArrowFile(t, osfs, path, FormatArrowFile, "", sizes...)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	memfs := afero.NewMemMapFs()
	require.NoError(t, afero.WriteFile(memfs, "/a.arrow", raw, 0o644))

	cases := []struct {
		name       string
		fsys       afero.Fs
		path       string
		opts       []ReadOption
		wantMapped bool
	}{
		{"os mapped", osfs, path, nil, mmapSupported},
		{"os no mmap", osfs, path, []ReadOption{WithNoMmap(true)}, false},
		{"basepath mapped", afero.NewBasePathFs(osfs, dir), "a.arrow", nil, mmapSupported},
		{"readonly mapped", afero.NewReadOnlyFs(osfs), path, nil, mmapSupported},
		{"memfs", memfs, "/a.arrow", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			f, err := OpenArrowFile(tc.fsys, tc.path, append(tc.opts, WithAllocator(mem))...)
			require.NoError(t, err)
			defer f.Close()
			require.Equal(t, tc.wantMapped, f.Mapped())
			require.Equal(t, len(sizes), f.NumBatches())
			require.Equal(t, int64(388), f.NumRows())
			require.True(t, testSchema.Equal(f.Schema()))
			require.Equal(t, "test", f.Metadata().Values()[0])
			first := 0
			for i, n := range sizes {
				require.Equal(t, int64(n), f.BatchRows(i))
				got, err := f.BatchAt(i)
				require.NoError(t, err)
				want := makeBatch(memory.DefaultAllocator, first, n)
				requireBatchEqual(t, want, got)
				if f.Mapped() {
					var bufs [][]byte
					for _, c := range got.Columns() {
						bufferAddrs(c.Data(), &bufs)
					}
					if n > 0 {
						require.NotEmpty(t, bufs)
					}
					for _, b := range bufs {
						require.True(t, f.m.contains(b), "buffer at %p not inside the mapping", unsafe.SliceData(b))
					}
				}
				got.Release()
				want.Release()
				first += n
			}
		})
	}
}

func TestArrowFileMappingOutlivesClose(t *testing.T) {
	if !mmapSupported {
		t.Skip("no mmap here")
	}
	var mu sync.Mutex
	unmapped := 0
	old := unmapFunc
	unmapFunc = func(b []byte) error {
		mu.Lock()
		unmapped++
		mu.Unlock()
		return old(b)
	}
	defer func() { unmapFunc = old }()
	count := func() int { mu.Lock(); defer mu.Unlock(); return unmapped }

	path := filepath.Join(t.TempDir(), "a.arrow")
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowFile, "", 50, 60)
	f, err := OpenArrowFile(afero.NewOsFs(), path)
	require.NoError(t, err)
	require.True(t, f.Mapped())
	b0, err := f.BatchAt(0)
	require.NoError(t, err)
	b1, err := f.BatchAt(1)
	require.NoError(t, err)
	// An array retained from a batch, and a slice of another.
	text := b0.Column(2)
	text.Retain()
	slice := b1.NewSlice(10, 20)

	require.NoError(t, f.Close())
	require.NoError(t, f.Close(), "Close is idempotent")
	_, err = f.BatchAt(0)
	require.ErrorIs(t, err, ErrClosed)
	require.Equal(t, 0, count(), "unmapped while batches are alive")

	// Reading after Close touches the mapping; a premature unmap would crash.
	want := makeBatch(memory.DefaultAllocator, 0, 50)
	defer want.Release()
	requireBatchEqual(t, want, b0)
	b0.Release()
	b1.Release()
	require.Equal(t, 0, count(), "unmapped while a slice and an array are alive")

	require.Equal(t, want.Column(2).(*array.String).Value(49), text.(*array.String).Value(49))
	text.Release()
	require.Equal(t, 0, count())
	require.Equal(t, int64(10), slice.Column(0).(*array.Int64).Value(0)-50)
	slice.Release()
	require.Equal(t, 1, count(), "mapping must be unmapped after the last release")
	require.True(t, f.m.unmapped.Load())
	require.NoError(t, f.m.err)
}

func TestArrowFileUnmapWithoutBatches(t *testing.T) {
	if !mmapSupported {
		t.Skip("no mmap here")
	}
	path := filepath.Join(t.TempDir(), "a.arrow")
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowFile, "", 5)
	f, err := OpenArrowFile(afero.NewOsFs(), path)
	require.NoError(t, err)
	b, err := f.BatchAt(0)
	require.NoError(t, err)
	b.Release()
	require.False(t, f.m.unmapped.Load())
	require.NoError(t, f.Close())
	require.True(t, f.m.unmapped.Load())
}

func TestArrowFileCodecs(t *testing.T) {
	for _, codec := range []string{"none", "lz4", "zstd"} {
		t.Run(codec, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "a.arrow")
			writeArrowFile(t, afero.NewOsFs(), path, FormatArrowFile, codec, 300, 200)
			for _, nommap := range []bool{false, true} {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				f, err := OpenArrowFile(afero.NewOsFs(), path, WithAllocator(mem), WithNoMmap(nommap))
				require.NoError(t, err)
				require.Equal(t, codec == "none" && !nommap && mmapSupported, f.Mapped())
				for i, first := range []int{0, 300} {
					got, err := f.BatchAt(i)
					require.NoError(t, err)
					want := makeBatch(memory.DefaultAllocator, first, int(f.BatchRows(i)))
					requireBatchEqual(t, want, got)
					got.Release()
					want.Release()
				}
				require.NoError(t, f.Close())
				mem.AssertSize(t, 0)
			}
		})
	}
}

func TestArrowWriterRejectsCodec(t *testing.T) {
	_, err := NewWriter(&bytes.Buffer{}, testSchema, WithOutputFormat(FormatArrowFile, CompressionNone), WithCodec("snappy", 0))
	require.ErrorIs(t, err, ErrUnsupported)
}

func TestArrowStreamWriter(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testSchema, WithOutputFormat(FormatArrowStream, CompressionNone))
	require.NoError(t, err)
	want := makeBatch(memory.DefaultAllocator, 0, 40)
	defer want.Release()
	require.NoError(t, w.Write(want))
	require.NoError(t, w.Close())
	r, err := ipc.NewReader(&buf)
	require.NoError(t, err)
	defer r.Release()
	require.True(t, r.Next())
	requireBatchEqual(t, want, r.RecordBatch())
	require.False(t, r.Next())
	require.NoError(t, r.Err())
}

// dictSchema has a dictionary-encoded column, which arrow-go's mapped
// reader cannot open.
var dictSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int32},
	{Name: "label", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}},
}, nil)

func makeDictBatch(mem memory.Allocator, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, dictSchema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int32Builder).Append(int32(i))
		require.NoError(nil, b.Field(1).(*array.BinaryDictionaryBuilder).AppendString([]string{"cat", "dog", "eel"}[i%3]))
	}
	return b.NewRecordBatch()
}

func TestArrowFileDictionaryNoPanic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.arrow")
	w, err := Create(afero.NewOsFs(), path, dictSchema)
	require.NoError(t, err)
	want := makeDictBatch(memory.DefaultAllocator, 30)
	defer want.Release()
	require.NoError(t, w.Write(want))
	require.NoError(t, w.Close())
	for _, nommap := range []bool{false, true} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		f, err := OpenArrowFile(afero.NewOsFs(), path, WithNoMmap(nommap), WithAllocator(mem))
		require.NoError(t, err)
		require.False(t, f.Mapped())
		got, err := f.BatchAt(0)
		require.NoError(t, err)
		requireBatchEqual(t, want, got)
		got.Release()
		require.NoError(t, f.Close())
		mem.AssertSize(t, 0)
	}
}

func TestArrowFileProjection(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.arrow")
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowFile, "", 20)
	f, err := OpenArrowFile(afero.NewOsFs(), path, WithColumns("text", "id"))
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{"text", "id"}, fieldNames(f.Schema()))
	got, err := f.BatchAt(0)
	require.NoError(t, err)
	defer got.Release()
	require.Equal(t, int64(2), got.NumCols())
	require.Equal(t, int64(19), got.Column(1).(*array.Int64).Value(19))

	_, err = OpenArrowFile(afero.NewOsFs(), path, WithColumns("nope"))
	require.ErrorIs(t, err, ErrSchema)
}

func TestArrowFileCorrupt(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "a.arrow")
	writeArrowFile(t, afero.NewOsFs(), good, FormatArrowFile, "", 30, 30)
	raw, err := os.ReadFile(good)
	require.NoError(t, err)

	flip := func(at int) []byte {
		b := bytes.Clone(raw)
		b[at] ^= 0xff
		return b
	}
	cases := map[string][]byte{
		"empty":          {},
		"magic only":     []byte("ARROW1\x00\x00ARROW1"),
		"truncated tail": raw[:len(raw)-3],
		"truncated half": raw[:len(raw)/2],
		"footer length":  flip(len(raw) - 8),
		"not arrow":      bytes.Repeat([]byte("x"), 200),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name+".arrow")
			require.NoError(t, os.WriteFile(p, data, 0o644))
			for _, nommap := range []bool{false, true} {
				f, err := OpenArrowFile(afero.NewOsFs(), p, WithNoMmap(nommap))
				if err == nil {
					// Damage that the footer does not reveal must show in a batch.
					for i := range f.NumBatches() {
						if b, err := f.BatchAt(i); err == nil {
							b.Release()
						}
					}
					f.Close()
					t.Fatalf("corrupt file opened without error")
				}
				var pe *PosError
				require.True(t, errors.As(err, &pe), "%T %v", err, err)
				require.Equal(t, p, pe.Path)
				require.ErrorIs(t, err, ErrCorrupt)
			}
		})
	}
}

func TestArrowFileConcurrentBatchAt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.arrow")
	sizes := []int{64, 64, 64, 64, 64, 64, 64, 64}
	writeArrowFile(t, afero.NewOsFs(), path, FormatArrowFile, "", sizes...)
	f, err := OpenArrowFile(afero.NewOsFs(), path)
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Go(func() {
			for k := range 8 {
				i := (g + k) % f.NumBatches()
				b, err := f.BatchAt(i)
				if err != nil {
					errs <- err
					return
				}
				if v := b.Column(0).(*array.Int64).Value(0); v != int64(i*64) {
					errs <- fmt.Errorf("batch %d starts at %d", i, v)
				}
				b.Release()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.NoError(t, f.Close())
	if mmapSupported {
		require.True(t, f.m.unmapped.Load())
	}
}
