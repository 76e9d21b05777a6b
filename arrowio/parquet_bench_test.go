package arrowio

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/spf13/afero"
)

// pqBenchSchema mirrors a typical text dataset: an id, a score, ~200 bytes
// of text and a 16-float embedding.
var pqBenchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "label", Type: arrow.BinaryTypes.String},
	{Name: "text", Type: arrow.BinaryTypes.String},
	{Name: "emb", Type: arrow.FixedSizeListOf(16, arrow.PrimitiveTypes.Float32)},
}, nil)

const pqBenchRows, pqBenchBatch = 256 << 10, 64 << 10

var pqBenchData = sync.OnceValues(func() ([]arrow.RecordBatch, int64) {
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("the quick brown fox jumps over a lazy dog while seven wizards quietly judge boxing matches near river banks under pale moonlight")
	var out []arrow.RecordBatch
	for start := 0; start < pqBenchRows; start += pqBenchBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, pqBenchSchema)
		var sb strings.Builder
		for i := start; i < start+pqBenchBatch; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.Float64Builder).Append(rng.Float64())
			b.Field(2).(*array.StringBuilder).Append([]string{"pos", "neg", "neutral"}[rng.IntN(3)])
			sb.Reset()
			for sb.Len() < 200 {
				sb.WriteString(words[rng.IntN(len(words))])
				sb.WriteByte(' ')
			}
			b.Field(3).(*array.StringBuilder).Append(sb.String())
			fb := b.Field(4).(*array.FixedSizeListBuilder)
			fb.Append(true)
			for range 16 {
				fb.ValueBuilder().(*array.Float32Builder).Append(rng.Float32())
			}
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return out, arrowBytes(out)
})

func BenchmarkParquetWrite(b *testing.B) {
	batches, size := pqBenchData()
	// write runs Quiver's Parquet writer with codec at level.
	write := func(codec string, level int) func(b *testing.B) {
		return func(b *testing.B) {
			b.SetBytes(size)
			var out int
			c0 := cpuTime()
			for b.Loop() {
				buf := bytes.NewBuffer(make([]byte, 0, 64<<20))
				w, err := NewWriter(buf, pqBenchSchema, WithOutputFormat(FormatParquet, CompressionNone), WithCodec(codec, level))
				if err != nil {
					b.Fatal(err)
				}
				if err := writeAll(w, batches); err != nil {
					b.Fatal(err)
				}
				out = buf.Len()
			}
			reportCPU(b, c0, size)
			b.ReportMetric(float64(out)/1e6, "MB-out")
			b.ReportMetric(float64(pqBenchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		}
	}
	for _, codec := range []string{"zstd", "snappy", "lz4", "gzip", "none"} {
		b.Run("quiver/"+codec, write(codec, 0))
	}
	for _, level := range []int{1, 3, 6} {
		b.Run(fmt.Sprintf("quiver/zstd-%d", level), write("zstd", level))
	}
	// The baseline: plain pqarrow, single-threaded, zstd, default
	// properties (dictionary on), one row group.
	b.Run("pqarrow-baseline/zstd", func(b *testing.B) {
		b.SetBytes(size)
		var out int
		c0 := cpuTime()
		for b.Loop() {
			buf := bytes.NewBuffer(make([]byte, 0, 64<<20))
			fw, err := pqarrow.NewFileWriter(pqBenchSchema, buf,
				parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd)),
				pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
			if err != nil {
				b.Fatal(err)
			}
			for _, rec := range batches {
				if err := fw.WriteBuffered(rec); err != nil {
					b.Fatal(err)
				}
			}
			if err := fw.Close(); err != nil {
				b.Fatal(err)
			}
			out = buf.Len()
		}
		reportCPU(b, c0, size)
		b.ReportMetric(float64(out)/1e6, "MB-out")
	})
}

var pqBenchFile = sync.OnceValues(func() ([]byte, error) {
	batches, _ := pqBenchData()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, pqBenchSchema, WithOutputFormat(FormatParquet, CompressionNone), WithRowGroupSize(pqBenchBatch))
	if err != nil {
		return nil, err
	}
	if err := writeAll(w, batches); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

func BenchmarkParquetRead(b *testing.B) {
	data, err := pqBenchFile()
	if err != nil {
		b.Fatal(err)
	}
	_, size := pqBenchData()
	fsys := afero.NewMemMapFs()
	if err := afero.WriteFile(fsys, "/b.parquet", data, 0o644); err != nil {
		b.Fatal(err)
	}
	read := func(b *testing.B, bytesRead int64, opts ...ReadOption) {
		b.SetBytes(bytesRead)
		c0 := cpuTime()
		defer func() { reportCPU(b, c0, bytesRead) }()
		for b.Loop() {
			r, err := OpenParquet(fsys, "/b.parquet", opts...)
			if err != nil {
				b.Fatal(err)
			}
			countRows(b, r)
			r.Close()
		}
	}
	b.Run("quiver/serial", func(b *testing.B) { read(b, size, WithWorkers(1)) })
	b.Run("quiver/parallel", func(b *testing.B) { read(b, size) })
	b.Run("quiver/project-id-score", func(b *testing.B) { read(b, int64(pqBenchRows*16), WithColumns("id", "score")) })
	b.Run("pqarrow-baseline/parallel", func(b *testing.B) {
		b.SetBytes(size)
		c0 := cpuTime()
		defer func() { reportCPU(b, c0, size) }()
		for b.Loop() {
			pf, err := file.NewParquetReader(bytes.NewReader(data))
			if err != nil {
				b.Fatal(err)
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{Parallel: true, BatchSize: DefaultBatchSize}, memory.DefaultAllocator)
			if err != nil {
				b.Fatal(err)
			}
			rr, err := fr.GetRecordReader(context.Background(), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			for rr.Next() {
			}
			if err := rr.Err(); err != nil && err != io.EOF {
				b.Fatal(err)
			}
			rr.Release()
		}
	})
}
