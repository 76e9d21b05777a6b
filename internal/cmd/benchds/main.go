// Command benchds runs one Quiver dataset operation for
// scripts/bench-dataset.sh, so that each can be timed (and its peak RSS
// taken) as a separate process against DuckDB on the same data:
//
//	benchds -cache DIR -in DATA.jsonl load             convert into the cache
//	benchds -cache DIR -in DATA.jsonl reload           open the cached dataset
//	benchds -cache DIR -in DATA.jsonl parquet OUT      export as one Parquet file
//	benchds -cache DIR -in DATA.jsonl filter OUT       rows with score > 0.5 to Parquet
//	benchds -cache DIR -in DATA.jsonl shuffle OUT      full shuffle to Parquet
//	benchds -cache DIR -in DATA.jsonl shards OUTDIR    8 Parquet shards
//	benchds -cache DIR -in DATA.jsonl iterate          sequential and shuffled iteration
//	benchds openfile FILE.arrow                        open with and without batch headers
//
// Parquet outputs use zstd (Quiver's default). It prints one line of
// figures measured inside the process (seconds; rows).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/dataset"
	"github.com/spf13/afero"
)

func main() {
	cache := flag.String("cache", "", "Quiver cache directory")
	in := flag.String("in", "", "input JSON Lines file")
	shards := flag.Int("shards", 8, "shard count for the shards op")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchds:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "benchds:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if flag.Arg(0) == "openfile" {
		if err := openFile(flag.Arg(1)); err != nil {
			fmt.Fprintln(os.Stderr, "benchds:", err)
			os.Exit(1)
		}
		return
	}
	if *cache == "" || *in == "" || flag.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: benchds -cache DIR -in DATA.jsonl OP [OUT]")
		os.Exit(2)
	}
	if err := run(context.Background(), *cache, *in, flag.Arg(0), flag.Arg(1), *shards); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "benchds:", err)
		os.Exit(1)
	}
}

func load(ctx context.Context, cache, in string) (*dataset.Dataset, error) {
	splits, err := dataset.Load(ctx, []string{in}, dataset.WithCacheDir(cache))
	if err != nil {
		return nil, err
	}
	ds, ok := splits["train"]
	if !ok {
		return nil, fmt.Errorf("no train split in %v", splits.Names())
	}
	return ds, nil
}

// highScore keeps rows with score > 0.5.
func highScore(_ context.Context, b arrow.RecordBatch) (*array.Boolean, error) {
	idx := b.Schema().FieldIndices("score")
	if len(idx) == 0 {
		return nil, fmt.Errorf("no score column")
	}
	col, ok := b.Column(idx[0]).(*array.Float64)
	if !ok {
		return nil, fmt.Errorf("score is %s, not float64", b.Column(idx[0]).DataType())
	}
	bb := array.NewBooleanBuilder(memory.DefaultAllocator)
	defer bb.Release()
	bb.Reserve(col.Len())
	for i := range col.Len() {
		bb.UnsafeAppend(col.IsValid(i) && col.Value(i) > 0.5)
	}
	return bb.NewBooleanArray(), nil
}

func run(ctx context.Context, cache, in, op, out string, shards int) error {
	start := time.Now()
	peaks.start()
	ds, err := load(ctx, cache, in)
	if err != nil {
		return err
	}
	opened := time.Since(start)
	var rows int64
	pq := dataset.ExportOptions{Format: "parquet"}
	switch op {
	case "load", "reload":
		rows, err = ds.Len(ctx)
		fmt.Printf("%s: open %.3f ms, %d rows, %s\n", op, float64(opened.Microseconds())/1000, rows, rss())
		return err
	case "parquet":
		_, err = ds.Export(ctx, out, pq)
	case "filter":
		_, err = ds.Filter("score-gt-half@1", highScore).Export(ctx, out, pq)
	case "shuffle":
		_, err = ds.Shuffle(1).Export(ctx, out, pq)
	case "shards":
		pq.NumShards = shards
		_, err = ds.Export(ctx, out, pq)
	case "iterate":
		return iterate(ctx, ds)
	default:
		return fmt.Errorf("unknown op %q", op)
	}
	if err != nil {
		return err
	}
	anon, file := peaks.get()
	fmt.Printf("%s: %.2f s, peak RssAnon %.0f MB, peak RssFile %.0f MB\n", op, time.Since(start).Seconds(), anon, file)
	return ds.Close()
}

