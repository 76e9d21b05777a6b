package arrowio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	pgo "github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// roundTripSchema covers the Arrow types the Parquet writer supports.
var roundTripSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "i8", Type: arrow.PrimitiveTypes.Int8, Nullable: true},
	{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	{Name: "f32", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	{Name: "text", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "big", Type: arrow.BinaryTypes.LargeString, Nullable: true},
	{Name: "raw", Type: arrow.BinaryTypes.Binary, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "tsn", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
	{Name: "dec", Type: &arrow.Decimal128Type{Precision: 20, Scale: 4}, Nullable: true},
	{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	{Name: "emb", Type: arrow.FixedSizeListOf(4, arrow.PrimitiveTypes.Float32), Nullable: true},
	{Name: "meta", Type: arrow.StructOf(
		arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		arrow.Field{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
	), Nullable: true},
	{Name: "attrs", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
	{Name: "nested", Type: arrow.ListOf(arrow.ListOf(arrow.PrimitiveTypes.Int16)), Nullable: true},
}, nil)

// buildRoundTripBatch builds n rows starting at id start; every 7th row
// holds nulls in the nullable columns.
func buildRoundTripBatch(t testing.TB, mem memory.Allocator, start, n int) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(mem, roundTripSchema)
	defer b.Release()
	for i := start; i < start+n; i++ {
		null := i%7 == 3
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if null {
			for j := 1; j < len(roundTripSchema.Fields()); j++ {
				b.Field(j).AppendNull()
			}
			continue
		}
		b.Field(1).(*array.Int8Builder).Append(int8(i % 100))
		b.Field(2).(*array.Uint32Builder).Append(uint32(i) * 3)
		b.Field(3).(*array.Float32Builder).Append(float32(i) / 3)
		b.Field(4).(*array.Float64Builder).Append(float64(i) * 1.5)
		b.Field(5).(*array.BooleanBuilder).Append(i%2 == 0)
		b.Field(6).(*array.StringBuilder).Append(fmt.Sprintf("row %d ✓", i))
		b.Field(7).(*array.LargeStringBuilder).Append(strings.Repeat("x", i%5))
		b.Field(8).(*array.BinaryBuilder).Append([]byte{byte(i), 0, byte(i >> 8)})
		b.Field(9).(*array.Date32Builder).Append(arrow.Date32(19000 + i))
		b.Field(10).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(i) * 1_000_003))
		b.Field(11).(*array.TimestampBuilder).Append(arrow.Timestamp(int64(i)*7 + 1))
		b.Field(12).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i)*10007 - 5000))
		lb := b.Field(13).(*array.ListBuilder)
		lb.Append(true)
		for k := 0; k < i%3; k++ {
			lb.ValueBuilder().(*array.StringBuilder).Append(fmt.Sprintf("t%d", k))
		}
		fb := b.Field(14).(*array.FixedSizeListBuilder)
		fb.Append(true)
		for k := 0; k < 4; k++ {
			fb.ValueBuilder().(*array.Float32Builder).Append(float32(i*4 + k))
		}
		sb := b.Field(15).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Int32Builder).Append(int32(-i))
		if i%5 == 0 {
			sb.FieldBuilder(1).AppendNull()
		} else {
			sb.FieldBuilder(1).(*array.StringBuilder).Append("s")
		}
		mb := b.Field(16).(*array.MapBuilder)
		mb.Append(true)
		for k := 0; k < i%2+1; k++ {
			mb.KeyBuilder().(*array.StringBuilder).Append(fmt.Sprintf("k%d", k))
			mb.ItemBuilder().(*array.Int64Builder).Append(int64(i * k))
		}
		nb := b.Field(17).(*array.ListBuilder)
		nb.Append(true)
		inner := nb.ValueBuilder().(*array.ListBuilder)
		for k := 0; k < i%3; k++ {
			inner.Append(true)
			inner.ValueBuilder().(*array.Int16Builder).Append(int16(k))
		}
	}
	return b.NewRecordBatch()
}

