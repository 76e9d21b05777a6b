package ops

import (
	"context"
	"fmt"
	"reflect"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
)

func typeName[T any]() string { return reflect.TypeFor[T]().String() }

// MapRows returns an op that decodes every row into an In (Go struct with
// `quiver:"name"` tags, see arrowio.AppendRows), calls fn, and encodes the
// Out values as the new batch (schema arrowio.SchemaOf[Out]): columns not
// in Out are dropped. name is "name@version" as for Map. An error or panic
// of fn fails with a *RunError naming the exact row.
func MapRows[In, Out any](name string, fn func(In) (Out, error)) *MapOp {
	m := &MapOp{name: name, kind: "map_rows", extra: typeName[In]() + "->" + typeName[Out]()}
	schema, err := arrowio.SchemaOf[Out]()
	if err == nil {
		_, err = arrowio.SchemaOf[In]()
	}
	m.schema = schema
	m.fn = func(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, first int64) (arrow.RecordBatch, error) {
		rows, err := arrowio.AppendRows[In](nil, in)
		if err != nil {
			return nil, err
		}
		rb, err := arrowio.NewRowBuilder[Out](mem)
		if err != nil {
			return nil, err
		}
		defer rb.Release()
		for i, r := range rows {
			if i%4096 == 0 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			out, err := runUser(func() (Out, error) { return fn(r) })
			if err == nil {
				err = rb.Append(out)
			}
			if err != nil {
				return nil, &RunError{Op: m.label(), First: first + int64(i), Count: 1, Err: err}
			}
		}
		return rb.NewBatch(), nil
	}
	m.init(nil, fn == nil)
	if err != nil && m.err == nil {
		m.err = fmt.Errorf("%w: map_rows %q: %w", ErrOp, name, err)
	}
	return m
}

// FilterRows returns an op keeping the rows for which pred returns true;
// rows are decoded into T as for MapRows. name is "name@version" as for
// Filter. An error or panic of pred fails with a *RunError naming the row.
func FilterRows[T any](name string, pred func(T) (bool, error)) *FilterOp {
	f := &FilterOp{name: name, kind: "filter_rows", extra: typeName[T]()}
	f.err = checkName(name)
	if pred == nil {
		f.err = fmt.Errorf("%w: filter_rows %q: nil function", ErrOp, name)
	}
	if _, err := arrowio.SchemaOf[T](); err != nil && f.err == nil {
		f.err = fmt.Errorf("%w: filter_rows %q: %w", ErrOp, name, err)
	}
	label := "filter_rows(" + name + ")"
	f.fn = func(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, first int64) (*array.Boolean, error) {
		rows, err := arrowio.AppendRows[T](nil, in)
		if err != nil {
			return nil, err
		}
		bb := array.NewBooleanBuilder(mem)
		defer bb.Release()
		bb.Reserve(len(rows))
		for i, r := range rows {
			keep, err := runUser(func() (bool, error) { return pred(r) })
			if err != nil {
				return nil, &RunError{Op: label, First: first + int64(i), Count: 1, Err: err}
			}
			bb.UnsafeAppend(keep)
		}
		return bb.NewBooleanArray(), nil
	}
	return f
}
