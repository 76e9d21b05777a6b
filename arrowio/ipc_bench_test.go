package arrowio

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
)

// Benchmarks use benchRows rows of (id int64, score float64, text utf8 of
// about 80 bytes) in batches of 64K rows: about 100 MB of Arrow buffers.
const benchRows = 1 << 20

var benchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "text", Type: arrow.BinaryTypes.String},
}, nil)

func benchBatches(tb testing.TB) []arrow.RecordBatch {
	const per = 64 << 10
	words := []string{"arrow ", "quiver ", "batch ", "mapped ", "zero ", "copy ", "dataset ", "go "}
	var out []arrow.RecordBatch
	b := array.NewRecordBuilder(memory.DefaultAllocator, benchSchema)
	defer b.Release()
	buf := make([]byte, 0, 128)
	for lo := 0; lo < benchRows; lo += per {
		for i := lo; i < lo+per; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			if i%10 == 0 {
				b.Field(1).AppendNull()
			} else {
				b.Field(1).(*array.Float64Builder).Append(float64(i) * 0.5)
			}
			buf = buf[:0]
			for k := 0; len(buf) < 80; k++ {
				buf = append(buf, words[(i+k*3)%len(words)]...)
			}
			b.Field(2).(*array.StringBuilder).BinaryBuilder.Append(buf)
		}
		out = append(out, b.NewRecordBatch())
	}
	return out
}

// arrowBytes is the BatchBytes of recs together.
func arrowBytes(recs []arrow.RecordBatch) int64 {
	var n int64
	for _, r := range recs {
		n += BatchBytes(r)
	}
	return n
}

// cpuTime is the CPU time (user+system) the process has used. Benchmarks
// report it per op because the shared 2-core machine they run on is
// heavily loaded, which makes wall-clock MB/s noisy.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU seconds per op since start (cpu-s/op) and the
// MB of bytesPerOp processed per CPU second (MB/cpu-s). It reports
// nothing when no CPU time was measured.
func reportCPU(b *testing.B, start time.Duration, bytesPerOp int64) {
	used := (cpuTime() - start).Seconds()
	if used <= 0 {
		return
	}
	b.ReportMetric(used/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(bytesPerOp)*float64(b.N)/1e6/used, "MB/cpu-s")
}

var benchFile struct {
	once sync.Once
	dir  string
	path string
	size int64
	err  error
}

// benchArrowFile writes the benchmark data set once per process.
func benchArrowFile(b *testing.B) (string, int64) {
	benchFile.once.Do(func() {
		benchFile.dir, benchFile.err = os.MkdirTemp("", "quiver-bench-")
		if benchFile.err != nil {
			return
		}
		benchFile.path = filepath.Join(benchFile.dir, "bench.arrow")
		recs := benchBatches(b)
		defer releaseBatches(recs)
		w, err := Create(afero.NewOsFs(), benchFile.path, benchSchema)
		if err != nil {
			benchFile.err = err
			return
		}
		benchFile.err = writeAll(w, recs)
		if st, err := os.Stat(benchFile.path); err == nil {
			benchFile.size = st.Size()
		}
	})
	if benchFile.err != nil {
		b.Fatal(benchFile.err)
	}
	return benchFile.path, benchFile.size
}

// openBenchArrowFile opens the file of benchArrowFile with OpenArrowFile,
// closed when the benchmark ends, and returns it with its size.
func openBenchArrowFile(b *testing.B) (*ArrowFile, int64) {
	path, size := benchArrowFile(b)
	f, err := OpenArrowFile(afero.NewOsFs(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f, size
}

// countRows reads every batch of r and returns the number of rows,
// failing tb on the first error. It does not close r.
func countRows(tb testing.TB, r Reader) int64 {
	var n int64
	for batch, err := range r.Batches(context.Background()) {
		if err != nil {
			tb.Fatal(err)
		}
		n += batch.NumRows()
	}
	return n
}

// sumWords adds b up as little-endian uint64 words plus a byte tail: a
// loop that reads every byte about as fast as memory allows.
func sumWords(b []byte) uint64 {
	var s uint64
	n := len(b) / 8
	if n > 0 {
		for _, w := range unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), n) {
			s += w
		}
	}
	for _, c := range b[n*8:] {
		s += uint64(c)
	}
	return s
}

var benchSink uint64

// sumFloats adds v with four accumulators, so the loop is bound by memory
// rather than by the latency of one dependent chain of additions.
func sumFloats(v []float64) float64 {
	var a, b, c, d float64
	for len(v) >= 4 {
		a, b, c, d = a+v[0], b+v[1], c+v[2], d+v[3]
		v = v[4:]
	}
	for _, x := range v {
		a += x
	}
	return a + b + c + d
}