// writeAll writes recs to w and closes it. On the first failed Write it
// aborts w and returns that error; otherwise it returns Close's error.
func writeAll(w Writer, recs []arrow.RecordBatch) error {
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// writeParquet writes batches to path on fsys through Create.
func writeParquet(t testing.TB, fsys afero.Fs, path string, schema *arrow.Schema, batches []arrow.RecordBatch, opts ...WriteOption) {
	t.Helper()
	w, err := Create(fsys, path, schema, opts...)
	require.NoError(t, err)
	defer w.Abort()
	require.NoError(t, writeAll(w, batches))
}

// parquetBytes writes batches through NewWriter as an uncompressed
// Parquet stream (the codec inside the file is opts' or the default) and
// returns the file's bytes.
func parquetBytes(t testing.TB, schema *arrow.Schema, batches []arrow.RecordBatch, opts ...WriteOption) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, schema, append([]WriteOption{WithOutputFormat(FormatParquet, CompressionNone)}, opts...)...)
	require.NoError(t, err)
	require.NoError(t, writeAll(w, batches))
	return buf.Bytes()
}

// writeRoundTripFile writes rows rows of buildRoundTripBatch (ids 0 to
// rows-1, built from mem and released before it returns) to path on fsys
// through writeParquet with opts.
func writeRoundTripFile(t testing.TB, fsys afero.Fs, mem memory.Allocator, path string, rows int, opts ...WriteOption) {
	t.Helper()
	batch := buildRoundTripBatch(t, mem, 0, rows)
	defer batch.Release()
	writeParquet(t, fsys, path, roundTripSchema, []arrow.RecordBatch{batch}, opts...)
}

// openRoundTripFile writes a round-trip file of rows rows to path on a new
// MemMapFs (writeRoundTripFile with opts) and opens it with OpenParquet's
// defaults; the reader is closed when the test ends.
func openRoundTripFile(t testing.TB, path string, rows int, opts ...WriteOption) *ParquetReader {
	t.Helper()
	fsys := afero.NewMemMapFs()
	writeRoundTripFile(t, fsys, memory.DefaultAllocator, path, rows, opts...)
	r, err := OpenParquet(fsys, path)
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	return r
}

// readAll concatenates every batch of r into one batch per column.
func readAll(t testing.TB, r Reader, mem memory.Allocator) arrow.Table {
	t.Helper()
	var recs []arrow.RecordBatch
	for b, err := range r.Batches(context.Background()) {
		require.NoError(t, err)
		b.Retain()
		recs = append(recs, b)
	}
	tbl := array.NewTableFromRecords(r.Schema(), recs)
	for _, b := range recs {
		b.Release()
	}
	return tbl
}

func TestParquetRoundTrip(t *testing.T) {
	for _, fsys := range []struct {
		name string
		fs   afero.Fs
	}{{"mem", afero.NewMemMapFs()}, {"os", afero.NewBasePathFs(afero.NewOsFs(), t.TempDir())}} {
		t.Run(fsys.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)

			var batches []arrow.RecordBatch
			for start := 0; start < 2500; start += 500 {
				batches = append(batches, buildRoundTripBatch(t, mem, start, 500))
			}
			writeParquet(t, fsys.fs, "/rt.parquet", roundTripSchema, batches,
				WithRowGroupSize(1000), WithWriteAllocator(mem))

			r, err := OpenParquet(fsys.fs, "/rt.parquet", WithAllocator(mem), WithBatchSize(300), WithWorkers(4))
			require.NoError(t, err)
			defer r.Close()
			// list elements are named "element", as in the Parquet schema
			wantSchema := storedSchema(roundTripSchema)
			assert.True(t, r.Schema().Equal(wantSchema), "schema:\n%s\nwant\n%s", r.Schema(), wantSchema)
			n, ok := r.NumRows()
			assert.True(t, ok)
			assert.EqualValues(t, 2500, n)
			assert.Equal(t, 3, r.NumRowGroups(), "2500 rows in groups of at most 1000")
			for _, g := range r.RowGroups() {
				assert.LessOrEqual(t, g.NumRows, int64(1000))
			}

			got := readAll(t, r, mem)
			defer got.Release()
			want := array.NewTableFromRecords(roundTripSchema, batches)
			defer want.Release()
			assertSameValues(t, want, got)
			for _, b := range batches {
				b.Release()
			}
		})
	}
}

