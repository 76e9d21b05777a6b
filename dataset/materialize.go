package dataset

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/internal/recycle"
	"github.com/quiverdata/quiver/ops"
	"github.com/spf13/afero"
)

// materialize writes st's rows (selection gathered, pending ops applied)
// to the cache under d's fingerprint, or reads them back if present, and
// returns a source over the mapped result. Uncacheable datasets are written
// to a temporary directory in the cache that disappears with the source.
func (d *Dataset) materialize(ctx context.Context, st *state) (*source, error) {
	cache, err := d.cfg.getCache()
	if err != nil {
		return nil, err
	}
	fill := func(ctx context.Context, dir string) (int64, []string, error) {
		rows, err := d.cfg.writeState(ctx, st, filepath.Join(dir, dataFileName(0)))
		if err != nil {
			return 0, nil, err
		}
		return rows, []string{dataFileName(0)}, nil
	}
	if d.cacheable {
		h, err := cache.build(ctx, d.fp, d.desc, fill)
		if err != nil {
			return nil, err
		}
		return openEntry(h, d.cfg)
	}
	name, err := tempName("uncached")
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(cache.Dir(), name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	lock, err := os.Open(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	_ = flock(ctx, lock, true, false) // alive: Prune leaves it alone
	rows, files, err := fill(ctx, dir)
	if err != nil {
		lock.Close()
		os.RemoveAll(dir)
		return nil, err
	}
	h := &heldEntry{Entry: Entry{Fingerprint: d.fp, Description: d.desc, Rows: rows, Files: files, Dir: dir}, lock: lock}
	src, err := openEntry(h, d.cfg)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return src, nil
}

// writeBatchRows is the most rows a cache batch holds (see cacheBatchRows).
const writeBatchRows = arrowio.DefaultBatchSize

// openEntry maps the data files of a held entry. The source owns h: its
// lock is dropped when the source is collected. Uncached (temporary)
// entries are deleted then.
func openEntry(h *heldEntry, cfg *config) (*source, error) {
	osfs := afero.NewOsFs()
	res := &sourceResources{}
	var schema *arrow.Schema
	fail := func(err error) (*source, error) {
		for _, c := range res.closers {
			c.Close()
		}
		h.Close()
		return nil, err
	}
	// Batches are decoded on first use: opening touches only the footers,
	// so its cost does not grow with the data.
	type ref struct {
		f *arrowio.ArrowFile
		i int
	}
	var refs []ref
	var rows []int64
	var files []*arrowio.ArrowFile
	// Row counts recorded in the entry spare reading every batch header.
	known := len(h.BatchRows) == len(h.Files)
	for k, name := range h.Files {
		var f *arrowio.ArrowFile
		var err error
		if known {
			f, err = arrowio.OpenArrowFileRows(osfs, filepath.Join(h.Dir, name), h.BatchRows[k], arrowio.WithAllocator(cfg.mem))
		} else {
			f, err = arrowio.OpenArrowFile(osfs, filepath.Join(h.Dir, name), arrowio.WithAllocator(cfg.mem))
		}
		if err != nil {
			return fail(fmt.Errorf("quiver cache: entry %s: %w", h.Fingerprint, err))
		}
		res.closers = append(res.closers, f)
		files = append(files, f)
		if schema == nil {
			schema = f.Schema()
		} else if !schema.Equal(f.Schema()) {
			return fail(fmt.Errorf("%w: quiver cache: entry %s: %s has a different schema", arrowio.ErrCorrupt, h.Fingerprint, name))
		}
		for i := range f.NumBatches() {
			if n := f.BatchRows(i); n > 0 {
				refs = append(refs, ref{f, i})
				rows = append(rows, n)
			}
		}
	}
	if schema == nil {
		return fail(fmt.Errorf("%w: quiver cache: entry %s has no data files", arrowio.ErrCorrupt, h.Fingerprint))
	}
	var total int64
	for _, n := range rows {
		total += n
	}
	if total != h.Rows {
		return fail(fmt.Errorf("%w: quiver cache: entry %s: files hold %d rows, %s says %d", arrowio.ErrCorrupt, h.Fingerprint, total, metaFile, h.Rows))
	}
	res.closers = append(res.closers, io.Closer(h))
	if !validFingerprint(filepath.Base(h.Dir)) { // uncached temporary
		dir := h.Dir
		res.remove = append(res.remove, func() error { return os.RemoveAll(dir) })
	}
	fp := h.Fingerprint
	chunks := ops.NewLazyChunks(schema, rows, func(i int) (arrow.RecordBatch, error) {
		b, err := refs[i].f.BatchAt(refs[i].i)
		if err != nil {
			return nil, fmt.Errorf("quiver cache: entry %s: %w", fp, err)
		}
		return b, nil
	})
	entry := h.Entry
	src := newChunkSource(chunks, "cache entry "+h.Fingerprint, res)
	src.entry = &entry
	src.files = files
	src.evictChunk = func(i int) { _ = refs[i].f.EvictBatchPages(refs[i].i) }
	return src, nil
}

// writeState streams st through its pending ops into a new Arrow IPC file
// at path (written under a temporary name, renamed when complete) and
// returns the row count. Batches are recut to one size (see rebatcher):
// a map's windows and a filter's survivors become fewer, larger batches,
// faster to open and to scan.
func (c *config) writeState(ctx context.Context, st *state, path string) (int64, error) {
	var w arrowio.Writer
	var rows int64
	rb := &rebatcher{mem: recycle.For(c.mem), emit: func(b arrow.RecordBatch) error { return w.Write(b) }}
	defer func() {
		rb.release()
		if w != nil {
			w.Abort()
		}
	}()
	open := func(schema *arrow.Schema) error {
		var err error
		w, err = arrowio.Create(afero.NewOsFs(), path, schema, arrowio.WithOutputFormat(arrowio.FormatArrowFile, 0),
			arrowio.WithWriteAllocator(c.mem))
		return err
	}
	var werr error
	err := c.runBulk(ctx, st, 0, c.batchSize, c.workers, func(b arrow.RecordBatch) bool {
		defer b.Release()
		if w == nil {
			if werr = open(b.Schema()); werr != nil {
				return false
			}
		}
		if !b.Schema().Equal(w.Schema()) {
			werr = fmt.Errorf("%w: a batch has schema %s, earlier ones %s", arrowio.ErrSchema, b.Schema(), w.Schema())
			return false
		}
		rows += b.NumRows()
		werr = rb.add(b)
		return werr == nil && ctx.Err() == nil
	})
	if err == nil {
		err = werr
	}
	if err == nil {
		err = ctx.Err()
	}
	if err != nil {
		return 0, err
	}
	if w == nil {
		// No rows: learn the schema from an empty batch.
		b, err := c.process(ctx, st, window{sel: ops.Range(0, 0)})
		if err != nil {
			return 0, err
		}
		schema := b.Schema()
		b.Release()
		if err := open(schema); err != nil {
			return 0, err
		}
	}
	if err := rb.flush(); err != nil {
		return 0, err
	}
	c.report(Progress{Stage: "materialize", Rows: rows, Done: true})
	err = w.Close()
	w = nil
	return rows, err
}
