package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/quiverdata/quiver/internal/recycle"
	"github.com/quiverdata/quiver/ops"
)

// Dataset is an immutable, lazily evaluated table: memory-mapped (or
// in-memory) Arrow data, an optional row selection over it, and a chain of
// pending ops. Methods that apply an op (Map, Filter, Shuffle, …) return a
// new Dataset and run nothing; data is computed when needed (Len, Row,
// Batches, Materialize, Export) and row-changing results are written to the
// fingerprint cache, so a re-run with the same fingerprint reads them back.
//
// A Dataset is safe for concurrent use. Its files stay mapped while it, or
// any dataset derived from it, or any batch it yielded and the caller
// retained, is alive; they are released by the garbage collector, or at
// once by Close.
type Dataset struct {
	cfg       *config
	parent    *Dataset
	op        ops.Op  // nil for roots
	root      *source // roots only
	fp        string
	cacheable bool
	desc      string

	mu sync.Mutex
	st *state // resolved state, nil until needed
}

// state is a resolved dataset: sel picks rows of src, then pending ops
// (batch ops) apply in order.
type state struct {
	src     *source
	sel     ops.Selection
	pending []ops.BatchOp
	schema  *arrow.Schema // after pending; nil when a pending op's output schema is unknown
}

// ErrClosed is wrapped by errors from a dataset whose data was released by
// Close.
var ErrClosed = ops.ErrClosed

// Close releases, now rather than at garbage collection, the data this
// dataset reads and the data of the datasets it derives from: mapped
// cache files are closed (unmapped once no retained batch uses them), the
// cache entries' shared locks are dropped (so Cache.Prune may remove
// them) and temporary results are deleted. Every dataset that reads the
// same data (its parents and the datasets derived from any of them) is
// closed with it: their accesses that need a batch
// return an error wrapping ErrClosed. Batches the caller retained stay
// valid. Close must not run while an iteration over such a dataset is in
// progress. It returns the errors met closing files; calling it
// again returns the same result.
func (d *Dataset) Close() error {
	var errs []error
	seen := map[*source]bool{}
	closeSrc := func(s *source) {
		if s != nil && !seen[s] {
			seen[s] = true
			errs = append(errs, s.close())
		}
	}
	for x := d; x != nil; x = x.parent {
		closeSrc(x.root)
		x.mu.Lock()
		st := x.st
		x.mu.Unlock()
		if st != nil {
			closeSrc(st.src)
		}
	}
	return errors.Join(errs...)
}

// ErrDataset is wrapped by errors about datasets themselves (mismatched
// schemas, bad arguments) as opposed to their data or files.
var ErrDataset = errors.New("dataset")

func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s\n", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// newRoot returns a dataset over src with the given fingerprint.
func newRoot(cfg *config, src *source, fp, desc string, cacheable bool) *Dataset {
	return &Dataset{cfg: cfg, root: src, fp: fp, desc: desc, cacheable: cacheable}
}