// assertSameValues compares two tables column by column through their JSON
// form, which ignores list element names.
func assertSameValues(t testing.TB, want, got arrow.Table) {
	t.Helper()
	require.Equal(t, want.NumCols(), got.NumCols())
	require.Equal(t, want.NumRows(), got.NumRows())
	for i := range int(want.NumCols()) {
		w, err := array.Concatenate(want.Column(i).Data().Chunks(), memory.DefaultAllocator)
		require.NoError(t, err)
		g, err := array.Concatenate(got.Column(i).Data().Chunks(), memory.DefaultAllocator)
		require.NoError(t, err)
		wj, err := w.MarshalJSON()
		require.NoError(t, err)
		gj, err := g.MarshalJSON()
		require.NoError(t, err)
		assert.JSONEq(t, string(wj), string(gj), "column %s", want.Schema().Field(i).Name)
		w.Release()
		g.Release()
	}
}

func TestParquetWriterSettings(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	batch := buildRoundTripBatch(t, mem, 0, 200)
	defer batch.Release()

	for _, tc := range []struct{ codec, want string }{
		{"", "ZSTD"}, {"zstd", "ZSTD"}, {"snappy", "SNAPPY"}, {"gzip", "GZIP"},
		{"brotli", "BROTLI"}, {"lz4", "LZ4_RAW"}, {"none", "UNCOMPRESSED"},
	} {
		t.Run("codec="+tc.codec, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			writeParquet(t, fsys, "/c.parquet", roundTripSchema, []arrow.RecordBatch{batch}, WithCodec(tc.codec, 0))
			r, err := OpenParquet(fsys, "/c.parquet")
			require.NoError(t, err)
			defer r.Close()
			for _, g := range r.RowGroups() {
				for _, c := range g.Columns {
					assert.Equal(t, tc.want, c.Codec, c.Path)
				}
			}
			assert.Contains(t, r.CreatedBy(), "quiver")
			assert.Contains(t, r.KeyValueMetadata(), "ARROW:schema")
			g := r.RowGroups()[0]
			assert.EqualValues(t, 200, g.NumRows)
			assert.Positive(t, g.TotalByteSize)
			assert.Positive(t, g.CompressedSize)
			// the id column has statistics
			id := g.Columns[0]
			assert.Equal(t, "id", id.Path)
			assert.Equal(t, "INT64", id.PhysicalType)
			require.NotNil(t, id.Stats)
			assert.Equal(t, int64(0), id.Stats.Min)
			assert.Equal(t, int64(199), id.Stats.Max)
		})
	}

	t.Run("unknown codec", func(t *testing.T) {
		_, err := Create(afero.NewMemMapFs(), "/x.parquet", roundTripSchema, WithCodec("lzo", 0))
		assert.ErrorIs(t, err, ErrUnsupported)
	})

	t.Run("root required, offsets right, read by parquet-go", func(t *testing.T) {
		data := parquetBytes(t, roundTripSchema, []arrow.RecordBatch{batch}, WithRowGroupSize(60))
		f, err := pgo.OpenFile(bytes.NewReader(data), int64(len(data)))
		require.NoError(t, err)
		root := f.Metadata().Schema[0]
		rep, ok := root.RepetitionType.Get()
		assert.True(t, ok, "root repetition set")
		assert.Equal(t, format.Required, rep)
		assert.EqualValues(t, 200, f.NumRows())
		// An independent reader walks every page of every row group of the
		// stitched file: a wrong offset would fail here.
		require.Len(t, f.RowGroups(), 4)
		var ids []int64
		for _, rg := range f.RowGroups() {
			pages := rg.ColumnChunks()[0].Pages()
			for {
				p, err := pages.ReadPage()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				vals := make([]pgo.Value, p.NumValues())
				n, _ := p.Values().ReadValues(vals)
				for _, v := range vals[:n] {
					ids = append(ids, v.Int64())
				}
			}
			require.NoError(t, pages.Close())
		}
		require.Len(t, ids, 200)
		for i, id := range ids {
			require.EqualValues(t, i, id)
		}
	})

	t.Run("dictionary only for low cardinality", func(t *testing.T) {
		s := arrow.NewSchema([]arrow.Field{
			{Name: "uniq", Type: arrow.BinaryTypes.String},
			{Name: "few", Type: arrow.BinaryTypes.String},
			{Name: "f", Type: arrow.PrimitiveTypes.Float64},
		}, nil)
		b := array.NewRecordBuilder(mem, s)
		for i := range 5000 {
			b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("u%d", i))
			b.Field(1).(*array.StringBuilder).Append([]string{"a", "b", "c"}[i%3])
			b.Field(2).(*array.Float64Builder).Append(float64(i % 2))
		}
		rec := b.NewRecordBatch()
		b.Release()
		defer rec.Release()
		data := parquetBytes(t, s, []arrow.RecordBatch{rec})
		f, err := pgo.OpenFile(bytes.NewReader(data), int64(len(data)))
		require.NoError(t, err)
		cols := f.Metadata().RowGroups[0].Columns
		hasDict := func(i int) bool { return cols[i].MetaData.DictionaryPageOffset != 0 }
		assert.False(t, hasDict(0), "unique strings: no dictionary")
		assert.True(t, hasDict(1), "three distinct strings: dictionary")
		assert.False(t, hasDict(2), "floats: no dictionary")
	})

	t.Run("empty file", func(t *testing.T) {
		fsys := afero.NewMemMapFs()
		writeParquet(t, fsys, "/e.parquet", roundTripSchema, nil)
		r, err := OpenParquet(fsys, "/e.parquet")
		require.NoError(t, err)
		defer r.Close()
		n, _ := r.NumRows()
		assert.Zero(t, n)
		assert.True(t, r.Schema().Equal(storedSchema(roundTripSchema)), r.Schema().String())
		for _, err := range r.Batches(context.Background()) {
			require.NoError(t, err)
		}
	})
}

