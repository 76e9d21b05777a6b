package arrowio

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
)

// fuzzSeedParquet writes a small file with a flat, a list and a struct
// column through the Quiver writer.
func fuzzSeedParquet(tb testing.TB, codec string) []byte {
	s := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, s)
	defer b.Release()
	for i := range 5 {
		b.Field(0).(*array.Int32Builder).Append(int32(i))
		b.Field(1).(*array.StringBuilder).Append("ab")
		lb := b.Field(2).(*array.ListBuilder)
		lb.Append(i%2 == 0)
		if i%2 == 0 {
			lb.ValueBuilder().(*array.Int64Builder).Append(int64(i))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return parquetBytes(tb, s, []arrow.RecordBatch{rec}, WithCodec(codec, 0))
}

// FuzzParquetOpen opens and fully reads arbitrary bytes as Parquet: it
// must return a *PosError wrapping ErrCorrupt or ErrUnsupported, or
// succeed, and never panic. The committed corpus holds small valid files
// (testdata/fuzz/FuzzParquetOpen); f.Add seeds add damaged variants.
func FuzzParquetOpen(f *testing.F) {
	for _, codec := range []string{"none", "snappy"} {
		good := fuzzSeedParquet(f, codec)
		f.Add(good)
		f.Add(good[:len(good)-9])
		mid := bytes.Clone(good)
		mid[len(mid)/3] ^= 0xff
		f.Add(mid)
	}
	f.Add([]byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := afero.NewMemMapFs()
		if err := afero.WriteFile(fsys, "/f.parquet", data, 0o644); err != nil {
			t.Fatal(err)
		}
		// Read from memory, then as a remote file (prebuffered), then as
		// one that streams ranges: same outcome.
		rows, failed := fuzzReadParquet(t, fsys)
		rrows, rfailed := fuzzReadParquet(t, countingFs{fsys, new(atomic.Int64)})
		if rows != rrows || failed != rfailed {
			t.Fatalf("in memory: %d rows, failed %v; remote: %d rows, failed %v", rows, failed, rrows, rfailed)
		}
		srows, sfailed := fuzzReadParquet(t, streamingFs{countingFs{fsys, new(atomic.Int64)}})
		if rows != srows || failed != sfailed {
			t.Fatalf("in memory: %d rows, failed %v; streamed: %d rows, failed %v", rows, failed, srows, sfailed)
		}
	})
}

// fuzzReadParquet opens and reads /f.parquet, checking any error, and
// returns the rows read and whether it failed.
func fuzzReadParquet(t *testing.T, fsys afero.Fs) (int64, bool) {
	r, err := OpenParquet(fsys, "/f.parquet", WithBatchSize(3))
	if err != nil {
		checkParquetFuzzErr(t, err)
		return 0, true
	}
	defer r.Close()
	_ = r.RowGroups()
	var rows int64
	for b, err := range r.Batches(context.Background()) {
		if err != nil {
			checkParquetFuzzErr(t, err)
			return rows, true
		}
		rows += b.NumRows()
	}
	return rows, false
}

func checkParquetFuzzErr(t *testing.T, err error) {
	t.Helper()
	var pe *PosError
	if !errors.As(err, &pe) {
		t.Fatalf("error is not a *PosError: %v", err)
	}
	if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrSchema) {
		t.Fatalf("error wraps no sentinel: %v", err)
	}
}
