package dataset

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/ops"
	"golang.org/x/sys/unix"
)

// Benchmarks run on a generated dataset like the reference measurements:
// id int64, score float64, text (~200 B), emb list<float32>[16]. Its row
// count is $QUIVER_BENCH_ROWS (default 262144, about 80 MB of Arrow).

var benchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64},
	{Name: "text", Type: arrow.BinaryTypes.String},
	{Name: "emb", Type: arrow.ListOf(arrow.PrimitiveTypes.Float32)},
}, nil)

func benchRows() int {
	if n, err := strconv.Atoi(os.Getenv("QUIVER_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 1 << 18
}

var words = strings.Fields("the quick brown fox jumps over a lazy dog while seven wizards quietly hex nine jolly boxing kangaroos near misty fjords")

func genBatches(n, size int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	r := ops.NewRand(1)
	var sb strings.Builder
	for lo := 0; lo < n; lo += size {
		b := array.NewRecordBuilder(memory.DefaultAllocator, benchSchema)
		for i := lo; i < min(n, lo+size); i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.Float64Builder).Append(r.Float64())
			sb.Reset()
			for sb.Len() < 200 {
				sb.WriteString(words[r.Below(uint64(len(words)))])
				sb.WriteByte(' ')
			}
			b.Field(2).(*array.StringBuilder).Append(sb.String())
			lb := b.Field(3).(*array.ListBuilder)
			lb.Append(true)
			for range 16 {
				lb.ValueBuilder().(*array.Float32Builder).Append(float32(r.Float64()))
			}
		}
		out = append(out, b.NewRecordBatch())
		b.Release()
	}
	return out
}

// benchSource is a generated Arrow file loaded once into a cache.
type benchSource struct {
	file, cache string
	rows        int
}

var (
	benchOnce sync.Once
	benchSrc  benchSource
	benchErr  error
)

func getBenchSource(b testing.TB) benchSource {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "quiver-bench")
		if err != nil {
			benchErr = err
			return
		}
		n := benchRows()
		batches := genBatches(n, 64*1024)
		ds, err := FromBatches(benchSchema, batches, WithCacheDir(filepath.Join(dir, "cache")))
		if err != nil {
			benchErr = err
			return
		}
		file := filepath.Join(dir, "bench.arrow")
		if _, err := ds.Export(context.Background(), file, ExportOptions{}); err != nil {
			benchErr = err
			return
		}
		benchSrc = benchSource{file: file, cache: filepath.Join(dir, "cache"), rows: n}
		// Convert once so every benchmark starts from a warm cache.
		_, benchErr = Load(context.Background(), []string{file}, WithCacheDir(benchSrc.cache))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchSrc
}