// TestParquetRowGroupSizing checks that small batches accumulate into one
// row group and large ones split at RowGroupSize rows.
func TestParquetRowGroupSizing(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, tc := range []struct {
		name           string
		batch, batches int
		rgSize         int64
		want           []int64
	}{
		{"small batches accumulate", 10, 25, 100, []int64{100, 100, 50}},
		{"big batch splits", 250, 1, 100, []int64{100, 100, 50}},
		{"default size keeps one group", 100, 5, 0, []int64{500}},
		{"exact fit", 50, 4, 100, []int64{100, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var batches []arrow.RecordBatch
			for i := range tc.batches {
				batches = append(batches, buildRoundTripBatch(t, mem, i*tc.batch, tc.batch))
			}
			fsys := afero.NewMemMapFs()
			opts := []WriteOption{WithWriteAllocator(mem)}
			if tc.rgSize > 0 {
				opts = append(opts, WithRowGroupSize(tc.rgSize))
			}
			writeParquet(t, fsys, "/g.parquet", roundTripSchema, batches, opts...)
			for _, b := range batches {
				b.Release()
			}
			r, err := OpenParquet(fsys, "/g.parquet", WithAllocator(mem))
			require.NoError(t, err)
			defer r.Close()
			var got []int64
			for _, g := range r.RowGroups() {
				got = append(got, g.NumRows)
			}
			assert.Equal(t, tc.want, got)
			// ids come back in order across row groups
			var next int64
			for b, err := range r.Batches(context.Background()) {
				require.NoError(t, err)
				ids := b.Column(0).(*array.Int64).Int64Values()
				for _, id := range ids {
					require.Equal(t, next, id)
					next++
				}
			}
			assert.EqualValues(t, tc.batch*tc.batches, next)
		})
	}
}

