package hubfs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetFile writes rows rows of three random int64 columns and a string
// column in row groups of rgRows rows.
func parquetFile(t testing.TB, rows, rgRows int) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.PrimitiveTypes.Int64},
		{Name: "c", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.String},
	}, nil)
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Uncompressed),
		parquet.WithDictionaryDefault(false), parquet.WithMaxRowGroupLength(int64(rgRows)))
	w, err := pqarrow.NewFileWriter(schema, &buf, props, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for start := 0; start < rows; start += rgRows {
		for i := start; i < min(start+rgRows, rows); i++ {
			b.Field(0).(*array.Int64Builder).Append(r.Int64())
			b.Field(1).(*array.Int64Builder).Append(int64(i))
			b.Field(2).(*array.Int64Builder).Append(r.Int64())
			b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("row-%d-%x", i, r.Uint64()))
		}
		rec := b.NewRecordBatch()
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rangeRecorder is a ReadAt source that records the ranges read.
type rangeRecorder struct {
	*bytes.Reader
	mu     sync.Mutex
	ranges [][2]int64
}

func (r *rangeRecorder) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.Reader.ReadAt(p, off)
	r.mu.Lock()
	r.ranges = append(r.ranges, [2]int64{off, off + int64(n)})
	r.mu.Unlock()
	return n, err
}

// unionBytes is the number of distinct bytes the ranges cover.
func unionBytes(ranges [][2]int64) int64 {
	rs := append([][2]int64(nil), ranges...)
	sort.Slice(rs, func(i, j int) bool { return rs[i][0] < rs[j][0] })
	var total, end int64 = 0, -1
	for _, r := range rs {
		if r[0] > end {
			total += r[1] - r[0]
			end = r[1]
		} else if r[1] > end {
			total += r[1] - end
			end = r[1]
		}
	}
	return total
}

// sumColumn reads column col with pqarrow from src and sums it.
func sumColumn(t testing.TB, src parquet.ReaderAtSeeker, col int, mem memory.Allocator) (int64, int) {
	t.Helper()
	pr, err := file.NewParquetReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	fr, err := pqarrow.NewFileReader(pr, pqarrow.ArrowReadProperties{BatchSize: 64 << 10, Parallel: true}, mem)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := fr.GetRecordReader(context.Background(), []int{col}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer rr.Release()
	var sum int64
	var rows int
	for rr.Next() {
		rec := rr.RecordBatch()
		for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
			sum += v
		}
		rows += int(rec.NumRows())
	}
	if err := rr.Err(); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return sum, rows
}

func TestParquetOneColumnTransfersLittle(t *testing.T) {
	const rows = 200_000
	data := parquetFile(t, rows, 50_000)
	srv := newHub(t)
	srv.AddRepo("dataset", "org/pq").Commit("main", map[string][]byte{"data/train.parquet": data})

	// What pqarrow needs: the ranges it reads from a local copy.
	local := &rangeRecorder{Reader: bytes.NewReader(data)}
	wantSum, wantRows := sumColumn(t, local, 1, memory.DefaultAllocator)
	needed := unionBytes(local.ranges)

	// The footer plus column b's chunks, from the metadata.
	pr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	meta := pr.MetaData()
	var chunks int64
	for rg := range meta.NumRowGroups() {
		cc, err := meta.RowGroup(rg).ColumnChunk(1)
		if err != nil {
			t.Fatal(err)
		}
		chunks += cc.TotalCompressedSize()
	}
	footer := int64(8 + meta.Size())
	pr.Close()

	f := openRepo(t, srv, "org/pq")
	file := openFile(t, f, "data/train.parquet")
	srv.ResetStats()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	sum, n := sumColumn(t, file, 1, mem)
	mem.AssertSize(t, 0)
	if sum != wantSum || n != wantRows || n != rows {
		t.Fatalf("sum %d rows %d, want %d %d", sum, n, wantSum, wantRows)
	}
	st := srv.Stats()
	t.Logf("file %d B; footer %d B + column chunks %d B; pqarrow asked for %d B; transferred %d B in %d requests",
		len(data), footer, chunks, needed, st.FileBytes, st.Requests)
	if float64(st.FileBytes) > 1.05*float64(needed) {
		t.Errorf("transferred %d bytes, more than 5%% over the %d pqarrow needs", st.FileBytes, needed)
	}
	// pqarrow reads the last 64 KiB for the footer; beyond that, only chunks.
	if limit := 1.05 * float64(max(footer, 64<<10)+chunks); float64(st.FileBytes) > limit {
		t.Errorf("transferred %d bytes, more than 5%% over footer+chunks (%d)", st.FileBytes, int64(limit))
	}
	if st.FileBytes > int64(len(data))/3 {
		t.Errorf("transferred %d of %d bytes for one of four columns", st.FileBytes, len(data))
	}
}
