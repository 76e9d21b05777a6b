package streaming

import (
	"fmt"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/hubfs"
	"github.com/spf13/afero"
)

// Option configures how a Stream reads (Open, New).
type Option func(*options)

type options struct {
	fs        afero.Fs
	columns   []string
	readOpts  []arrowio.ReadOption
	chunkRows int
	prefetch  int
	workers   int
	mem       memory.Allocator
	hubOpts   []hubfs.Option
	cacheDir  string
	cacheMax  int64
}

func newOptions(opts []Option) (options, error) {
	o := options{chunkRows: DefaultChunkRows, prefetch: DefaultPrefetch, workers: runtime.GOMAXPROCS(0), mem: memory.DefaultAllocator}
	for _, f := range opts {
		f(&o)
	}
	switch {
	case o.chunkRows < 1:
		return o, fmt.Errorf("streaming: chunk rows %d must be positive", o.chunkRows)
	case o.prefetch < 0:
		return o, fmt.Errorf("streaming: prefetch %d is negative", o.prefetch)
	case o.workers < 1:
		return o, fmt.Errorf("streaming: workers %d must be positive", o.workers)
	}
	return o, nil
}

// WithFs reads local locations (plain paths, file:// URLs) from fsys instead
// of the OS filesystem (Open only).
func WithFs(fsys afero.Fs) Option { return func(o *options) { o.fs = fsys } }

// WithColumns reads only the named columns, in that order (Open only).
// Default: all columns.
func WithColumns(names ...string) Option { return func(o *options) { o.columns = names } }

// WithReadOptions passes options to the arrowio readers of the files (Open
// only), for example arrowio.WithSchema for JSON Lines.
func WithReadOptions(opts ...arrowio.ReadOption) Option {
	return func(o *options) { o.readOpts = append(o.readOpts, opts...) }
}

// WithChunkRows sets the most rows the stream reads and gathers at a time,
// which is also the largest batch yielded without Batch. Default
// DefaultChunkRows. Memory grows with it.
func WithChunkRows(n int) Option { return func(o *options) { o.chunkRows = n } }

// WithPrefetch sets how many chunks are decoded ahead of the consumer on the
// stream's background goroutine. Default DefaultPrefetch; 0 still overlaps
// one chunk.
func WithPrefetch(n int) Option { return func(o *options) { o.prefetch = n } }

// WithWorkers sets how many goroutines gather shuffled rows and run the
// ops, in parallel on different chunks; results are delivered in order, so
// the output does not depend on it. Default GOMAXPROCS.
func WithWorkers(n int) Option { return func(o *options) { o.workers = n } }

// WithAllocator sets the allocator of gathered batches and readers.
// Default memory.DefaultAllocator.
func WithAllocator(mem memory.Allocator) Option { return func(o *options) { o.mem = mem } }

// WithHubOptions configures the hubfs filesystem of hf:// locations (Open
// only): endpoint, token, retries, memory cache. Default: hubfs's defaults
// (the public Hub, HF_TOKEN, retries on).
func WithHubOptions(opts ...hubfs.Option) Option {
	return func(o *options) { o.hubOpts = append(o.hubOpts, opts...) }
}

// WithReadCache keeps local copies of remote (hf://) files in dir, using at
// most maxBytes, the least recently used evicted first (Open only). A file
// is copied whole the first time one of its shards is read, and later
// epochs and runs read the copy. Copies are named by the file's commit and
// ETag, so they are never stale, and several processes may share dir. A
// file larger than maxBytes is read remotely. Default: no cache; nothing is
// written to disk.
func WithReadCache(dir string, maxBytes int64) Option {
	return func(o *options) { o.cacheDir, o.cacheMax = dir, maxBytes }
}