// FromBatches returns a dataset holding batches, which must share one
// schema (the schema argument). The dataset retains the batches. Its
// fingerprint is a SHA-256 of the data, so equal data gives equal
// fingerprints and cached transforms of it are reused.
func FromBatches(schema *arrow.Schema, batches []arrow.RecordBatch, opts ...Option) (*Dataset, error) {
	cfg := newConfig(opts)
	h := sha256.New()
	w := ipc.NewWriter(h, ipc.WithSchema(schema))
	kept := make([]arrow.RecordBatch, 0, len(batches))
	for i, b := range batches {
		if !b.Schema().Equal(schema) {
			return nil, fmt.Errorf("%w: batch %d has schema %s, want %s", ErrDataset, i, b.Schema(), schema)
		}
		if err := w.Write(b); err != nil {
			return nil, fmt.Errorf("%w: hashing batch %d: %v", ErrDataset, i, err)
		}
		if b.NumRows() > 0 {
			b.Retain()
			kept = append(kept, b)
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	fp := fingerprint("batches", hex.EncodeToString(h.Sum(nil)))
	src := newSource(schema, kept, "in-memory batches", nil)
	return newRoot(cfg, src, fp, "from_batches", true), nil
}

// Fingerprint returns the dataset's fingerprint: a hex SHA-256 of its
// source identity and the canonical descriptions of its ops.
func (d *Dataset) Fingerprint() string { return d.fp }

// Cacheable reports whether results of this dataset can be cached: false
// when some op runs a function without a name@version.
func (d *Dataset) Cacheable() bool { return d.cacheable }

// Describe returns the chain of ops that defines the dataset, for humans.
func (d *Dataset) Describe() string { return d.desc }

var loggedUncacheable sync.Map

// Apply returns a dataset with op appended. op is an ops.BatchOp or an
// ops.IndexOp; nothing runs yet. An op with a construction error (see
// ops.Check) gives a dataset whose every access returns that error.
func (d *Dataset) Apply(op ops.Op) *Dataset {
	desc, ok := op.Describe()
	n := &Dataset{cfg: d.cfg, parent: d, op: op, cacheable: d.cacheable && ok,
		fp: fingerprint(d.fp, desc), desc: d.desc + " | " + desc}
	if !ok && ops.Check(op) == nil {
		if _, seen := loggedUncacheable.LoadOrStore(desc, true); !seen {
			d.cfg.log.Warn("quiver: op has no name@version; its results and everything after it are not cached", "op", desc)
		}
	}
	return n
}

// Map applies ops.Map(name, fn, opts...).
func (d *Dataset) Map(name string, fn ops.MapFunc, opts ...ops.MapOption) *Dataset {
	return d.Apply(ops.Map(name, fn, opts...))
}

// Filter applies ops.Filter(name, fn).
func (d *Dataset) Filter(name string, fn ops.PredicateFunc) *Dataset {
	return d.Apply(ops.Filter(name, fn))
}

// Shuffle applies ops.Shuffle(seed): a permutation of the rows, applied
// as an indices mapping (no data is copied). Reading a shuffled dataset
// gathers rows from all over the source, about a tenth as fast as reading
// it in order (memory latency, not copying, bounds it: see
// BenchmarkShuffledTouchFloor); to read the same shuffle many times,
// Flatten it once (a few passes over the source, in bounded memory).
func (d *Dataset) Shuffle(seed uint64) *Dataset { return d.Apply(ops.Shuffle(seed)) }

// Shard applies ops.Shard(n, i, contiguous).
func (d *Dataset) Shard(n, i int, contiguous bool) *Dataset {
	return d.Apply(ops.Shard(n, i, contiguous))
}

// Select applies ops.SelectRows(idx).
func (d *Dataset) Select(idx []int64) *Dataset { return d.Apply(ops.SelectRows(idx)) }

// Take applies ops.Take(n).
func (d *Dataset) Take(n int64) *Dataset { return d.Apply(ops.Take(n)) }

// Skip applies ops.Skip(n).
func (d *Dataset) Skip(n int64) *Dataset { return d.Apply(ops.Skip(n)) }

// Sort applies ops.Sort(keys...).
func (d *Dataset) Sort(keys ...ops.SortKey) *Dataset { return d.Apply(ops.Sort(keys...)) }

// RenameColumns applies ops.RenameColumns(renames).
func (d *Dataset) RenameColumns(renames map[string]string) *Dataset {
	return d.Apply(ops.RenameColumns(renames))
}

// RemoveColumns applies ops.RemoveColumns(names...).
func (d *Dataset) RemoveColumns(names ...string) *Dataset {
	return d.Apply(ops.RemoveColumns(names...))
}

// SelectColumns applies ops.SelectColumns(names...).
func (d *Dataset) SelectColumns(names ...string) *Dataset {
	return d.Apply(ops.SelectColumns(names...))
}

// Cast applies ops.Cast(schema).
func (d *Dataset) Cast(schema *arrow.Schema) *Dataset { return d.Apply(ops.Cast(schema)) }

// AddColumn applies ops.AddColumn(field, values).
func (d *Dataset) AddColumn(field arrow.Field, values arrow.Array) *Dataset {
	return d.Apply(ops.AddColumn(field, values))
}

// TrainTestSplit returns the two sides of a split (ops.Split). Both are
// lazy; their fingerprints differ.
func (d *Dataset) TrainTestSplit(spec ops.SplitSpec) (train, test *Dataset) {
	return d.Apply(ops.Split(spec, ops.Train)), d.Apply(ops.Split(spec, ops.Test))
}

func hasKind(pending []ops.BatchOp, pred func(ops.Kind) bool) bool {
	return slices.ContainsFunc(pending, func(op ops.BatchOp) bool { return pred(op.Kind()) })
}

// resolve computes the dataset's state, materializing ancestors where an
// op needs positions over row-changing results.
func (d *Dataset) resolve(ctx context.Context) (*state, error) {
	d.mu.Lock()
	st := d.st
	d.mu.Unlock()
	if st != nil {
		return st, nil
	}
	if d.root != nil {
		st = &state{src: d.root, sel: ops.Range(0, d.root.len()), schema: d.root.chunks.Schema}
	} else {
		if err := ops.Check(d.op); err != nil {
			return nil, err
		}
		p, err := d.parent.resolve(ctx)
		if err != nil {
			return nil, err
		}
		switch op := d.op.(type) {
		case ops.BatchOp:
			if op.Kind() == ops.KindRows && hasKind(p.pending, func(k ops.Kind) bool { return k == ops.KindResize }) {
				// Row positions after a filter are only known once it ran.
				if p, err = d.parent.materialized(ctx); err != nil {
					return nil, err
				}
			}
			st = &state{src: p.src, sel: p.sel, pending: append(slices.Clip(p.pending), op)}
			if p.schema != nil {
				s, ok, err := op.Schema(p.schema)
				if err != nil {
					return nil, err
				}
				if ok {
					st.schema = s
				}
			}
		case ops.IndexOp:
			if hasKind(p.pending, func(k ops.Kind) bool { return k != ops.KindColumns }) {
				if p, err = d.parent.materialized(ctx); err != nil {
					return nil, err
				}
			}
			pos, err := op.Positions(ctx, &view{cfg: d.cfg, st: p, ctx: ctx})
			if err != nil {
				return nil, err
			}
			sel, err := p.sel.Compose(pos)
			if err != nil {
				return nil, err
			}
			st = &state{src: p.src, sel: sel, pending: p.pending, schema: p.schema}
		default:
			return nil, fmt.Errorf("%w: op %T is neither a batch op nor an index op", ErrDataset, d.op)
		}
	}
	d.mu.Lock()
	if d.st == nil {
		d.st = st
	}
	st = d.st
	d.mu.Unlock()
	return st, nil
}

// materialized returns the dataset's state with its data written out
// (pending ops applied, selection flattened), from the cache when present.
func (d *Dataset) materialized(ctx context.Context) (*state, error) {
	st, err := d.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if len(st.pending) == 0 && st.sel.Contiguous() && st.sel.Start == 0 && st.sel.Count == st.src.len() {
		return st, nil
	}
	src, err := d.materialize(ctx, st)
	if err != nil {
		return nil, err
	}
	m := &state{src: src, sel: ops.Range(0, src.len()), schema: src.chunks.Schema}
	d.mu.Lock()
	d.st = m
	d.mu.Unlock()
	return m, nil
}

// Materialize computes the dataset now and returns a dataset over the
// result (same fingerprint, no pending ops), read from or written to the
// cache. Positional ops over already-materialized data are kept as a row
// selection (no copy); use Flatten to rewrite data in selected order.
func (d *Dataset) Materialize(ctx context.Context) (*Dataset, error) {
	st, err := d.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if len(st.pending) > 0 {
		if st, err = d.materialized(ctx); err != nil {
			return nil, err
		}
	}
	n := &Dataset{cfg: d.cfg, root: st.src, fp: d.fp, desc: d.desc, cacheable: d.cacheable, st: st}
	return n, nil
}

// Flatten returns a dataset whose data is rewritten in the current row
// order (HF's flatten_indices): later sequential reads are contiguous.
// The rewrite of a permuted order sweeps the source (see WithSweepBytes)
// and is cached under the dataset's fingerprint.
func (d *Dataset) Flatten(ctx context.Context) (*Dataset, error) {
	st, err := d.materialized(ctx)
	if err != nil {
		return nil, err
	}
	return &Dataset{cfg: d.cfg, root: st.src, fp: d.fp, desc: d.desc, cacheable: d.cacheable, st: st}, nil
}

// Len returns the number of rows, materializing pending row-changing ops
// (into the cache) if there are any.
func (d *Dataset) Len(ctx context.Context) (int64, error) {
	st, err := d.resolve(ctx)
	if err != nil {
		return 0, err
	}
	if hasKind(st.pending, func(k ops.Kind) bool { return k == ops.KindResize }) {
		if st, err = d.materialized(ctx); err != nil {
			return 0, err
		}
	}
	return st.sel.Len(), nil
}

// Schema returns the dataset's schema. When a pending map declared no
// output schema, the chain is run on the first row to learn it.
func (d *Dataset) Schema(ctx context.Context) (*arrow.Schema, error) {
	st, err := d.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if st.schema != nil {
		return st.schema, nil
	}
	n := min(st.sel.Len(), 1)
	b, err := d.cfg.process(ctx, st, window{first: 0, sel: st.sel.Slice(0, n)})
	if err != nil {
		return nil, err
	}
	defer b.Release()
	return b.Schema(), nil
}

// Row returns row i as a one-row batch owned by the caller.
func (d *Dataset) Row(ctx context.Context, i int64) (arrow.RecordBatch, error) {
	st, err := d.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if hasKind(st.pending, func(k ops.Kind) bool { return k == ops.KindResize }) {
		if st, err = d.materialized(ctx); err != nil {
			return nil, err
		}
	}
	if i < 0 || i >= st.sel.Len() {
		return nil, fmt.Errorf("%w: row %d out of range [0, %d)", ErrDataset, i, st.sel.Len())
	}
	return d.cfg.process(ctx, st, window{first: i, sel: st.sel.Slice(i, i+1)})
}

// Batches yields the dataset's rows in order, in batches of at most size
// rows (size <= 0 means DefaultBatchSize). Batches never straddle two
// source batches when rows are contiguous, so they may be smaller than
// size; empty batches are never yielded. A yielded batch is borrowed until
// the next step; Retain keeps it. Strings and byte slices read from a
// batch alias its buffers, which are mapped cache pages or (for gathered
// rows) recycled once the batch is released: copy what outlives it.
// Pending ops run on the configured worker pool; the order is the same for
// any worker count. Iteration stops at the first error.
func (d *Dataset) Batches(ctx context.Context, size int) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		st, err := d.resolve(ctx)
		if err != nil {
			yield(nil, err)
			return
		}
		if err := d.cfg.run(ctx, st, size, func(b arrow.RecordBatch) bool {
			defer b.Release()
			if b.NumRows() == 0 {
				return true // a window a filter emptied
			}
			return yield(b, nil)
		}); err != nil {
			yield(nil, err)
		}
	}
}

