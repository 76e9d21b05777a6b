package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// MapFunc transforms one batch. in is borrowed; the result is owned by the
// caller. Returning in itself is allowed (it is retained for you). The
// result may add, replace or remove columns.
type MapFunc func(ctx context.Context, in arrow.RecordBatch) (arrow.RecordBatch, error)

// IndexedMapFunc is a MapFunc that also receives the logical index of the
// batch's first row (HF's with_indices).
type IndexedMapFunc func(ctx context.Context, in arrow.RecordBatch, firstRow int64) (arrow.RecordBatch, error)

// MapOption configures Map and MapIndexed.
type MapOption func(*MapOp)

// Resizing declares that the function may return a different number of
// rows than it receives. Default: the row count must be preserved, which is
// checked on every batch.
func Resizing() MapOption { return func(m *MapOp) { m.resize = true } }

// WithOutputSchema declares the schema every output batch has, so a
// dataset knows its schema without running the function; outputs are
// checked against it. Default: unknown until the function runs.
func WithOutputSchema(s *arrow.Schema) MapOption { return func(m *MapOp) { m.schema = s } }

// MapOp is the op built by Map, MapIndexed and MapRows.
type MapOp struct {
	name    string
	kind    string // "map" or "map_rows"
	fn      func(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, firstRow int64) (arrow.RecordBatch, error)
	indexed bool
	resize  bool
	schema  *arrow.Schema
	extra   string // extra description (row types of MapRows)
	err     error
}

// Map returns an op applying fn to every batch. name is "name@version"
// (for example "tokenize@v2") and identifies fn in fingerprints: change the
// version whenever fn's behaviour changes. An empty name makes the op
// uncacheable.
func Map(name string, fn MapFunc, opts ...MapOption) *MapOp {
	m := &MapOp{name: name, kind: "map", fn: func(ctx context.Context, _ memory.Allocator, in arrow.RecordBatch, _ int64) (arrow.RecordBatch, error) {
		return fn(ctx, in)
	}}
	return m.init(opts, fn == nil)
}

// MapIndexed is Map for a function that needs row indices.
func MapIndexed(name string, fn IndexedMapFunc, opts ...MapOption) *MapOp {
	m := &MapOp{name: name, kind: "map", indexed: true, fn: func(ctx context.Context, _ memory.Allocator, in arrow.RecordBatch, first int64) (arrow.RecordBatch, error) {
		return fn(ctx, in, first)
	}}
	return m.init(opts, fn == nil)
}

func (m *MapOp) init(opts []MapOption, nilFn bool) *MapOp {
	for _, o := range opts {
		o(m)
	}
	m.err = checkName(m.name)
	if nilFn {
		m.err = fmt.Errorf("%w: %s %q: nil function", ErrOp, m.kind, m.name)
	}
	return m
}

// Err returns the construction error, if any.
func (m *MapOp) Err() error { return m.err }

// Name returns the function's name@version ("" if unnamed).
func (m *MapOp) Name() string { return m.name }

// Describe implements Op.
func (m *MapOp) Describe() (string, bool) {
	fn := m.name
	if fn == "" {
		fn = "<unnamed>"
	}
	kv := []string{"fn", fn, "indexed", fmt.Sprint(m.indexed), "resize", fmt.Sprint(m.resize)}
	if m.schema != nil {
		kv = append(kv, "schema", m.schema.String())
	}
	if m.extra != "" {
		kv = append(kv, "types", m.extra)
	}
	return describe(m.kind, kv...), m.name != "" && m.err == nil
}

// Kind implements BatchOp.
func (m *MapOp) Kind() Kind {
	if m.resize {
		return KindResize
	}
	return KindRows
}

// Schema implements BatchOp.
func (m *MapOp) Schema(*arrow.Schema) (*arrow.Schema, bool, error) {
	if m.err != nil {
		return nil, false, m.err
	}
	return m.schema, m.schema != nil, nil
}

func (m *MapOp) label() string {
	if m.name == "" {
		return m.kind + "(<unnamed>)"
	}
	return m.kind + "(" + m.name + ")"
}