// iterate times a sequential pass in batches of 64K rows, a raw scan of
// the same Arrow buffers, and a shuffled pass in batches of 1000 rows,
// each reading every byte of every batch.
func iterate(ctx context.Context, ds *dataset.Dataset) error {
	var cpu time.Duration // process CPU time of the last pass
	pass := func(d *dataset.Dataset, size int) (time.Duration, int64, uint64, error) {
		t, c0 := time.Now(), cpuTime()
		defer func() { cpu = cpuTime() - c0 }()
		var bytes int64
		var x uint64
		for b, err := range d.Batches(ctx, size) {
			if err != nil {
				return 0, 0, 0, err
			}
			n, h := touch(b)
			bytes += n
			x ^= h
		}
		return time.Since(t), bytes, x, nil
	}
	// Warm the page cache and the permutation first.
	if _, _, _, err := pass(ds, 64<<10); err != nil {
		return err
	}
	sh := ds.Shuffle(1)
	if _, err := sh.Len(ctx); err != nil {
		return err
	}
	seq, bytes, x1, err := pass(ds, 64<<10)
	if err != nil {
		return err
	}
	seqCPU := cpu
	shuf, sbytes, x2, err := pass(sh, 1000)
	if err != nil {
		return err
	}
	shufCPU := cpu
	mbs := func(n int64, d time.Duration) float64 { return float64(n) / 1e6 / d.Seconds() }
	fmt.Printf("iterate: sequential %.0f MB/s (%d MB in %.3f s, CPU %.3f s), shuffled/1000 %.0f MB/s (%.3f s, CPU %.3f s), ratio %.3f [%x]\n",
		mbs(bytes, seq), bytes>>20, seq.Seconds(), seqCPU.Seconds(), mbs(sbytes, shuf), shuf.Seconds(), shufCPU.Seconds(),
		mbs(sbytes, shuf)/mbs(bytes, seq), x1^x2)
	return ds.Close()
}

// touch reads every buffer of b as 64-bit words and returns the bytes of
// the rows' values it read (buffers of slices count whole).
func touch(b arrow.RecordBatch) (int64, uint64) {
	var n int64
	var x uint64
	var walk func(d arrow.ArrayData)
	walk = func(d arrow.ArrayData) {
		for _, buf := range d.Buffers() {
			if buf == nil {
				continue
			}
			p := buf.Bytes()
			n += int64(len(p))
			if k := len(p) / 8; k > 0 {
				for _, w := range unsafe.Slice((*uint64)(unsafe.Pointer(&p[0])), k) {
					x ^= w
				}
			}
		}
		for _, c := range d.Children() {
			walk(c)
		}
	}
	for _, c := range b.Columns() {
		walk(c.Data())
	}
	return n, x
}

// rss reports the process's resident set from /proc/self/status.
func rss() string {
	runtime.GC()
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "rss unknown"
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.Fields(rest)[0])
			return fmt.Sprintf("RSS %.1f MB", float64(kb)/1024)
		}
	}
	return "rss unknown"
}

// openFile times opening an Arrow file the way a reload did before entries
// recorded row counts (every batch header read) and the way it does now
// (OpenArrowFileRows), alternating, best of five each.
func openFile(path string) error {
	fs := afero.NewOsFs()
	f, err := arrowio.OpenArrowFile(fs, path)
	if err != nil {
		return err
	}
	rows := make([]int64, f.NumBatches())
	for i := range rows {
		rows[i] = f.BatchRows(i)
	}
	f.Close()
	best := func(open func() (*arrowio.ArrowFile, error)) (time.Duration, error) {
		var b time.Duration
		for i := range 5 {
			t := time.Now()
			f, err := open()
			if err != nil {
				return 0, err
			}
			d := time.Since(t)
			f.Close()
			if i == 0 || d < b {
				b = d
			}
		}
		return b, nil
	}
	eager, err := best(func() (*arrowio.ArrowFile, error) { return arrowio.OpenArrowFile(fs, path) })
	if err != nil {
		return err
	}
	lazy, err := best(func() (*arrowio.ArrowFile, error) { return arrowio.OpenArrowFileRows(fs, path, rows) })
	if err != nil {
		return err
	}
	fmt.Printf("openfile: %d batches; every header read %.3f ms (%.1f µs/batch); row counts known %.3f ms; ratio %.3f\n",
		len(rows), ms(eager), float64(eager.Microseconds())/float64(len(rows)), ms(lazy), lazy.Seconds()/eager.Seconds())
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peaks samples the process's anonymous (heap) and file-backed (mapped
// page cache) resident memory every 20 ms: /usr/bin/time's peak RSS adds
// the two, and the pages of a mapped cache file count in it although the
// kernel can drop them at any time.
var peaks rssPeaks

type rssPeaks struct {
	mu         sync.Mutex
	anon, file int64 // kB
}

func (p *rssPeaks) start() {
	go func() {
		for {
			p.sample()
			time.Sleep(20 * time.Millisecond)
		}
	}()
}

func (p *rssPeaks) sample() {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for line := range strings.SplitSeq(string(raw), "\n") {
		for key, dst := range map[string]*int64{"RssAnon:": &p.anon, "RssFile:": &p.file} {
			if rest, ok := strings.CutPrefix(line, key); ok {
				kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
				*dst = max(*dst, kb)
			}
		}
	}
}

// get returns the peaks in MB.
func (p *rssPeaks) get() (anon, file float64) {
	p.sample()
	p.mu.Lock()
	defer p.mu.Unlock()
	return float64(p.anon) / 1024, float64(p.file) / 1024
}