// window is a unit of work: the rows sel of the source, whose first row is
// logical row first of the dataset.
type window struct {
	first int64
	sel   ops.Selection
}

// windows splits st's selection into units of at most size rows; a
// contiguous selection is also cut at source batch boundaries.
func windows(st *state, size int) func() (window, bool) {
	var pos int64
	n := st.sel.Len()
	return func() (window, bool) {
		if pos >= n {
			return window{}, false
		}
		end := min(n, pos+int64(size))
		if st.sel.Contiguous() {
			p := st.sel.At(pos)
			ci, off := st.src.chunks.Locate(p)
			end = min(end, pos+st.src.chunks.BatchRows(ci)-off)
		}
		w := window{first: pos, sel: st.sel.Slice(pos, end)}
		pos = end
		return w, true
	}
}

// process gathers a window and applies the pending ops. The result is
// owned by the caller.
func (c *config) process(ctx context.Context, st *state, w window) (out arrow.RecordBatch, err error) {
	defer func() {
		if r := recover(); r != nil {
			if out != nil {
				out.Release()
			}
			out, err = nil, fmt.Errorf("%w: rows [%d, %d): panic: %v", ErrDataset, w.first, w.first+w.sel.Len(), r)
		}
	}()
	b, err := ops.Gather(ctx, recycle.For(c.mem), st.src.chunks, w.sel)
	if err != nil {
		return nil, err
	}
	for _, op := range st.pending {
		next, err := op.Apply(ctx, c.mem, b, w.first)
		b.Release()
		if err != nil {
			return nil, err
		}
		b = next
	}
	return b, nil
}

