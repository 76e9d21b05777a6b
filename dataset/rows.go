package dataset

import (
	"context"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/ops"
)

// FromRows returns a dataset holding rows, encoded with the schema of
// arrowio.SchemaOf[T] (Go structs with `quiver:"name"` tags). Rows are
// encoded in batches of the configured batch size.
func FromRows[T any](rows []T, opts ...Option) (*Dataset, error) {
	cfg := newConfig(opts)
	schema, err := arrowio.SchemaOf[T]()
	if err != nil {
		return nil, err
	}
	var batches []arrow.RecordBatch
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	for lo := 0; lo < len(rows); lo += cfg.batchSize {
		b, err := arrowio.BatchFromRows(cfg.mem, rows[lo:min(len(rows), lo+cfg.batchSize)])
		if err != nil {
			return nil, err
		}
		batches = append(batches, b)
	}
	return FromBatches(schema, batches, opts...)
}

// Rows yields every row of ds decoded into a T (see arrowio.AppendRows),
// in order, decoding size rows at a time (size <= 0: DefaultBatchSize).
// On an error (a decode error, a failing op, ctx's) it yields the zero T
// with the error and stops. Rows own their memory; nothing aliases the
// dataset.
func Rows[T any](ctx context.Context, ds *Dataset, size int) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		var buf []T
		for b, err := range ds.Batches(ctx, size) {
			if err == nil {
				buf, err = arrowio.AppendRows(buf[:0], b)
			}
			if err != nil {
				yield(zero, err)
				return
			}
			for _, v := range buf {
				if !yield(v, nil) {
					return
				}
			}
		}
	}
}

// RowAs returns row i of ds decoded into a T.
func RowAs[T any](ctx context.Context, ds *Dataset, i int64) (T, error) {
	var zero T
	b, err := ds.Row(ctx, i)
	if err != nil {
		return zero, err
	}
	defer b.Release()
	out, err := arrowio.AppendRows[T](nil, b)
	if err != nil {
		return zero, err
	}
	return out[0], nil
}

// MapRows applies ops.MapRows(name, fn) to ds.
func MapRows[In, Out any](ds *Dataset, name string, fn func(In) (Out, error)) *Dataset {
	return ds.Apply(ops.MapRows(name, fn))
}

// FilterRows applies ops.FilterRows(name, pred) to ds.
func FilterRows[T any](ds *Dataset, name string, pred func(T) (bool, error)) *Dataset {
	return ds.Apply(ops.FilterRows(name, pred))
}
