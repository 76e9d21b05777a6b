package dataset

import (
	"errors"
	"github.com/quiverdata/quiver/arrowio"
	"io"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdata/quiver/ops"
)

// source is the physical data under a dataset: record batches (memory-
// mapped from cache files, or in memory) addressed as one row sequence. It
// is immutable. When the source becomes unreachable its batches are
// released and its files closed (and temporary files removed); batches a
// user retained stay valid, because a mapping lives until its last batch
// is released.
type source struct {
	chunks ops.Chunks
	// where describes the data for messages ("cache entry 3f2a…").
	where string
	// entry is the cache entry the data was read from, if any.
	entry *Entry
	// deps are sources whose batches this one loads (Concatenate,
	// Interleave); holding them keeps their files open.
	deps []*source
	// evictChunk, when set, drops the mapped pages of chunk i from the
	// resident set (see evictPages).
	evictChunk func(i int)
	// files are the mapped cache files the chunks read (opened by
	// openEntry; closed through res): bytes sums their sizes instead of
	// loading every batch, and evictPages evicts their pages.
	files []*arrowio.ArrowFile
	// res is released by close, or when the source is collected.
	res *sourceResources
}

// sourceResources is what a source releases when it is collected. It must
// not point back to the source.
type sourceResources struct {
	chunks  ops.Chunks // its loaded batches are released
	closers []io.Closer
	remove  []func() error

	once sync.Once
	err  error
}

// release frees the resources once; later calls return the first result.
func (r *sourceResources) release() error {
	r.once.Do(func() { r.err = r.releaseNow() })
	return r.err
}

func (r *sourceResources) releaseNow() error {
	for _, b := range r.chunks.Close() {
		if b != nil {
			b.Release()
		}
	}
	var errs []error
	for _, c := range r.closers {
		errs = append(errs, c.Close())
	}
	for _, rm := range r.remove {
		errs = append(errs, rm())
	}
	return errors.Join(errs...)
}

// newSource wraps batches (owned by the source from now on) and resources
// to free when the source is collected.
func newSource(schema *arrow.Schema, batches []arrow.RecordBatch, where string, res *sourceResources) *source {
	return newChunkSource(ops.NewChunks(schema, batches), where, res)
}

// newChunkSource is newSource over possibly lazy chunks; every batch they
// load is owned by the source.
func newChunkSource(chunks ops.Chunks, where string, res *sourceResources) *source {
	if res == nil {
		res = &sourceResources{}
	}
	s := &source{chunks: chunks, where: where, res: res}
	res.chunks = chunks
	runtime.AddCleanup(s, func(r *sourceResources) { _ = r.release() }, res)
	return s
}

func (s *source) len() int64 { return s.chunks.Len() }

// rowBytes returns the source's average Arrow bytes per row (at least 1).
func (s *source) rowBytes() int64 { return max(1, s.bytes()/max(1, s.len())) }

// bytes returns the Arrow bytes of the source's batches: the size of the
// files they map, or the sum over its batches (loading them).
func (s *source) bytes() int64 {
	var total int64
	if len(s.files) > 0 {
		for _, f := range s.files {
			total += f.Size()
		}
		return total
	}
	for i := range s.chunks.NumBatches() {
		if b, err := s.chunks.Batch(i); err == nil {
			total += arrowio.BatchBytes(b)
		}
	}
	return total
}

// close releases the source's batches, files and cache locks now, and
// those of the sources it depends on. Loading a batch fails afterwards
// with ErrClosed.
func (s *source) close() error {
	errs := []error{s.res.release()}
	for _, d := range s.deps {
		errs = append(errs, d.close())
	}
	return errors.Join(errs...)
}

// evictPages drops the pages of the source's mapped files (and those of
// the sources it depends on) from the process's resident set; see
// arrowio.ArrowFile.EvictPages. Errors are ignored: eviction only bounds
// RSS, and reads are unaffected.
func (s *source) evictPages() {
	for _, f := range s.files {
		_ = f.EvictPages()
	}
	for _, d := range s.deps {
		d.evictPages()
	}
}