// run streams st's rows through its pending ops to emit, in order, on the
// configured worker pool.
func (c *config) run(ctx context.Context, st *state, size int, emit func(arrow.RecordBatch) bool) error {
	return c.runFrom(ctx, st, 0, size, c.workers, emit)
}

// runFrom is run for a state whose first row is logical row base (a slice
// of a larger dataset), on the given number of workers.
func (c *config) runFrom(ctx context.Context, st *state, base int64, size, workers int, emit func(arrow.RecordBatch) bool) error {
	if size <= 0 {
		size = DefaultBatchSize
	}
	return c.runWindows(ctx, st, base, windows(st, size), workers, emit)
}

// runWindows is runFrom over the windows next hands out.
func (c *config) runWindows(ctx context.Context, st *state, base int64, next func() (window, bool), workers int, emit func(arrow.RecordBatch) bool) error {
	if len(st.pending) == 0 && st.sel.Contiguous() {
		workers = 1 // zero-copy slices: nothing to parallelize
	}
	return orderedMap(ctx, workers, next, func(ctx context.Context, w window) (arrow.RecordBatch, error) {
		w.first += base
		return c.process(ctx, st, w)
	}, emit, func(b arrow.RecordBatch) { b.Release() })
}

// view is the ops.Table an index op reads: st as seen through its pending
// (column) ops.
type view struct {
	cfg *config
	st  *state
	ctx context.Context
}

func (v *view) Len() int64 { return v.st.sel.Len() }

func (v *view) Column(ctx context.Context, name string) (arrow.Array, error) {
	var parts []arrow.Array
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	var typ arrow.DataType
	err := v.cfg.run(ctx, v.st, 1<<20, func(b arrow.RecordBatch) bool {
		idx := b.Schema().FieldIndices(name)
		if len(idx) == 0 {
			return false
		}
		c := b.Column(idx[0])
		c.Retain()
		parts = append(parts, c)
		typ = c.DataType()
		return true
	})
	if err != nil {
		return nil, err
	}
	if typ == nil {
		s := v.st.schema
		if s == nil || len(s.FieldIndices(name)) == 0 {
			return nil, fmt.Errorf("%w: no column %q", ErrDataset, name)
		}
		return array.MakeArrayOfNull(v.cfg.mem, s.Field(s.FieldIndices(name)[0]).Type, 0), nil
	}
	if len(parts) == 1 {
		parts[0].Retain()
		return parts[0], nil
	}
	return array.Concatenate(parts, v.cfg.mem)
}
