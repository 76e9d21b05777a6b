package streaming

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/hubfs"
	"github.com/quiverdata/quiver/internal/recycle"
	"github.com/spf13/afero"
)

// openWorkers bounds how many files Open inspects at once.
const openWorkers = 8

// Open returns a Stream over the files at locations. A location is an
// hf:// URL, a file:// URL or a path on the filesystem given by WithFs
// (default the OS filesystem); it may be a glob or a directory (see
// hubfs.Resolve), and its files are taken sorted. Hub files are read with
// HTTP range requests through hubfs (WithHubOptions configures it:
// endpoint, token, retries, memory cache): their Parquet footers are read
// once, here, and when shards are read in order the row groups of the
// next two shards are fetched while the current ones decode.
//
// Every Parquet row group and every Arrow IPC file batch is a shard; other
// files are one shard each. Open reads only footers, except for formats
// that do not record their row count (JSON Lines, CSV, Arrow streams),
// which it scans once to count. Files whose schemas differ are read as
// their unified schema (arrowio.UnifySchemas). Errors name the file.
func Open(ctx context.Context, locations []string, opts ...Option) (*Stream, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	if len(locations) == 0 {
		return nil, errors.New("streaming: no locations given")
	}
	local := o.fs
	if local == nil {
		local = afero.NewOsFs()
	}
	var files []fileRef
	for _, loc := range locations {
		res, err := hubfs.Resolve(ctx, loc, append([]hubfs.Option{hubfs.WithLocalFs(local)}, o.hubOpts...)...)
		if err != nil {
			return nil, fmt.Errorf("streaming: %s: %w", loc, err)
		}
		for _, p := range res.Paths {
			ref := fileRef{fs: res.Fs, path: p, name: p}
			if res.Commit != "" {
				ref.remote = true
			}
			if res.Commit != "" && res.Identity != nil {
				// hf://TYPE/NS/NAME@COMMIT/PATH#ETAG pins the bytes read
				if id, err := res.Identity(p); err == nil {
					ref.name = id
				}
			}
			files = append(files, ref)
		}
	}
	src, err := openFiles(ctx, files, o)
	if err != nil {
		return nil, err
	}
	return New(src, opts...)
}

// fileRef is one file of a stream: where it is read and how it is named.
type fileRef struct {
	fs     afero.Fs
	path   string // on fs
	name   string // in shards and errors
	remote bool   // on the Hub: the read cache applies
}

// fileSource reads shards of files through arrowio.
type fileSource struct {
	schema   *arrow.Schema
	files    []fileRef
	shards   []Shard
	fileOf   []int // file index of each shard
	readOpts []arrowio.ReadOption
	mem      memory.Allocator
	cache    *readCache               // nil: none
	readers  readerPool               // open Parquet files, shared by their row groups
	footers  []*arrowio.ParquetFooter // by file: kept from Open for remote Parquet files, else nil
}

// Parquet footers of remote files are kept from Open to the reads, so
// that opening a file to read its row groups sends no request: each
// footer up to maxKeptFooter bytes, all of them up to maxKeptFooters.
const (
	maxKeptFooter  = 1 << 20
	maxKeptFooters = 64 << 20
)

// hold and unhold bracket a cursor's reads (see holder).
func (s *fileSource) hold()   { s.readers.hold() }
func (s *fileSource) unhold() { s.readers.unhold() }

type fileInfo struct {
	schema *arrow.Schema
	shards []Shard
	footer *arrowio.ParquetFooter // remote Parquet files only
	err    error
}

func openFiles(ctx context.Context, files []fileRef, o options) (*fileSource, error) {
	src := &fileSource{files: files, mem: o.mem}
	if o.cacheDir != "" && o.cacheMax > 0 {
		src.cache = &readCache{dir: o.cacheDir, max: o.cacheMax}
		if err := src.cache.evict(o.cacheMax); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("streaming: read cache: %w", err)
		}
	}
	src.readOpts = append([]arrowio.ReadOption{arrowio.WithBatchSize(o.chunkRows), arrowio.WithAllocator(recycle.For(o.mem))}, o.readOpts...)
	if len(o.columns) > 0 {
		src.readOpts = append(src.readOpts, arrowio.WithColumns(o.columns...))
	}
	infos := make([]fileInfo, len(files))
	sem := make(chan struct{}, openWorkers)
	var wg sync.WaitGroup
	for i, f := range files {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			infos[i] = src.inspect(ctx, f)
		})
	}
	wg.Wait()
	schemas := make([]*arrow.Schema, len(files))
	src.footers = make([]*arrowio.ParquetFooter, len(files))
	kept := 0
	for i, info := range infos {
		if info.err != nil {
			return nil, info.err
		}
		if ft := info.footer; ft != nil && ft.Size() <= maxKeptFooter && kept+ft.Size() <= maxKeptFooters {
			src.footers[i] = ft
			kept += ft.Size()
		}
		schemas[i] = info.schema
		for _, sh := range info.shards {
			src.shards = append(src.shards, sh)
			src.fileOf = append(src.fileOf, i)
		}
	}
	schema, err := arrowio.UnifySchemas(schemas...)
	if err != nil {
		return nil, fmt.Errorf("streaming: the files' schemas do not unify: %w", err)
	}
	src.schema = schema
	return src, nil
}

