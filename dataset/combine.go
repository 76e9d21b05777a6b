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
	var batches []arrow.RecordBatch
	var sels []ops.Selection
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
			for _, b := range batches {
				b.Release()
			}
			return nil, nil, fmt.Errorf("%w: dataset %d has schema %s, dataset 0 has %s (cast first)", ErrDataset, i, s, schema)
		}
		for _, b := range st.src.chunks.Batches {
			b.Retain() // keeps its mapping alive beyond the input source
			batches = append(batches, b)
		}
		sel, err := ops.Range(base, st.src.len()).Compose(st.sel)
		if err != nil {
			return nil, nil, err
		}
		sels = append(sels, sel)
		base += st.src.len()
	}
	return newSource(schema, batches, "combined datasets", nil), sels, nil
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