func loadBench(b testing.TB, opts ...Option) *Dataset {
	src := getBenchSource(b)
	splits, err := Load(context.Background(), []string{src.file}, append([]Option{WithCacheDir(src.cache)}, opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	return splits["train"]
}

func dataBytesOf(b *testing.B, ds *Dataset) int64 {
	st, err := ds.resolve(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return estimateBytes(st)
}

// touch reads every byte of every buffer of a batch (as uint64 words), so
// iteration benchmarks pay for the data, as a consumer would.
func touch(rb arrow.RecordBatch) uint64 {
	var x uint64
	for _, c := range rb.Columns() {
		x ^= touchData(c.Data())
	}
	return x
}

func touchData(d arrow.ArrayData) uint64 {
	var x uint64
	for _, buf := range d.Buffers() {
		if buf != nil {
			x ^= touchBytes(buf.Bytes())
		}
	}
	for _, c := range d.Children() {
		x ^= touchData(c)
	}
	return x
}

func touchBytes(p []byte) uint64 {
	var x uint64
	n := len(p) / 8
	if n > 0 {
		words := unsafe.Slice((*uint64)(unsafe.Pointer(&p[0])), n)
		for _, w := range words {
			x ^= w
		}
	}
	for _, c := range p[n*8:] {
		x ^= uint64(c)
	}
	return x
}

func rssKB() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	return 0
}

var sink uint64

// BenchmarkReload measures Load of an already-cached dataset: resolving
// the file, opening the cache entry and mapping it.
func BenchmarkReload(b *testing.B) {
	getBenchSource(b)
	// RSS a loaded dataset holds: measured around the first load, with the
	// Go heap returned to the OS on both sides.
	debug.FreeOSMemory()
	time.Sleep(100 * time.Millisecond) // let cleanups of earlier datasets unmap
	debug.FreeOSMemory()
	before := rssKB()
	first := loadBench(b)
	debug.FreeOSMemory()
	rss := float64(rssKB()-before) / 1024
	runtime.KeepAlive(first)
	var ds *Dataset
	for b.Loop() {
		ds = loadBench(b)
	}
	n, _ := ds.Len(context.Background())
	b.ReportMetric(float64(n), "rows")
	b.ReportMetric(rss, "MB-rss/load")
	runtime.KeepAlive(ds)
}

// BenchmarkRawScan reads the cache entry's mapped bytes directly: the
// ceiling for sequential iteration.
func BenchmarkRawScan(b *testing.B) {
	ds := loadBench(b)
	st, err := ds.resolve(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(st.src.entry.Dir, st.src.entry.Files[0])
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	info, _ := f.Stat()
	m, err := unix.Mmap(int(f.Fd()), 0, int(info.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		b.Fatal(err)
	}
	defer unix.Munmap(m)
	b.SetBytes(info.Size())
	cpu := startCPU()
	for b.Loop() {
		sink ^= touchBytes(m)
	}
	cpu.report(b)
}

// BenchmarkIterateSequential iterates the cached dataset in order, reading
// every buffer.
func BenchmarkIterateSequential(b *testing.B) {
	ds := loadBench(b)
	b.SetBytes(dataBytesOf(b, ds))
	ctx := context.Background()
	cpu := startCPU()
	for b.Loop() {
		for rb, err := range ds.Batches(ctx, 64*1024) {
			if err != nil {
				b.Fatal(err)
			}
			sink ^= touch(rb)
		}
	}
	cpu.report(b)
}

// BenchmarkIterateShuffled iterates a shuffled view in batches of 1000
// (gathered per source batch on the worker pool), reading every buffer.
func BenchmarkIterateShuffled(b *testing.B) {
	ds := loadBench(b).Shuffle(1)
	ctx := context.Background()
	if _, err := ds.Len(ctx); err != nil { // compute the permutation up front
		b.Fatal(err)
	}
	b.SetBytes(dataBytesOf(b, ds))
	cpu := startCPU()
	for b.Loop() {
		for rb, err := range ds.Batches(ctx, 1000) {
			if err != nil {
				b.Fatal(err)
			}
			sink ^= touch(rb)
		}
	}
	cpu.report(b)
}

// cpuBound is a map that spends real CPU per row.
func cpuBound(ctx context.Context, rb arrow.RecordBatch) (arrow.RecordBatch, error) {
	scores := rb.Column(1).(*array.Float64)
	fb := array.NewFloat64Builder(memory.DefaultAllocator)
	defer fb.Release()
	for i := range scores.Len() {
		v := scores.Value(i)
		for range 200 {
			v = math.Sin(v) + 1
		}
		fb.Append(v)
	}
	col := fb.NewArray()
	defer col.Release()
	cols := append([]arrow.Array{}, rb.Columns()...)
	cols[1] = col
	return array.NewRecordBatch(rb.Schema(), cols, rb.NumRows()), nil
}

// BenchmarkParallelMap runs a CPU-bound map over the dataset with 1 and 2
// workers (streamed, not cached).
func BenchmarkParallelMap(b *testing.B) {
	for _, w := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) {
			ds := loadBench(b, WithWorkers(w), WithBatchSize(4096)).Take(1<<16).Map("cpu@v1", cpuBound)
			ctx := context.Background()
			cpu := startCPU()
			for b.Loop() {
				for rb, err := range ds.Batches(ctx, 4096) {
					if err != nil {
						b.Fatal(err)
					}
					sink ^= uint64(rb.NumRows())
				}
			}
			cpu.report(b)
			b.ReportMetric(float64(1<<16)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkPipeline compares a first run of map → filter → shuffle (fresh
// cache each time) with a cache-hit re-run.
func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	src := getBenchSource(b)
	keep := func(ctx context.Context, rb arrow.RecordBatch) (*array.Boolean, error) {
		bb := array.NewBooleanBuilder(memory.DefaultAllocator)
		defer bb.Release()
		for _, v := range rb.Column(1).(*array.Float64).Float64Values() {
			bb.Append(v < 0.5)
		}
		return bb.NewBooleanArray(), nil
	}
	pipeline := func(cache string) *Dataset {
		splits, err := Load(ctx, []string{src.file}, WithCacheDir(cache))
		if err != nil {
			b.Fatal(err)
		}
		return splits["train"].Map("cpu@v1", cpuBound).Filter("half@v1", keep).Shuffle(3)
	}
	b.Run("first", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			cache := b.TempDir()
			// Reuse the converted source; only the pipeline is new.
			copyDir(b, src.cache, cache)
			b.StartTimer()
			if _, err := pipeline(cache).Len(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cache-hit", func(b *testing.B) {
		cache := b.TempDir()
		copyDir(b, src.cache, cache)
		if _, err := pipeline(cache).Len(ctx); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := pipeline(cache).Len(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func copyDir(b *testing.B, from, to string) {
	err := filepath.Walk(from, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if info.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if strings.HasSuffix(p, ".lock") {
			return nil
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.WriteFile(dst, raw, 0o644); err != nil {
			return err
		}
		return os.Chtimes(dst, time.Now(), info.ModTime())
	})
	if err != nil {
		b.Fatal(err)
	}
}

// cpuMeter reports the process CPU time per op: on a shared machine wall
// time includes waiting for a core, CPU time does not.
type cpuMeter struct{ start time.Duration }

func cpuNow() time.Duration {
	var ru unix.Rusage
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuMeter { return cpuMeter{cpuNow()} }

func (m cpuMeter) report(b *testing.B) {
	b.ReportMetric(float64(cpuNow()-m.start)/1e6/float64(b.N), "cpu-ms/op")
}

// BenchmarkShuffledTouchFloor is the floor under any shuffled iteration of
// the benchmark dataset: it only loads one byte of every cache line a row
// occupies (id, score, text offsets and bytes, emb offsets and floats), in
// permuted order, on GOMAXPROCS goroutines, copying nothing. Compare its
// MB/s with BenchmarkIterateSequential and BenchmarkIterateShuffled.
func BenchmarkShuffledTouchFloor(b *testing.B) {
	ds := loadBench(b)
	ctx := context.Background()
	st, err := ds.resolve(ctx)
	if err != nil {
		b.Fatal(err)
	}
	c := st.src.chunks
	type cols struct {
		id, score    []int64
		toff, eoff   []int32
		text, floats []byte
	}
	var cs []cols
	for i := range c.NumBatches() {
		rb, err := c.Batch(i)
		if err != nil {
			b.Fatal(err)
		}
		text := rb.Column(2).(*array.String)
		emb := rb.Column(3).(*array.List)
		cs = append(cs, cols{
			id:     rb.Column(0).(*array.Int64).Int64Values(),
			score:  unsafe.Slice((*int64)(unsafe.Pointer(&rb.Column(1).(*array.Float64).Float64Values()[0])), rb.NumRows()),
			toff:   text.ValueOffsets(),
			eoff:   emb.Offsets(),
			text:   text.ValueBytes(),
			floats: emb.ListValues().Data().Buffers()[1].Bytes(),
		})
	}
	perm := ops.Permutation(c.Len(), 1)
	workers := runtime.GOMAXPROCS(0)
	b.SetBytes(dataBytesOf(b, ds))
	for b.Loop() {
		var wg sync.WaitGroup
		for w := range workers {
			part := perm[int64(w)*c.Len()/int64(workers) : int64(w+1)*c.Len()/int64(workers)]
			wg.Go(func() {
				var x int64
				for _, p := range part {
					ci, r := c.Locate(p)
					k := &cs[ci]
					x += k.id[r] + k.score[r]
					for q := k.toff[r]; q < k.toff[r+1]; q += 64 {
						x += int64(k.text[q])
					}
					for q := k.eoff[r] * 4; q < k.eoff[r+1]*4; q += 64 {
						x += int64(k.floats[q])
					}
				}
				atomic.AddUint64(&sink, uint64(x))
			})
		}
		wg.Wait()
	}
	runtime.KeepAlive(ds)
}