func TestParquetProjectionAndRowGroups(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fsys := afero.NewMemMapFs()
	writeRoundTripFile(t, fsys, mem, "/p.parquet", 1000, WithRowGroupSize(250))

	t.Run("columns in requested order, nested whole", func(t *testing.T) {
		r, err := Open(fsys, "/p.parquet", WithColumns("meta", "id", "attrs"), WithAllocator(mem))
		require.NoError(t, err)
		defer r.Close()
		require.Equal(t, []string{"meta", "id", "attrs"}, fieldNames(r.Schema()))
		assert.True(t, arrow.TypeEqual(roundTripSchema.Field(15).Type, r.Schema().Field(0).Type))
		var rows int64
		for b, err := range r.Batches(context.Background()) {
			require.NoError(t, err)
			require.EqualValues(t, 3, b.NumCols())
			st := b.Column(0).(*array.Struct)
			ids := b.Column(1).(*array.Int64)
			for i := range int(b.NumRows()) {
				if ids.Value(i)%7 != 3 {
					require.EqualValues(t, -ids.Value(i), st.Field(0).(*array.Int32).Value(i))
				}
			}
			rows += b.NumRows()
		}
		assert.EqualValues(t, 1000, rows)
	})

	t.Run("row groups", func(t *testing.T) {
		r, err := Open(fsys, "/p.parquet", WithRowGroups(3, 1), WithColumns("id"), WithAllocator(mem))
		require.NoError(t, err)
		defer r.Close()
		n, _ := r.NumRows()
		assert.EqualValues(t, 500, n)
		var ids []int64
		for b, err := range r.Batches(context.Background()) {
			require.NoError(t, err)
			ids = append(ids, b.Column(0).(*array.Int64).Int64Values()...)
		}
		require.Len(t, ids, 500)
		assert.EqualValues(t, 750, ids[0])
		assert.EqualValues(t, 250, ids[250])
	})

	t.Run("errors", func(t *testing.T) {
		_, err := Open(fsys, "/p.parquet", WithColumns("nope"))
		assert.ErrorIs(t, err, ErrSchema)
		assert.ErrorContains(t, err, `"nope"`)
		_, err = Open(fsys, "/p.parquet", WithRowGroups(4))
		assert.ErrorIs(t, err, ErrSchema)
		var pe *PosError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, 4, pe.RowGroup)
	})
}

func TestParquetBadInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	batch := buildRoundTripBatch(t, mem, 0, 300)
	data := parquetBytes(t, roundTripSchema, []arrow.RecordBatch{batch})
	batch.Release()

	flip := bytes.Clone(data)
	for i := 200; i < 260; i++ { // inside the first column chunk's pages
		flip[i] ^= 0x5a
	}
	for _, tc := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrCorrupt},
		{"text", []byte("id,name\n1,foo\n2,bar\n"), ErrCorrupt},
		{"truncated", data[:len(data)/2], ErrCorrupt},
		{"no footer magic", append(bytes.Clone(data[:len(data)-4]), "PAR2"...), ErrCorrupt},
		{"encrypted footer", append(bytes.Clone(data[:len(data)-4]), "PARE"...), ErrUnsupported},
		{"footer length too large", append(append(bytes.Clone(data[:len(data)-8]), 0xff, 0xff, 0xff, 0x7f), "PAR1"...), ErrCorrupt},
		{"damaged pages", flip, ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			require.NoError(t, afero.WriteFile(fsys, "/bad.parquet", tc.data, 0o644))
			err := openAndReadAll(fsys, "/bad.parquet", mem)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			var pe *PosError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, "/bad.parquet", pe.Path)
			assert.Contains(t, err.Error(), "/bad.parquet")
		})
	}
}

