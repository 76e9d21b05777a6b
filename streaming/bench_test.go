package streaming

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/hubfs"
	"github.com/quiverdata/quiver/hubfs/hubtest"
	"github.com/quiverdata/quiver/internal/recycle"
)

// The benchmark dataset: benchFiles Parquet files (snappy) of benchGroups
// row groups of 64Ki rows: id int64, score float64, text ~100 B.
const (
	benchFiles  = 2
	benchGroups = 4
	benchRows   = benchFiles * benchGroups * 65536
)

var benchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "text", Type: arrow.BinaryTypes.String},
}, nil)

var (
	benchOnce  sync.Once
	benchDir   string
	benchPaths []string
	benchBytes int64 // Arrow bytes of the whole dataset
	benchErr   error
)

func benchData(b *testing.B) []string {
	b.Helper()
	benchOnce.Do(func() {
		benchDir, benchErr = os.MkdirTemp("", "quiver-streaming-bench-")
		if benchErr != nil {
			return
		}
		words := strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau")
		r := rand.New(rand.NewPCG(1, 2))
		var id int64
		for f := range benchFiles {
			p := filepath.Join(benchDir, fmt.Sprintf("part-%d.parquet", f))
			out, err := os.Create(p)
			if err != nil {
				benchErr = err
				return
			}
			props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(false))
			w, err := pqarrow.NewFileWriter(benchSchema, out, props, pqarrow.DefaultWriterProps())
			if err != nil {
				benchErr = err
				return
			}
			for range benchGroups {
				bld := array.NewRecordBuilder(memory.DefaultAllocator, benchSchema)
				var sb strings.Builder
				for range 65536 {
					bld.Field(0).(*array.Int64Builder).Append(id)
					bld.Field(1).(*array.Float64Builder).Append(r.Float64())
					sb.Reset()
					for sb.Len() < 100 {
						sb.WriteString(words[r.IntN(len(words))])
						sb.WriteByte(' ')
					}
					bld.Field(2).(*array.StringBuilder).Append(sb.String())
					id++
				}
				rec := bld.NewRecordBatch()
				benchBytes += arrowio.BatchBytes(rec)
				if err := w.Write(rec); err != nil {
					benchErr = err
					return
				}
				rec.Release()
				bld.Release()
			}
			if err := w.Close(); err != nil {
				benchErr = err
				return
			}
			benchPaths = append(benchPaths, p)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPaths
}

// cpuTime returns the user+system CPU time of the process so far. On a
// shared machine it compares work better than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs body b.N times and reports throughput and CPU per op.
func measure(b *testing.B, body func() int64) {
	var rows int64
	cpu0 := cpuTime()
	for b.Loop() {
		rows = body()
	}
	cpu := cpuTime() - cpu0
	b.SetBytes(benchBytes)
	if rows != benchRows {
		b.Fatalf("read %d rows, want %d", rows, benchRows)
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// BenchmarkRawPqarrow reads the files with pqarrow directly (64Ki-row
// batches, parallel column decode): the ceiling the stream is held to.
func BenchmarkRawPqarrow(b *testing.B) {
	paths := benchData(b)
	measure(b, func() int64 {
		var rows int64
		for _, p := range paths {
			f, err := os.Open(p)
			if err != nil {
				b.Fatal(err)
			}
			pf, err := file.NewParquetReader(f)
			if err != nil {
				b.Fatal(err)
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 65536, Parallel: true}, memory.DefaultAllocator)
			if err != nil {
				b.Fatal(err)
			}
			rr, err := fr.GetRecordReader(context.Background(), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			for rr.Next() {
				rows += rr.RecordBatch().NumRows()
			}
			if err := rr.Err(); err != nil {
				b.Fatal(err)
			}
			rr.Release()
			pf.Close()
		}
		return rows
	})
}

// openLocal opens a stream over the benchmark files on the local disk.
func openLocal(b *testing.B, paths []string) *Stream {
	s, err := Open(context.Background(), paths)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func streamRows(b *testing.B, s *Stream) int64 {
	var rows int64
	for batch, err := range s.Batches(context.Background()) {
		if err != nil {
			b.Fatal(err)
		}
		rows += batch.NumRows()
	}
	return rows
}

// BenchmarkStreamLocal streams the same files with no shuffle and no ops.
func BenchmarkStreamLocal(b *testing.B) {
	paths := benchData(b)
	measure(b, func() int64 { return streamRows(b, openLocal(b, paths)) })
}

// BenchmarkStreamShuffle streams the files with a shuffle window of 10,000
// rows (and permuted shard order).
func BenchmarkStreamShuffle(b *testing.B) {
	paths := benchData(b)
	measure(b, func() int64 { return streamRows(b, openLocal(b, paths).Shuffle(1, 10000)) })
}

// benchHub serves the benchmark files from an in-process Hub (closed at
// the end of the benchmark) and returns it with a function that opens a
// stream over them through hubfs range reads.
func benchHub(b *testing.B, paths []string) (*hubtest.Server, func() *Stream) {
	files := map[string][]byte{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		files["data/"+filepath.Base(p)] = data
	}
	srv, opts := serveDataset(b, "org/bench", files, hubfs.WithBackoff(time.Millisecond, 10*time.Millisecond))
	srv.ResetStats()
	return srv, func() *Stream {
		s, err := Open(context.Background(), []string{"hf://datasets/org/bench/data/*.parquet"}, opts)
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
}

// BenchmarkStreamHub streams the files from an in-process Hub over
// loopback, through hubfs range reads.
func BenchmarkStreamHub(b *testing.B) {
	paths := benchData(b)
	srv, openHub := benchHub(b, paths)
	measure(b, func() int64 {
		return streamRows(b, openHub())
	})
	b.ReportMetric(float64(srv.Stats().Requests)/float64(b.N), "requests/op")
}

// ratio runs a and c alternately, b.N times each, and reports the
// throughput of c relative to a ("name-ratio": c's rows/s over a's, so 0.9
// means c runs at 90% of a's speed), and the same ratio of CPU time
// ("name-cpu-ratio", steadier on a loaded machine). Alternating within one
// benchmark keeps the load of a shared machine from favouring one side;
// the order flips every round, so that what one side leaves behind
// (garbage to collect, a grown heap) lands on both sides equally. (Forcing
// a collection before each side instead moved the shuffle's collection
// cost out of its timing and showed the shuffled stream faster than the
// plain one.)
func ratio(b *testing.B, name string, a, c func() int64) {
	var ta, tc, ca, cc time.Duration
	run := func(f func() int64, t, cpu *time.Duration) {
		t0, c0 := time.Now(), cpuTime()
		if n := f(); n != benchRows {
			b.Fatalf("read %d rows, want %d", n, benchRows)
		}
		*t += time.Since(t0)
		*cpu += cpuTime() - c0
	}
	round := 0
	for b.Loop() {
		if round%2 == 0 {
			run(a, &ta, &ca)
			run(c, &tc, &cc)
		} else {
			run(c, &tc, &cc)
			run(a, &ta, &ca)
		}
		round++
	}
	b.SetBytes(2 * benchBytes)
	b.ReportMetric(float64(ta)/float64(tc), name+"-ratio")
	b.ReportMetric(float64(ca)/float64(cc), name+"-cpu-ratio")
	b.ReportMetric(float64(ta.Milliseconds())/float64(b.N), "base-ms/op")
}

// BenchmarkShuffleRatio compares streaming with a 10,000-row shuffle to
// streaming without, in the same run.
func BenchmarkShuffleRatio(b *testing.B) {
	paths := benchData(b)
	ratio(b, "shuffle",
		func() int64 { return streamRows(b, openLocal(b, paths)) },
		func() int64 { return streamRows(b, openLocal(b, paths).Shuffle(1, 10000)) })
}

// BenchmarkHubRatio compares streaming from an in-process Hub over
// loopback to streaming the same files locally, in the same run, and
// reports the Hub requests per epoch.
func BenchmarkHubRatio(b *testing.B) {
	paths := benchData(b)
	srv, openHub := benchHub(b, paths)
	ratio(b, "hub",
		func() int64 { return streamRows(b, openLocal(b, paths)) },
		func() int64 { return streamRows(b, openHub()) })
	b.ReportMetric(float64(srv.Stats().Requests)/float64(b.N), "requests/op")
}

// copyData returns a copy of d in new buffers from mem: every buffer is
// copied whole, in order.
func copyData(mem memory.Allocator, d arrow.ArrayData) arrow.ArrayData {
	bufs := make([]*memory.Buffer, len(d.Buffers()))
	for i, b := range d.Buffers() {
		if b == nil {
			continue
		}
		nb := memory.NewResizableBuffer(mem)
		nb.Resize(b.Len())
		copy(nb.Bytes(), b.Bytes())
		bufs[i] = nb
	}
	children := make([]arrow.ArrayData, len(d.Children()))
	for i, c := range d.Children() {
		children[i] = copyData(mem, c)
	}
	out := array.NewData(d.DataType(), d.Len(), bufs, children, d.NullN(), d.Offset())
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	for _, c := range children {
		c.Release()
	}
	return out
}

// BenchmarkCopyFloorRatio compares streaming the files to streaming them
// with every batch copied, buffer by buffer and in order, into recycled
// memory ("copy-ratio"). Any shuffle that yields contiguous batches copies
// every row at least this way (a shuffle buffer copies rows one by one, in
// random order), so this is the least a shuffle buffer can cost against a
// stream that hands out the decoded batches themselves.
func BenchmarkCopyFloorRatio(b *testing.B) {
	paths := benchData(b)
	copyBatch := func(_ context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error) {
		cols := make([]arrow.Array, in.NumCols())
		for j, c := range in.Columns() {
			d := copyData(recycle.Default, c.Data())
			cols[j] = array.MakeFromData(d)
			d.Release()
		}
		out := array.NewRecordBatch(in.Schema(), cols, in.NumRows())
		for _, c := range cols {
			c.Release()
		}
		return out, nil
	}
	ratio(b, "copy",
		func() int64 { return streamRows(b, openLocal(b, paths)) },
		func() int64 { return streamRows(b, openLocal(b, paths).Map("copy@1", copyBatch)) })
}

// BenchmarkLoopbackFloorRatio compares streaming the files locally to
// streaming them locally while their bytes also cross a loopback TCP
// connection ("loopback-ratio"): one goroutine writes the files' bytes from
// memory, another reads them into a reused 1 MiB buffer and drops them.
// No HTTP, no Hub, no decoding of what arrives: it is the least that
// receiving the files from a server on this machine can cost, whatever the
// protocol, against which BenchmarkHubRatio's figure can be read.
func BenchmarkLoopbackFloorRatio(b *testing.B) {
	paths := benchData(b)
	var payload []byte
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		payload = append(payload, data...)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	transfer := func() error {
		sent := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				sent <- err
				return
			}
			_, err = c.Write(payload)
			c.Close()
			sent <- err
		}()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		buf := make([]byte, 1<<20)
		var got int
		for {
			n, err := c.Read(buf)
			got += n
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
		}
		if got != len(payload) {
			return fmt.Errorf("received %d bytes of %d", got, len(payload))
		}
		return <-sent
	}
	ratio(b, "loopback",
		func() int64 { return streamRows(b, openLocal(b, paths)) },
		func() int64 {
			done := make(chan error, 1)
			go func() { done <- transfer() }()
			rows := streamRows(b, openLocal(b, paths))
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			return rows
		})
}