// Apply implements BatchOp. A failing or panicking function yields a
// *RunError naming the op and the input rows.
func (m *MapOp) Apply(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, firstRow int64) (arrow.RecordBatch, error) {
	if m.err != nil {
		return nil, m.err
	}
	fail := func(err error) error {
		return &RunError{Op: m.label(), First: firstRow, Count: in.NumRows(), Err: err}
	}
	out, err := runUser(func() (arrow.RecordBatch, error) { return m.fn(ctx, mem, in, firstRow) })
	if err != nil {
		var re *RunError
		if errors.As(err, &re) {
			return nil, err // a typed row function names its own row
		}
		return nil, fail(err)
	}
	if out == nil {
		return nil, fail(fmt.Errorf("function returned a nil batch"))
	}
	if out == in {
		out.Retain()
	}
	if !m.resize && out.NumRows() != in.NumRows() {
		out.Release()
		return nil, fail(fmt.Errorf("returned %d rows for %d (use ops.Resizing() for functions that change the row count)", out.NumRows(), in.NumRows()))
	}
	if m.schema != nil && !out.Schema().Equal(m.schema) {
		s := out.Schema()
		out.Release()
		return nil, fail(fmt.Errorf("output schema %s differs from the declared %s", s, m.schema))
	}
	return out, nil
}

// PredicateFunc returns, for a batch, a boolean mask with one entry per row:
// true keeps the row; false and null drop it. in is borrowed; the mask is
// owned by the caller.
type PredicateFunc func(ctx context.Context, in arrow.RecordBatch) (*array.Boolean, error)

// FilterOp is the op built by Filter and FilterRows.
type FilterOp struct {
	name  string
	kind  string
	fn    func(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, firstRow int64) (*array.Boolean, error)
	extra string
	err   error
}

// Filter returns an op keeping the rows for which fn's mask is true. name
// is "name@version" as for Map; empty makes the op uncacheable.
func Filter(name string, fn PredicateFunc) *FilterOp {
	f := &FilterOp{name: name, kind: "filter", fn: func(ctx context.Context, _ memory.Allocator, in arrow.RecordBatch, _ int64) (*array.Boolean, error) {
		return fn(ctx, in)
	}}
	f.err = checkName(name)
	if fn == nil {
		f.err = fmt.Errorf("%w: filter %q: nil function", ErrOp, name)
	}
	return f
}

// Err returns the construction error, if any.
func (f *FilterOp) Err() error { return f.err }

// Describe implements Op.
func (f *FilterOp) Describe() (string, bool) {
	fn := f.name
	if fn == "" {
		fn = "<unnamed>"
	}
	kv := []string{"fn", fn}
	if f.extra != "" {
		kv = append(kv, "types", f.extra)
	}
	return describe(f.kind, kv...), f.name != "" && f.err == nil
}

// Kind implements BatchOp: always KindResize.
func (f *FilterOp) Kind() Kind { return KindResize }

// Schema implements BatchOp: the schema is unchanged.
func (f *FilterOp) Schema(in *arrow.Schema) (*arrow.Schema, bool, error) {
	return in, f.err == nil, f.err
}

// Apply implements BatchOp.
func (f *FilterOp) Apply(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, firstRow int64) (arrow.RecordBatch, error) {
	if f.err != nil {
		return nil, f.err
	}
	label := f.kind + "(" + f.name + ")"
	if f.name == "" {
		label = f.kind + "(<unnamed>)"
	}
	fail := func(err error) error {
		return &RunError{Op: label, First: firstRow, Count: in.NumRows(), Err: err}
	}
	mask, err := runUser(func() (*array.Boolean, error) { return f.fn(ctx, mem, in, firstRow) })
	if err != nil {
		var re *RunError
		if errors.As(err, &re) {
			return nil, err
		}
		return nil, fail(err)
	}
	if mask == nil {
		return nil, fail(fmt.Errorf("predicate returned a nil mask"))
	}
	defer mask.Release()
	if int64(mask.Len()) != in.NumRows() {
		return nil, fail(fmt.Errorf("mask has %d entries for %d rows", mask.Len(), in.NumRows()))
	}
	return ApplyMask(ctx, mem, in, mask)
}

// ApplyMask returns the rows of in where mask is true (null counts as
// false). A mask that keeps a contiguous run returns a zero-copy slice.
func ApplyMask(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, mask *array.Boolean) (arrow.RecordBatch, error) {
	n := mask.Len()
	idx := make([]int64, 0, n)
	for i := range n {
		if mask.IsValid(i) && mask.Value(i) {
			idx = append(idx, int64(i))
		}
	}
	return TakeBatch(ctx, mem, in, idx)
}