// openAndReadAll opens path and reads every batch, returning the first error.
func openAndReadAll(fsys afero.Fs, path string, mem memory.Allocator, opts ...ReadOption) error {
	r, err := OpenParquet(fsys, path, append(opts, WithAllocator(mem))...)
	if err != nil {
		return err
	}
	defer r.Close()
	var rows int64
	for b, err := range r.Batches(context.Background()) {
		if err != nil {
			return err
		}
		rows += b.NumRows()
	}
	if n, _ := r.NumRows(); n != rows {
		return fmt.Errorf("%w: read %d rows, footer says %d", ErrCorrupt, rows, n)
	}
	return nil
}

// failingWriter fails after n bytes.
type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.n {
		k := f.n
		f.n = 0
		return k, io.ErrShortWrite
	}
	f.n -= len(p)
	return len(p), nil
}

func TestParquetWriterErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	batch := buildRoundTripBatch(t, mem, 0, 400)
	defer batch.Release()
	for _, limit := range []int{0, 3, 100, 5000} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			w, err := NewWriter(&failingWriter{n: limit}, roundTripSchema, WithOutputFormat(FormatParquet, CompressionNone),
				WithRowGroupSize(100), WithWriteAllocator(mem))
			require.NoError(t, err)
			var werr error
			for range 3 {
				if werr = w.Write(batch); werr != nil {
					break
				}
			}
			if werr == nil {
				werr = w.Close()
			} else {
				w.Abort()
			}
			assert.ErrorIs(t, werr, io.ErrShortWrite)
		})
	}

	t.Run("file never appears on abort", func(t *testing.T) {
		fsys := afero.NewMemMapFs()
		w, err := Create(fsys, "/a.parquet", roundTripSchema, WithWriteAllocator(mem))
		require.NoError(t, err)
		require.NoError(t, w.Write(batch))
		require.NoError(t, w.Abort())
		_, err = fsys.Stat("/a.parquet")
		assert.True(t, errors.Is(err, afero.ErrFileNotFound) || err != nil)
	})
}

func TestParquetCancel(t *testing.T) {
	r := openRoundTripFile(t, "/c.parquet", 1000, WithRowGroupSize(100))
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	var got error
	n := 0
	for _, err := range r.Batches(ctx) {
		if err != nil {
			got = err
			break
		}
		n++
		cancel()
	}
	assert.Equal(t, 1, n)
	assert.ErrorIs(t, got, context.Canceled)
}

// countingFs serves the files of its Fs from memory through a file type
// the readers do not know, as a network filesystem would (so Parquet reads
// are prebuffered), and counts ReadAt calls. Its ReadAt is safe for
// concurrent use.
type countingFs struct {
	afero.Fs
	readAts *atomic.Int64
}

func (c countingFs) Open(name string) (afero.File, error) {
	data, err := afero.ReadFile(c.Fs, name)
	if err != nil {
		return nil, err
	}
	f, err := c.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return countingFile{File: f, data: bytes.NewReader(data), readAts: c.readAts}, nil
}

type countingFile struct {
	afero.File // for Stat, Name, Close
	data       *bytes.Reader
	readAts    *atomic.Int64
}

func (c countingFile) ReadAt(p []byte, off int64) (int, error) {
	c.readAts.Add(1)
	return c.data.ReadAt(p, off)
}

func (c countingFile) Read(p []byte) (int, error) {
	panic("parquet reader must use ReadAt only")
}

