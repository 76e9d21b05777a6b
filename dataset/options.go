package dataset

import (
	"context"
	"log/slog"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/spf13/afero"
)

// DefaultBatchSize is the number of rows per batch a dataset transforms and
// writes at a time unless WithBatchSize says otherwise.
const DefaultBatchSize = 16 * 1024

// Progress reports how far a conversion or materialization has come.
type Progress struct {
	// Stage is "convert" (Load reading source files), "materialize" or
	// "export" (Export and SaveToDisk writing files).
	Stage string
	// File is the source file being converted or the file being exported
	// ("" when materializing).
	File string
	// FilesDone and Files count source files (Load) or output files
	// (export).
	FilesDone, Files int
	// Rows is the number of rows written so far in this stage.
	Rows int64
	// Done is true on the last report of a stage.
	Done bool
}

// Resolver turns a location (a path, a glob, an hf:// URL) into a
// filesystem and the files it names, plus a stable identity string per
// file for fingerprints. The default, DefaultResolver, sends hf:// URLs to
// hubfs and everything else to LocalResolver.
type Resolver interface {
	Resolve(ctx context.Context, location string) (fsys afero.Fs, files []ResolvedFile, err error)
}

// ResolvedFile is one file named by a location.
type ResolvedFile struct {
	// Path is the file's path on the resolver's filesystem.
	Path string
	// Identity identifies this version of the file: for local files the
	// absolute path, size and modification time; for Hub files repo,
	// commit, path and etag. It is hashed into the fingerprint, never the
	// file's bytes.
	Identity string
	// Size is the file size in bytes, or -1 when unknown.
	Size int64
}

// config is shared by a dataset and everything derived from it.
type config struct {
	cacheDir  string
	cache     *Cache
	cacheOnce sync.Once
	cacheErr  error

	workers   int
	mem       memory.Allocator
	batchSize int
	log       *slog.Logger
	progress  func(Progress)
	// sweepBytes is the Arrow bytes a bulk write of a permuted selection
	// gathers per sweep of its source (0: DefaultSweepBytes; < 0: never
	// sweep).
	sweepBytes int64

	// Load only.
	resolver Resolver
	readOpts []arrowio.ReadOption
	readDesc string
	splits   map[string][]string
}

// Option configures Load, FromBatches and FromRows. Datasets derived by ops
// keep the options of their parent.
type Option func(*config)

// WithCache sets the cache to use. Default: OpenCache(DefaultCacheDir()).
func WithCache(c *Cache) Option { return func(cfg *config) { cfg.cache = c } }

// WithCacheDir sets the cache directory. Default: DefaultCacheDir().
func WithCacheDir(dir string) Option { return func(cfg *config) { cfg.cacheDir = dir } }

// WithWorkers sets how many goroutines run map, filter, gathers and
// conversion. Default GOMAXPROCS. Output never depends on it.
func WithWorkers(n int) Option { return func(cfg *config) { cfg.workers = n } }

// WithAllocator sets the allocator for batches built by ops. Default
// memory.DefaultAllocator.
func WithAllocator(mem memory.Allocator) Option { return func(cfg *config) { cfg.mem = mem } }

// WithSweepBytes sets how many Arrow bytes of rows an export or
// materialization of a shuffled, sorted or selected dataset gathers per
// pass over its source (see Export). Larger passes are faster (fewer
// passes) and hold more memory; n < 0 turns passes off, which is fastest
// when the source fits in RAM but leaves every page of the mapped source
// in the process's resident set. Default DefaultSweepBytes.
func WithSweepBytes(n int64) Option { return func(cfg *config) { cfg.sweepBytes = n } }

// WithBatchSize sets how many rows ops see at a time when a dataset is
// materialized or converted. Default DefaultBatchSize.
func WithBatchSize(n int) Option { return func(cfg *config) { cfg.batchSize = n } }

// WithLogger sets where notices go (for example that an op is not
// cacheable). Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(cfg *config) { cfg.log = l } }

// WithProgress sets a callback for progress reports of Load conversions and
// materializations. It is called from one goroutine at a time. Default none.
func WithProgress(fn func(Progress)) Option { return func(cfg *config) { cfg.progress = fn } }

// WithResolver sets how Load turns locations into files. Default
// DefaultResolver{}.
func WithResolver(r Resolver) Option { return func(cfg *config) { cfg.resolver = r } }

// WithReadOptions passes options to the arrowio readers Load uses. desc
// must describe them canonically (for example "columns=a,b;infer=all"):
// it is part of the fingerprint, because reader options change the data.
func WithReadOptions(desc string, opts ...arrowio.ReadOption) Option {
	return func(cfg *config) { cfg.readOpts, cfg.readDesc = opts, desc }
}

// WithSplits maps split names to locations, overriding split detection
// (Hugging Face's data_files={"train": [...], ...}).
func WithSplits(splits map[string][]string) Option {
	return func(cfg *config) { cfg.splits = splits }
}

func newConfig(opts []Option) *config {
	cfg := &config{}
	for _, o := range opts {
		o(cfg)
	}
	if cfg.workers <= 0 {
		cfg.workers = runtime.GOMAXPROCS(0)
	}
	if cfg.mem == nil {
		cfg.mem = memory.DefaultAllocator
	}
	if cfg.batchSize <= 0 {
		cfg.batchSize = DefaultBatchSize
	}
	if cfg.sweepBytes == 0 {
		cfg.sweepBytes = DefaultSweepBytes
	}
	if cfg.log == nil {
		cfg.log = slog.Default()
	}
	if cfg.resolver == nil {
		cfg.resolver = DefaultResolver{}
	}
	return cfg
}

// getCache returns the configured cache, opening the default one once.
func (c *config) getCache() (*Cache, error) {
	c.cacheOnce.Do(func() {
		if c.cache != nil {
			return
		}
		dir := c.cacheDir
		if dir == "" {
			if dir, c.cacheErr = DefaultCacheDir(); c.cacheErr != nil {
				return
			}
		}
		c.cache, c.cacheErr = OpenCache(dir)
	})
	return c.cache, c.cacheErr
}

func (c *config) report(p Progress) {
	if c.progress != nil {
		c.progress(p)
	}
}