// BenchmarkMappedScan decodes every batch of a mapped file and reads every
// byte of every buffer: int64 and float64 values summed, validity bitmaps
// and string offsets and bytes summed.
func BenchmarkMappedScan(b *testing.B) {
	f, size := openBenchArrowFile(b)
	if !f.Mapped() {
		b.Fatal("not mapped")
	}
	b.SetBytes(size)
	for b.Loop() {
		var s uint64
		var fs float64
		for i := range f.NumBatches() {
			rec, err := f.BatchAt(i)
			if err != nil {
				b.Fatal(err)
			}
			for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
				s += uint64(v)
			}
			score := rec.Column(1).(*array.Float64)
			fs += sumFloats(score.Float64Values())
			s += sumWords(score.NullBitmapBytes())
			text := rec.Column(2).(*array.String)
			s += sumWords(text.ValueBytes())
			s += sumWords(text.Data().Buffers()[1].Bytes())
			rec.Release()
		}
		benchSink += s + uint64(fs)
	}
	b.ReportMetric(float64(f.NumRows())*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkMappedBytesBaseline sums the whole mapping as words: the
// memory-bandwidth ceiling BenchmarkMappedScan is measured against.
func BenchmarkMappedBytesBaseline(b *testing.B) {
	f, size := openBenchArrowFile(b)
	b.SetBytes(size)
	for b.Loop() {
		benchSink += sumWords(f.m.data)
	}
}

// BenchmarkOpenMapped opens and closes the mapped file: footer and batch
// headers only.
func BenchmarkOpenMapped(b *testing.B) {
	path, _ := benchArrowFile(b)
	for b.Loop() {
		f, err := OpenArrowFile(afero.NewOsFs(), path)
		if err != nil {
			b.Fatal(err)
		}
		if f.NumRows() != benchRows {
			b.Fatal("row count")
		}
		f.Close()
	}
}

// BenchmarkOpenScanUnmapped reads every batch through ReadAt copies, for
// comparison with the mapped scan.
func BenchmarkOpenScanUnmapped(b *testing.B) {
	path, size := benchArrowFile(b)
	b.SetBytes(size)
	for b.Loop() {
		r, err := Open(afero.NewOsFs(), path, WithNoMmap(true))
		if err != nil {
			b.Fatal(err)
		}
		for rec, err := range r.Batches(context.Background()) {
			if err != nil {
				b.Fatal(err)
			}
			benchSink += uint64(rec.Column(0).(*array.Int64).Value(0))
		}
		r.Close()
	}
}

// BenchmarkWriteIPC writes the data set in the file and stream layouts,
// uncompressed and with zstd; MB/s counts Arrow buffer bytes.
func BenchmarkWriteIPC(b *testing.B) {
	recs := benchBatches(b)
	defer releaseBatches(recs)
	dir := b.TempDir()
	for _, tc := range []struct {
		format Format
		codec  string
	}{{FormatArrowFile, "none"}, {FormatArrowStream, "none"}, {FormatArrowFile, "zstd"}} {
		b.Run(fmt.Sprintf("%s/%s", tc.format, tc.codec), func(b *testing.B) {
			b.SetBytes(arrowBytes(recs))
			var written int64
			for b.Loop() {
				path := filepath.Join(dir, "w."+tc.format.String())
				w, err := Create(afero.NewOsFs(), path, benchSchema, WithOutputFormat(tc.format, CompressionNone), WithCodec(tc.codec, 0))
				if err != nil {
					b.Fatal(err)
				}
				if err := writeAll(w, recs); err != nil {
					b.Fatal(err)
				}
				st, _ := os.Stat(path)
				written = st.Size()
			}
			b.ReportMetric(float64(written)/1e6, "file-MB")
		})
	}
}

// BenchmarkCSVRead parses a CSV rendering of the first 256K rows; MB/s
// counts CSV bytes.
func BenchmarkCSVRead(b *testing.B) {
	recs := benchBatches(b)
	dir := b.TempDir()
	path := filepath.Join(dir, "bench.csv")
	w, err := Create(afero.NewOsFs(), path, benchSchema)
	if err != nil {
		b.Fatal(err)
	}
	err = writeAll(w, recs[:4])
	releaseBatches(recs)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	for b.Loop() {
		r, err := Open(afero.NewOsFs(), path)
		if err != nil {
			b.Fatal(err)
		}
		countRows(b, r)
		r.Close()
	}
}
