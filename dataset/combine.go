package dataset

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdata/quiver/ops"
)

// Unique returns the distinct values of column, in order of first
// appearance (nulls count as one value). The caller releases the array.
func (d *Dataset) Unique(ctx context.Context, column string) (arrow.Array, error) {
	st, err := d.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if hasKind(st.pending, func(k ops.Kind) bool { return k != ops.KindColumns }) {
		if st, err = d.materialized(ctx); err != nil {
			return nil, err
		}
	}
	col, err := (&view{cfg: d.cfg, st: st}).Column(ctx, column)
	if err != nil {
		return nil, err
	}
	defer col.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: column, Type: col.DataType(), Nullable: true}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(col.Len()))
	defer rec.Release()
	b, err := ops.TakeBatch(ctx, d.cfg.mem, rec, ops.UniquePositions(col))
	if err != nil {
		return nil, err
	}
	defer b.Release()
	out := b.Column(0)
	out.Retain()
	return out, nil
}

// physical returns d's state with no pending ops (materializing if some
// are pending); its selection may be any.
func (d *Dataset) physical(ctx context.Context) (*state, error) {
	st, err := d.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if len(st.pending) > 0 {
		return d.materialized(ctx)
	}
	return st, nil
}

// combined joins the sources of several datasets (without copying) and
// returns the joined source plus each input's row selection rebased onto
// it.
func combined(ctx context.Context, dss []*Dataset) (*source, []ops.Selection, error) {
	if len(dss) == 0 {
		return nil, nil, fmt.Errorf("%w: nothing to combine", ErrDataset)
	}
	type part struct {
		chunks ops.Chunks
		i      int
	}
	var parts []part
	var rows []int64
	var sels []ops.Selection
	var deps []*source
	var schema *arrow.Schema
	var base int64
	for i, d := range dss {
		st, err := d.physical(ctx)
		if err != nil {
			return nil, nil, err
		}
		s := st.src.chunks.Schema
		if schema == nil {
			schema = s
		} else if !schema.Equal(s) {
			return nil, nil, fmt.Errorf("%w: dataset %d has schema %s, dataset 0 has %s (cast first)", ErrDataset, i, s, schema)
		}
		deps = append(deps, st.src)
		for k := range st.src.chunks.NumBatches() {
			parts = append(parts, part{st.src.chunks, k})
			rows = append(rows, st.src.chunks.BatchRows(k))
		}
		sel, err := ops.Range(base, st.src.len()).Compose(st.sel)
		if err != nil {
			return nil, nil, err
		}
		sels = append(sels, sel)
		base += st.src.len()
	}
	// Batches load through the inputs' chunks; the joined source retains
	// each, which keeps its mapping alive beyond the input source.
	chunks := ops.NewLazyChunks(schema, rows, func(i int) (arrow.RecordBatch, error) {
		b, err := parts[i].chunks.Batch(parts[i].i)
		if err != nil {
			return nil, err
		}
		b.Retain()
		return b, nil
	})
	src := newChunkSource(chunks, "combined datasets", nil)
	src.deps = deps
	return src, sels, nil
}

func joinFingerprints(kind string, dss []*Dataset) (string, string, bool) {
	parts := []string{kind}
	descs := make([]string, len(dss))
	cacheable := true
	for i, d := range dss {
		parts = append(parts, d.fp)
		descs[i] = "(" + d.desc + ")"
		cacheable = cacheable && d.cacheable
	}
	return fingerprint(parts...), kind + "[" + strings.Join(descs, ", ") + "]", cacheable
}

// Concatenate returns the rows of every dataset, one after the other. The
// datasets must have equal schemas. Data is not copied: the result selects
// rows of the inputs' (materialized) data.
func Concatenate(ctx context.Context, dss ...*Dataset) (*Dataset, error) {
	src, sels, err := combined(ctx, dss)
	if err != nil {
		return nil, err
	}
	var sel ops.Selection
	if allContiguousInOrder(sels) {
		sel = ops.Range(0, src.len())
	} else {
		var idx []int64
		for _, s := range sels {
			idx = append(idx, s.Materialize()...)
		}
		sel = ops.Positions(idx)
	}
	fp, desc, cacheable := joinFingerprints("concatenate", dss)
	d := &Dataset{cfg: dss[0].cfg, root: src, fp: fp, desc: desc, cacheable: cacheable}
	d.st = &state{src: src, sel: sel, schema: src.chunks.Schema}
	return d, nil
}

