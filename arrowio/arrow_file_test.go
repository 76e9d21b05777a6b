package arrowio

import (
	"bytes"
	"context"
	"encoding/binary"
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
		{"unwrapping wrapper mapped", wrappingFs{osfs}, path, nil, mmapSupported},
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

func makeDictBatch(tb testing.TB, mem memory.Allocator, n int) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, dictSchema)
	defer b.Release()
	for i := range n {
		b.Field(0).(*array.Int32Builder).Append(int32(i))
		require.NoError(tb, b.Field(1).(*array.BinaryDictionaryBuilder).AppendString([]string{"cat", "dog", "eel"}[i%3]))
	}
	return b.NewRecordBatch()
}

// TestArrowFileDictionary covers files with dictionary fields, which
// arrow-go's mapped reader cannot open: they must read, zero-copy where
// mapped (dictionaries included), and keep the mapping alive after Close.
func TestArrowFileDictionary(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.arrow")
	w, err := Create(afero.NewOsFs(), path, dictSchema)
	require.NoError(t, err)
	want := makeDictBatch(t, memory.DefaultAllocator, 30)
	defer want.Release()
	want2 := makeDictBatch(t, memory.DefaultAllocator, 7)
	defer want2.Release()
	require.NoError(t, w.Write(want))
	require.NoError(t, w.Write(want2))
	require.NoError(t, w.Close())
	for _, nommap := range []bool{false, true} {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		f, err := OpenArrowFile(afero.NewOsFs(), path, WithNoMmap(nommap), WithAllocator(mem))
		require.NoError(t, err)
		require.Equal(t, !nommap && mmapSupported, f.Mapped())
		require.Equal(t, int64(37), f.NumRows())
		got2, err := f.BatchAt(1)
		require.NoError(t, err)
		got, err := f.BatchAt(0)
		require.NoError(t, err)
		require.NoError(t, f.Close())
		// Read after Close: the mapping must still be there.
		requireBatchEqual(t, want, got)
		requireBatchEqual(t, want2, got2)
		if f.Mapped() {
			var bufs [][]byte
			bufferAddrs(got.Column(1).Data(), &bufs)
			bufferAddrs(got.Column(1).(*array.Dictionary).Dictionary().Data(), &bufs)
			require.NotEmpty(t, bufs)
			for _, b := range bufs {
				require.True(t, f.m.contains(b), "dictionary buffer not inside the mapping")
			}
			require.False(t, f.m.unmapped.Load())
		}
		got.Release()
		got2.Release()
		if f.m != nil {
			require.True(t, f.m.unmapped.Load())
		}
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
	memfs := afero.NewMemMapFs()
	writeArrowFile(t, memfs, "/a.arrow", FormatArrowFile, "", sizes...)
	for _, tc := range []struct {
		name string
		fsys afero.Fs
		path string
	}{{"mapped", afero.NewOsFs(), path}, {"memfs", memfs, "/a.arrow"}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := OpenArrowFile(tc.fsys, tc.path)
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
			if f.m != nil {
				require.True(t, f.m.unmapped.Load())
			}
		})
	}
}

// TestArrowFileLargeBatch writes one batch whose body exceeds arrow-go's
// default 256 MiB limit; a trusted local file must still read.
func TestArrowFileLargeBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 272 MiB file")
	}
	const n = 272 << 20 / 8
	data := make([]byte, n*8)
	for i := 0; i < len(data); i += 4096 {
		data[i] = byte(i >> 12)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	col := array.NewInt64Data(array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, memory.NewBufferBytes(data)}, nil, 0, 0))
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, n)
	col.Release()
	path := filepath.Join(t.TempDir(), "big.arrow")
	w, err := Create(afero.NewOsFs(), path, schema)
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	rec.Release()
	for _, nommap := range []bool{false, true} {
		f, err := OpenArrowFile(afero.NewOsFs(), path, WithNoMmap(nommap))
		require.NoError(t, err)
		got, err := f.BatchAt(0)
		require.NoError(t, err)
		require.Equal(t, int64(n), got.NumRows())
		require.Equal(t, int64(data[4096*9]), got.Column(0).(*array.Int64).Value(4096*9/8)&0xff)
		got.Release()
		require.NoError(t, f.Close())
	}
}

// patchUncompressedSize rewrites the uncompressed-size prefix of the first
// compressed buffer of the first record batch message in data, found by
// walking messages from start.
func patchUncompressedSize(t *testing.T, data []byte, start int64, size uint64) {
	t.Helper()
	off := start
	for {
		fb, end, err := messagePrefix(data, off)
		require.NoError(t, err)
		require.NotNil(t, fb, "no record batch found")
		info, err := parseMessage(fb)
		require.NoError(t, err)
		if info.Kind == messageHeaderRecordBatch {
			msg, _ := fbRoot(fb)
			rb, _, _ := msg.table(2)
			n, at, err := rb.vector(2, 16)
			require.NoError(t, err)
			for k := range n {
				e := rb.buf[at+16*k:]
				bo := int64(binary.LittleEndian.Uint64(e))
				bl := int64(binary.LittleEndian.Uint64(e[8:]))
				p := data[end+bo:]
				if bl >= 8 && int64(binary.LittleEndian.Uint64(p)) != -1 {
					binary.LittleEndian.PutUint64(p, size)
					return
				}
			}
			t.Fatal("no compressed buffer")
		}
		off = end + info.BodyLen
	}
}

// TestArrowCompressedSizeBomb checks that a compressed buffer claiming an
// absurd uncompressed size is reported as corrupt instead of being
// allocated (which would kill the process).
func TestArrowCompressedSizeBomb(t *testing.T) {
	dir := t.TempDir()
	for _, format := range []Format{FormatArrowFile, FormatArrowStream} {
		t.Run(format.String(), func(t *testing.T) {
			path := filepath.Join(dir, "bomb."+format.String())
			writeArrowFile(t, afero.NewOsFs(), path, format, "zstd", 400)
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			start := int64(0)
			if format == FormatArrowFile {
				start = fileStreamStart
			}
			patchUncompressedSize(t, raw, start, 1<<40) // under Go's allocation cap: unguarded, a fatal out-of-memory
			require.NoError(t, os.WriteFile(path, raw, 0o644))
			for _, nommap := range []bool{false, true} {
				if format == FormatArrowFile {
					f, err := OpenArrowFile(afero.NewOsFs(), path, WithNoMmap(nommap))
					require.NoError(t, err)
					_, err = f.BatchAt(0)
					require.ErrorIs(t, err, ErrCorrupt)
					require.Contains(t, err.Error(), "batch 0")
					require.NoError(t, f.Close())
				}
				r, err := Open(afero.NewOsFs(), path, WithNoMmap(nommap))
				require.NoError(t, err)
				var last error
				for _, err := range r.Batches(context.Background()) {
					last = err
				}
				require.ErrorIs(t, last, ErrCorrupt)
				require.NoError(t, r.Close())
			}
		})
	}
}

// wrappingFs hands out files wrapped in a FileUnwrapper, as a byte-counting
// filesystem does.
type wrappingFs struct{ afero.Fs }

func (w wrappingFs) Open(name string) (afero.File, error) {
	f, err := w.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return wrappedFile{f}, nil
}

type wrappedFile struct{ afero.File }

func (w wrappedFile) Unwrap() afero.File { return w.File }
