package streaming

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/spf13/afero"
)

// openWorkers bounds how many files Open inspects at once.
const openWorkers = 8

// Open returns a Stream over the files at locations: paths or glob patterns
// on the filesystem given by WithFs (default the OS filesystem), each
// pattern's matches sorted. Every Parquet row group is a shard; other files
// are one shard each. Open reads only footers, except for formats that do
// not record their row count (JSON Lines, CSV, Arrow streams), which it
// scans once to count. Files whose schemas differ are read as their unified
// schema (arrowio.UnifySchemas). Errors name the file.
func Open(ctx context.Context, locations []string, opts ...Option) (*Stream, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	fsys := o.fs
	if fsys == nil {
		fsys = afero.NewOsFs()
	}
	paths, err := expand(fsys, locations)
	if err != nil {
		return nil, err
	}
	src, err := openFiles(ctx, fsys, paths, o)
	if err != nil {
		return nil, err
	}
	return New(src, opts...)
}

// expand turns locations into paths, in order, each pattern's matches
// sorted. A pattern matching nothing is an error.
func expand(fsys afero.Fs, locations []string) ([]string, error) {
	if len(locations) == 0 {
		return nil, errors.New("streaming: no locations given")
	}
	var out []string
	for _, loc := range locations {
		if !strings.ContainsAny(loc, "*?[") {
			st, err := fsys.Stat(loc)
			if err != nil {
				return nil, fmt.Errorf("streaming: %w", err)
			}
			if st.IsDir() {
				return nil, fmt.Errorf("streaming: %s is a directory (give files or a glob)", loc)
			}
			out = append(out, loc)
			continue
		}
		m, err := afero.Glob(fsys, loc)
		if err != nil {
			return nil, fmt.Errorf("streaming: bad pattern %q: %w", loc, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("streaming: %s: no files match", loc)
		}
		sort.Strings(m)
		out = append(out, m...)
	}
	return out, nil
}

// fileSource reads shards of files through arrowio.
type fileSource struct {
	fs       afero.Fs
	schema   *arrow.Schema
	shards   []Shard
	readOpts []arrowio.ReadOption
	mem      memory.Allocator
}

type fileInfo struct {
	schema *arrow.Schema
	shards []Shard
	err    error
}

func openFiles(ctx context.Context, fsys afero.Fs, paths []string, o options) (*fileSource, error) {
	src := &fileSource{fs: fsys, mem: o.mem}
	src.readOpts = append([]arrowio.ReadOption{arrowio.WithBatchSize(o.chunkRows), arrowio.WithAllocator(o.mem)}, o.readOpts...)
	if len(o.columns) > 0 {
		src.readOpts = append(src.readOpts, arrowio.WithColumns(o.columns...))
	}
	infos := make([]fileInfo, len(paths))
	sem := make(chan struct{}, openWorkers)
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			infos[i] = src.inspect(ctx, p)
		})
	}
	wg.Wait()
	schemas := make([]*arrow.Schema, len(paths))
	for i, info := range infos {
		if info.err != nil {
			return nil, info.err
		}
		schemas[i] = info.schema
		src.shards = append(src.shards, info.shards...)
	}
	schema, err := arrowio.UnifySchemas(schemas...)
	if err != nil {
		return nil, fmt.Errorf("streaming: the files' schemas do not unify: %w", err)
	}
	src.schema = schema
	return src, nil
}

// inspect learns a file's schema and shards from its footer, or by a
// counting scan.
func (s *fileSource) inspect(ctx context.Context, path string) fileInfo {
	r, err := arrowio.Open(s.fs, path, s.readOpts...)
	if err != nil {
		return fileInfo{err: err}
	}
	defer r.Close()
	info := fileInfo{schema: r.Schema()}
	if lr, ok := r.(arrowio.LayoutReader); ok && r.Format() == arrowio.FormatParquet {
		for g, rg := range lr.Layout().RowGroups {
			info.shards = append(info.shards, Shard{Path: path, RowGroup: g, Rows: rg.Rows})
		}
		return info
	}
	n, err := arrowio.Count(ctx, r)
	if err != nil {
		return fileInfo{err: err}
	}
	info.shards = []Shard{{Path: path, RowGroup: -1, Rows: n}}
	return info
}

func (s *fileSource) Schema() *arrow.Schema { return s.schema }
func (s *fileSource) Shards() []Shard       { return s.shards }

// Read yields shard i, converted to the unified schema if its file's
// schema differs.
func (s *fileSource) Read(ctx context.Context, i int) iter.Seq2[arrow.RecordBatch, error] {
	sh := s.shards[i]
	return func(yield func(arrow.RecordBatch, error) bool) {
		opts := s.readOpts
		if sh.RowGroup >= 0 {
			opts = append(opts[:len(opts):len(opts)], arrowio.WithRowGroups(sh.RowGroup))
		}
		r, err := arrowio.Open(s.fs, sh.Path, opts...)
		if err != nil {
			yield(nil, err)
			return
		}
		defer r.Close()
		cast := !r.Schema().Equal(s.schema)
		for b, err := range r.Batches(ctx) {
			if err != nil {
				yield(nil, err)
				return
			}
			if !cast {
				if !yield(b, nil) {
					return
				}
				continue
			}
			c, err := arrowio.CastBatch(ctx, s.mem, b, s.schema)
			if err != nil {
				yield(nil, err)
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
