package streaming

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
)

// Op transforms one batch. Apply receives a borrowed batch and returns a
// batch the stream owns (a new one, or the input after Retain). Ops must be
// row-wise: each output row depends on its input row only, and rows keep
// their order (a filter drops rows, an expansion emits a row's outputs
// together); exact checkpoints rely on it. Name identifies the op in
// checkpoints: changing an op's behaviour should change its name.
type Op interface {
	Name() string
	Apply(ctx context.Context, batch arrow.RecordBatch) (arrow.RecordBatch, error)
}

// SchemaOp is an Op that can tell its output schema without data, so
// Stream.Schema stays exact before iterating.
type SchemaOp interface {
	Op
	OutputSchema(in *arrow.Schema) (*arrow.Schema, error)
}

type funcOp struct {
	name string
	fn   func(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error)
	out  func(*arrow.Schema) (*arrow.Schema, error)
}

func (o *funcOp) Name() string { return o.name }
func (o *funcOp) Apply(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
	return o.fn(ctx, b)
}
func (o *funcOp) OutputSchema(in *arrow.Schema) (*arrow.Schema, error) {
	if o.out == nil {
		return nil, fmt.Errorf("%s: output schema unknown", o.name)
	}
	return o.out(in)
}

// Map returns the stream with fn applied to every batch. fn receives a
// borrowed batch and returns a new batch (or the input after Retain). name
// (like "tokenize@v2") identifies fn in checkpoints. Stream.Schema is
// unknown after Map until a batch is seen; it reports the input schema.
func (s *Stream) Map(name string, fn func(arrow.RecordBatch) (arrow.RecordBatch, error)) *Stream {
	return s.Apply(&funcOp{name: "map:" + name, fn: func(_ context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
		return fn(b)
	}})
}

// Filter returns the stream keeping the rows for which keep's mask is true
// (null counts as false). keep receives a borrowed batch and returns a
// boolean array of its length, which Filter releases.
func (s *Stream) Filter(name string, keep func(arrow.RecordBatch) (*array.Boolean, error)) *Stream {
	return s.Apply(&funcOp{
		name: "filter:" + name,
		fn: func(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
			mask, err := keep(b)
			if err != nil {
				return nil, err
			}
			defer mask.Release()
			if int64(mask.Len()) != b.NumRows() {
				return nil, fmt.Errorf("mask has %d values for %d rows", mask.Len(), b.NumRows())
			}
			return compute.FilterRecordBatch(ctx, b, mask, compute.DefaultFilterOptions())
		},
		out: func(in *arrow.Schema) (*arrow.Schema, error) { return in, nil },
	})
}

// Select returns the stream keeping only the named columns, in that order.
// Unknown names fail when the first batch arrives.
func (s *Stream) Select(columns ...string) *Stream {
	pick := func(in *arrow.Schema) ([]int, error) {
		idx := make([]int, len(columns))
		for i, c := range columns {
			j := in.FieldIndices(c)
			if len(j) == 0 {
				return nil, fmt.Errorf("no column %q", c)
			}
			idx[i] = j[0]
		}
		return idx, nil
	}
	return s.Apply(&funcOp{
		name: fmt.Sprintf("select:%q", columns),
		fn: func(_ context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
			idx, err := pick(b.Schema())
			if err != nil {
				return nil, err
			}
			fields := make([]arrow.Field, len(idx))
			cols := make([]arrow.Array, len(idx))
			for i, j := range idx {
				fields[i], cols[i] = b.Schema().Field(j), b.Column(j)
			}
			md := b.Schema().Metadata()
			return array.NewRecordBatch(arrow.NewSchema(fields, &md), cols, b.NumRows()), nil
		},
		out: func(in *arrow.Schema) (*arrow.Schema, error) {
			idx, err := pick(in)
			if err != nil {
				return nil, err
			}
			fields := make([]arrow.Field, len(idx))
			for i, j := range idx {
				fields[i] = in.Field(j)
			}
			md := in.Metadata()
			return arrow.NewSchema(fields, &md), nil
		},
	})
}

// Rename returns the stream with column from renamed to to.
func (s *Stream) Rename(from, to string) *Stream {
	rename := func(in *arrow.Schema) (*arrow.Schema, error) {
		j := in.FieldIndices(from)
		if len(j) == 0 {
			return nil, fmt.Errorf("no column %q", from)
		}
		fields := in.Fields()
		fields[j[0]].Name = to
		md := in.Metadata()
		return arrow.NewSchema(fields, &md), nil
	}
	return s.Apply(&funcOp{
		name: fmt.Sprintf("rename:%q:%q", from, to),
		fn: func(_ context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
			sc, err := rename(b.Schema())
			if err != nil {
				return nil, err
			}
			return array.NewRecordBatch(sc, b.Columns(), b.NumRows()), nil
		},
		out: rename,
	})
}

// Cast returns the stream with column converted to type to (arrow's cast
// rules; a value that does not fit is an error).
func (s *Stream) Cast(column string, to arrow.DataType) *Stream {
	retype := func(in *arrow.Schema) (*arrow.Schema, int, error) {
		j := in.FieldIndices(column)
		if len(j) == 0 {
			return nil, 0, fmt.Errorf("no column %q", column)
		}
		fields := in.Fields()
		fields[j[0]].Type = to
		md := in.Metadata()
		return arrow.NewSchema(fields, &md), j[0], nil
	}
	mem := s.cfg.mem
	return s.Apply(&funcOp{
		name: fmt.Sprintf("cast:%q:%s", column, to),
		fn: func(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
			sc, j, err := retype(b.Schema())
			if err != nil {
				return nil, err
			}
			col, err := compute.CastArray(compute.WithAllocator(ctx, mem), b.Column(j), compute.SafeCastOptions(to))
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", column, err)
			}
			defer col.Release()
			cols := append([]arrow.Array(nil), b.Columns()...)
			cols[j] = col
			return array.NewRecordBatch(sc, cols, b.NumRows()), nil
		},
		out: func(in *arrow.Schema) (*arrow.Schema, error) {
			sc, _, err := retype(in)
			return sc, err
		},
	})
}