func allContiguousInOrder(sels []ops.Selection) bool {
	var next int64
	for _, s := range sels {
		if !s.Contiguous() || s.Start != next {
			return false
		}
		next += s.Count
	}
	return true
}

// Interleave mixes the rows of several datasets (equal schemas) in the
// order of ops.InterleaveOrder: round-robin or by seeded probabilities,
// stopping at the first or last exhausted input. No data is copied.
func Interleave(ctx context.Context, spec ops.InterleaveSpec, dss ...*Dataset) (*Dataset, error) {
	src, sels, err := combined(ctx, dss)
	if err != nil {
		return nil, err
	}
	sizes := make([]int64, len(sels))
	for i, s := range sels {
		sizes[i] = s.Len()
	}
	from, rows, err := ops.InterleaveOrder(sizes, spec)
	if err != nil {
		return nil, err
	}
	idx := make([]int64, len(from))
	for k := range from {
		idx[k] = sels[from[k]].At(rows[k])
	}
	fp, desc, cacheable := joinFingerprints(spec.Describe(), dss)
	d := &Dataset{cfg: dss[0].cfg, root: src, fp: fp, desc: desc, cacheable: cacheable}
	d.st = &state{src: src, sel: ops.Positions(idx), schema: src.chunks.Schema}
	return d, nil
}

// ConcatColumns joins datasets side by side (Hugging Face's
// concatenate_datasets(axis=1)): row i of the result holds the columns of
// row i of every input. The inputs must have equal lengths and distinct
// column names. Batches of the first input are reused as they are; the
// columns of the others are sliced to match (copied only where their batch
// boundaries differ).
func ConcatColumns(ctx context.Context, dss ...*Dataset) (*Dataset, error) {
	if len(dss) == 0 {
		return nil, fmt.Errorf("%w: nothing to combine", ErrDataset)
	}
	sts := make([]*state, len(dss))
	var fields []arrow.Field
	seen := map[string]bool{}
	for i, d := range dss {
		st, err := d.physical(ctx)
		if err != nil {
			return nil, err
		}
		if i > 0 && st.sel.Len() != sts[0].sel.Len() {
			return nil, fmt.Errorf("%w: dataset %d has %d rows, dataset 0 has %d", ErrDataset, i, st.sel.Len(), sts[0].sel.Len())
		}
		for _, f := range st.src.chunks.Schema.Fields() {
			if seen[f.Name] {
				return nil, fmt.Errorf("%w: column %q appears in two datasets", ErrDataset, f.Name)
			}
			seen[f.Name] = true
			fields = append(fields, f)
		}
		sts[i] = st
	}
	schema := arrow.NewSchema(fields, nil)
	var out []arrow.RecordBatch
	release := func() {
		for _, b := range out {
			b.Release()
		}
	}
	// Window by the first input's batches; gather the same rows elsewhere.
	next := windows(sts[0], int(max(1, sts[0].sel.Len())))
	for {
		w, ok := next()
		if !ok {
			break
		}
		var cols []arrow.Array
		var parts []arrow.RecordBatch
		for _, st := range sts {
			b, err := ops.Gather(ctx, dss[0].cfg.mem, st.src.chunks, st.sel.Slice(w.first, w.first+w.sel.Len()))
			if err != nil {
				for _, p := range parts {
					p.Release()
				}
				release()
				return nil, err
			}
			parts = append(parts, b)
			cols = append(cols, b.Columns()...)
		}
		out = append(out, array.NewRecordBatch(schema, cols, w.sel.Len()))
		for _, p := range parts {
			p.Release()
		}
	}
	fp, desc, cacheable := joinFingerprints("concatenate_columns", dss)
	src := newSource(schema, out, "concatenated columns", nil)
	return &Dataset{cfg: dss[0].cfg, root: src, fp: fp, desc: desc, cacheable: cacheable,
		st: &state{src: src, sel: ops.Range(0, src.len()), schema: schema}}, nil
}