// streamingFs is a countingFs whose files can also stream a range
// (rangeOpener), as hubfs files do; each OpenRange counts as one read.
type streamingFs struct{ countingFs }

func (s streamingFs) Open(name string) (afero.File, error) {
	f, err := s.countingFs.Open(name)
	if err != nil {
		return nil, err
	}
	return streamingFile{f.(countingFile)}, nil
}

type streamingFile struct{ countingFile }

// countReads serves fsys through a countingFs, or with stream through a
// streamingFs, and returns it with the counter of its reads.
func countReads(fsys afero.Fs, stream bool) (afero.Fs, *atomic.Int64) {
	n := new(atomic.Int64)
	if stream {
		return streamingFs{countingFs{fsys, n}}, n
	}
	return countingFs{fsys, n}, n
}

func (s streamingFile) OpenRange(off, n int64) (io.ReadCloser, error) {
	s.readAts.Add(1)
	return io.NopCloser(io.NewSectionReader(s.data, off, n)), nil
}

// TestParquetPrebuffer checks how many reads (range requests, on a remote
// filesystem) opening and reading a file costs: with prebuffering, one to
// open (the tail) and one per row group for the chunks of the
// selected columns; without, one per column chunk. The batches are the
// same either way, and a local file is read as before.
func TestParquetPrebuffer(t *testing.T) {
	fsys := afero.NewMemMapFs()
	writeRoundTripFile(t, fsys, memory.DefaultAllocator, "/r.parquet", 8000, WithRowGroupSize(2000))
	st, err := fsys.Stat("/r.parquet")
	require.NoError(t, err)
	require.Greater(t, st.Size(), int64(footerTail+4), "the file must be larger than the tail read at open")
	cases := []struct {
		name         string
		stream       bool // the file can stream ranges
		opts         []ReadOption
		open, groups int64 // reads to open, and per row group
	}{
		// id has one leaf, meta two: three chunks per row group
		{"default", false, nil, 1, 1},
		{"disabled", false, []ReadOption{WithPrebuffer(-1)}, 3, 3},
		{"limit below a row group", false, []ReadOption{WithPrebuffer(100)}, 3, 3},
		{"one worker", false, []ReadOption{WithWorkers(1)}, 1, 1},
		{"streamed", true, nil, 1, 1},
		{"streamed, columns in reverse file order", true, []ReadOption{WithColumns("meta", "id")}, 1, 1},
		{"streamed, disabled", true, []ReadOption{WithPrebuffer(-1)}, 3, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs, n := countReads(fsys, tc.stream)
			opts := append([]ReadOption{WithColumns("id", "meta")}, tc.opts...)
			want := readAllParquet(t, fsys, opts...)
			r, err := OpenParquet(fs, "/r.parquet", opts...)
			require.NoError(t, err)
			defer r.Close()
			opened := n.Load()
			got := collectBatches(t, r)
			assert.Equal(t, tc.open, opened, "ReadAt calls to open (the footer)")
			assert.Equal(t, 4*tc.groups, n.Load()-opened, "ReadAt calls for 4 row groups")
			assert.Equal(t, want, got)
		})
	}
}

// readAllParquet reads the file /r.parquet of fsys as JSON rows.
func readAllParquet(t *testing.T, fsys afero.Fs, opts ...ReadOption) string {
	t.Helper()
	r, err := OpenParquet(fsys, "/r.parquet", opts...)
	require.NoError(t, err)
	defer r.Close()
	return collectBatches(t, r)
}

// collectBatches reads every batch of r as JSON rows.
func collectBatches(t *testing.T, r Reader) string {
	t.Helper()
	var sb strings.Builder
	for b, err := range r.Batches(context.Background()) {
		require.NoError(t, err)
		js, err := b.MarshalJSON()
		require.NoError(t, err)
		sb.Write(js)
		sb.WriteByte('\n')
	}
	return sb.String()
}