// format returns the format the readers will use for path: the one forced
// by the read options, or else the extension's.
func (s *fileSource) format(path string) arrowio.Format {
	var c arrowio.ReadConfig
	for _, o := range s.readOpts {
		o(&c)
	}
	if c.Format != arrowio.FormatUnknown {
		return c.Format
	}
	f, _, _ := arrowio.DetectFormat(path)
	return f
}

// inspect learns a file's schema and shards from its footer, or by a
// counting scan.
func (s *fileSource) inspect(ctx context.Context, ref fileRef) fileInfo {
	f, opened, err := s.cached(ref, false)
	if err != nil {
		return fileInfo{err: err}
	}
	defer opened() // inspect's readers are closed on return
	f.name = ref.name
	switch s.format(f.path) {
	case arrowio.FormatParquet:
		r, err := arrowio.OpenParquet(f.fs, f.path, s.readOpts...)
		if err != nil {
			return fileInfo{err: err}
		}
		defer r.Close()
		info := fileInfo{schema: r.Schema()}
		if ref.remote {
			info.footer = r.Footer()
		}
		for _, g := range r.RowGroups() {
			info.shards = append(info.shards, Shard{Path: f.name, RowGroup: g.Index, Batch: -1, Rows: g.NumRows})
		}
		return info
	case arrowio.FormatArrowFile:
		af, err := arrowio.OpenArrowFile(f.fs, f.path, s.readOpts...)
		if err == nil {
			defer af.Close()
			info := fileInfo{schema: af.Schema()}
			for b := range af.NumBatches() {
				info.shards = append(info.shards, Shard{Path: f.name, RowGroup: -1, Batch: b, Rows: af.BatchRows(b)})
			}
			return info
		}
		// Not the file format (an HF save_to_disk stream named .arrow):
		// read it whole below.
	}
	r, err := arrowio.Open(f.fs, f.path, s.readOpts...)
	if err != nil {
		return fileInfo{err: err}
	}
	defer r.Close()
	n, err := arrowio.Count(ctx, r)
	if err != nil {
		return fileInfo{err: err}
	}
	return fileInfo{schema: r.Schema(), shards: []Shard{{Path: f.name, RowGroup: -1, Batch: -1, Rows: n}}}
}

func (s *fileSource) Schema() *arrow.Schema { return s.schema }
func (s *fileSource) Shards() []Shard       { return s.shards }

// Read yields shard i, converted to the unified schema if its file's
// schema differs.
func (s *fileSource) Read(ctx context.Context, i int) iter.Seq2[arrow.RecordBatch, error] {
	sh, f := s.shards[i], s.files[s.fileOf[i]]
	batches := func(yield func(arrow.RecordBatch, error) bool) {
		f, opened, err := s.cached(f, true)
		if err != nil {
			yield(nil, err)
			return
		}
		defer opened()
		if sh.Batch >= 0 {
			af, err := arrowio.OpenArrowFile(f.fs, f.path, s.readOpts...)
			opened()
			if err != nil {
				yield(nil, err)
				return
			}
			defer af.Close()
			b, err := af.BatchAt(sh.Batch)
			if err != nil {
				yield(nil, err)
				return
			}
			defer b.Release()
			yield(b, nil)
			return
		}
		if sh.RowGroup >= 0 {
			// The file stays open for its other row groups.
			r, release, err := s.readers.acquire(s.fileOf[i], func() (*arrowio.ParquetReader, error) {
				return arrowio.OpenParquetFooter(f.fs, f.path, s.footers[s.fileOf[i]], s.readOpts...)
			})
			opened()
			if err != nil {
				yield(nil, err)
				return
			}
			defer release()
			for b, err := range r.ReadRowGroups(ctx, []int{sh.RowGroup}) {
				if !yield(b, err) || err != nil {
					return
				}
			}
			return
		}
		r, err := arrowio.Open(f.fs, f.path, s.readOpts...)
		opened()
		if err != nil {
			yield(nil, err)
			return
		}
		defer r.Close()
		for b, err := range r.Batches(ctx) {
			if !yield(b, err) || err != nil {
				return
			}
		}
	}
	return func(yield func(arrow.RecordBatch, error) bool) {
		for b, err := range batches {
			if err != nil {
				yield(nil, err)
				return
			}
			if b.Schema().Equal(s.schema) {
				if !yield(b, nil) {
					return
				}
				continue
			}
			c, err := arrowio.CastBatch(ctx, s.mem, b, s.schema)
			if err != nil {
				yield(nil, fmt.Errorf("%s: %w", sh, err))
				return
			}
			ok := yield(c, nil)
			c.Release()
			if !ok {
				return
			}
		}
	}
}
