package ops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ColumnsOp is a schema-level op: rename, remove, select or cast columns.
// It preserves rows and commutes with row selections (KindColumns).
type ColumnsOp struct {
	desc   string
	schema func(in *arrow.Schema) (*arrow.Schema, error)
	// apply maps the input columns to the output columns; it returns new
	// references.
	apply func(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, out *arrow.Schema) ([]arrow.Array, error)
	err   error
}

// Err returns the construction error, if any.
func (c *ColumnsOp) Err() error { return c.err }

// Describe implements Op; column ops are always cacheable.
func (c *ColumnsOp) Describe() (string, bool) { return c.desc, c.err == nil }

// Kind implements BatchOp: KindColumns.
func (c *ColumnsOp) Kind() Kind { return KindColumns }

// Schema implements BatchOp. Unknown columns are an error wrapping ErrOp.
func (c *ColumnsOp) Schema(in *arrow.Schema) (*arrow.Schema, bool, error) {
	if c.err != nil {
		return nil, false, c.err
	}
	out, err := c.schema(in)
	return out, err == nil, err
}

// Apply implements BatchOp.
func (c *ColumnsOp) Apply(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, firstRow int64) (arrow.RecordBatch, error) {
	out, err := c.schema(in.Schema())
	if err != nil {
		return nil, err
	}
	cols, err := c.apply(ctx, mem, in, out)
	if err != nil {
		return nil, &RunError{Op: c.desc, First: firstRow, Count: in.NumRows(), Err: err}
	}
	rb := array.NewRecordBatch(out, cols, in.NumRows())
	for _, col := range cols {
		col.Release()
	}
	return rb, nil
}

// pick returns new references to the input columns at idx.
func pick(in arrow.RecordBatch, idx []int) []arrow.Array {
	cols := make([]arrow.Array, len(idx))
	for i, j := range idx {
		cols[i] = in.Column(j)
		cols[i].Retain()
	}
	return cols
}

func fieldIndex(s *arrow.Schema, name string) (int, error) {
	idx := s.FieldIndices(name)
	switch len(idx) {
	case 0:
		return 0, fmt.Errorf("%w: no column %q (have %s)", ErrOp, name, quoteList(fieldNames(s)))
	case 1:
		return idx[0], nil
	}
	return 0, fmt.Errorf("%w: column %q appears %d times", ErrOp, name, len(idx))
}

func fieldNames(s *arrow.Schema) []string {
	names := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		names[i] = f.Name
	}
	return names
}

// RenameColumns renames columns old → new. Renaming a missing column, or
// onto a name that then appears twice, is an error.
func RenameColumns(renames map[string]string) *ColumnsOp {
	keys := make([]string, 0, len(renames))
	for k := range renames {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	kv := make([]string, 0, 2*len(keys))
	for _, k := range keys {
		kv = append(kv, k, renames[k])
	}
	schema := func(in *arrow.Schema) (*arrow.Schema, error) {
		for _, k := range keys {
			if _, err := fieldIndex(in, k); err != nil {
				return nil, err
			}
		}
		fields := slices.Clone(in.Fields())
		seen := map[string]bool{}
		for i := range fields {
			if to, ok := renames[fields[i].Name]; ok {
				fields[i].Name = to
			}
			if seen[fields[i].Name] {
				return nil, fmt.Errorf("%w: rename gives two columns named %q", ErrOp, fields[i].Name)
			}
			seen[fields[i].Name] = true
		}
		md := in.Metadata()
		return arrow.NewSchema(fields, &md), nil
	}
	return &ColumnsOp{desc: describe("rename_columns", kv...), schema: schema,
		apply: func(_ context.Context, _ memory.Allocator, in arrow.RecordBatch, _ *arrow.Schema) ([]arrow.Array, error) {
			return pick(in, seq(int(in.NumCols()))), nil
		}}
}

// RemoveColumns drops the named columns. Naming a missing column is an
// error.
func RemoveColumns(names ...string) *ColumnsOp {
	sorted := slices.Clone(names)
	sort.Strings(sorted)
	schema := func(in *arrow.Schema) (*arrow.Schema, error) {
		drop := map[int]bool{}
		for _, n := range names {
			i, err := fieldIndex(in, n)
			if err != nil {
				return nil, err
			}
			drop[i] = true
		}
		var fields []arrow.Field
		for i, f := range in.Fields() {
			if !drop[i] {
				fields = append(fields, f)
			}
		}
		md := in.Metadata()
		return arrow.NewSchema(fields, &md), nil
	}
	op := &ColumnsOp{desc: describe("remove_columns", "names", quoteList(sorted)), schema: schema}
	op.apply = func(_ context.Context, _ memory.Allocator, in arrow.RecordBatch, out *arrow.Schema) ([]arrow.Array, error) {
		idx := make([]int, 0, out.NumFields())
		for _, f := range out.Fields() {
			i, err := fieldIndex(in.Schema(), f.Name)
			if err != nil {
				return nil, err
			}
			idx = append(idx, i)
		}
		return pick(in, idx), nil
	}
	return op
}

// SelectColumns keeps the named columns, in the order given. Naming a
// missing column is an error.
func SelectColumns(names ...string) *ColumnsOp {
	schema := func(in *arrow.Schema) (*arrow.Schema, error) {
		fields := make([]arrow.Field, len(names))
		for k, n := range names {
			i, err := fieldIndex(in, n)
			if err != nil {
				return nil, err
			}
			fields[k] = in.Field(i)
		}
		md := in.Metadata()
		return arrow.NewSchema(fields, &md), nil
	}
	op := &ColumnsOp{desc: describe("select_columns", "names", quoteList(names)), schema: schema}
	op.apply = func(_ context.Context, _ memory.Allocator, in arrow.RecordBatch, out *arrow.Schema) ([]arrow.Array, error) {
		idx := make([]int, len(names))
		for k, n := range names {
			i, err := fieldIndex(in.Schema(), n)
			if err != nil {
				return nil, err
			}
			idx[k] = i
		}
		return pick(in, idx), nil
	}
	if len(names) == 0 {
		op.err = fmt.Errorf("%w: select_columns needs at least one column", ErrOp)
	}
	return op
}

// Cast converts columns to the types of target, matched by name. target
// must name exactly the input's columns (in any order; the output takes
// target's order). Values that do not fit (overflow, unparsable strings)
// fail the batch with an error naming the column.
func Cast(target *arrow.Schema) *ColumnsOp {
	schema := func(in *arrow.Schema) (*arrow.Schema, error) {
		if in.NumFields() != target.NumFields() {
			return nil, fmt.Errorf("%w: cast target has %d columns, input %d", ErrOp, target.NumFields(), in.NumFields())
		}
		for _, f := range target.Fields() {
			if _, err := fieldIndex(in, f.Name); err != nil {
				return nil, err
			}
		}
		return target, nil
	}
	op := &ColumnsOp{desc: describe("cast", "schema", target.String()), schema: schema}
	op.apply = func(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, out *arrow.Schema) ([]arrow.Array, error) {
		ctx = compute.WithAllocator(ctx, mem)
		cols := make([]arrow.Array, 0, out.NumFields())
		for _, f := range out.Fields() {
			i, err := fieldIndex(in.Schema(), f.Name)
			if err != nil {
				releaseAll(cols)
				return nil, err
			}
			src := in.Column(i)
			if arrow.TypeEqual(src.DataType(), f.Type) {
				src.Retain()
				cols = append(cols, src)
				continue
			}
			c, err := compute.CastArray(ctx, src, compute.SafeCastOptions(f.Type))
			if err != nil {
				releaseAll(cols)
				return nil, fmt.Errorf("cast column %q from %s to %s: %w", f.Name, src.DataType(), f.Type, err)
			}
			cols = append(cols, c)
		}
		return cols, nil
	}
	return op
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// AddColumnOp is the op built by AddColumn.
type AddColumnOp struct {
	field  arrow.Field
	values arrow.Array
	digest string
	err    error
}

// AddColumn appends a column holding values, whose length must equal the
// dataset's row count (checked when batches flow). The op retains values.
// Its fingerprint contribution is a SHA-256 of values' Arrow IPC encoding,
// so two AddColumn ops with equal data share cache entries.
func AddColumn(field arrow.Field, values arrow.Array) *AddColumnOp {
	op := &AddColumnOp{field: field, values: values}
	if !arrow.TypeEqual(field.Type, values.DataType()) {
		op.err = fmt.Errorf("%w: add_column %q: field type %s, values %s", ErrOp, field.Name, field.Type, values.DataType())
		return op
	}
	values.Retain()
	op.digest, op.err = digestArray(values)
	return op
}

func digestArray(a arrow.Array) (string, error) {
	var buf bytes.Buffer
	s := arrow.NewSchema([]arrow.Field{{Name: "v", Type: a.DataType(), Nullable: true}}, nil)
	w := ipc.NewWriter(&buf, ipc.WithSchema(s))
	rb := array.NewRecordBatch(s, []arrow.Array{a}, int64(a.Len()))
	defer rb.Release()
	if err := w.Write(rb); err != nil {
		return "", fmt.Errorf("%w: add_column: hashing values: %v", ErrOp, err)
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]), nil
}

// Err returns the construction error, if any.
func (a *AddColumnOp) Err() error { return a.err }

// Describe implements Op.
func (a *AddColumnOp) Describe() (string, bool) {
	return describe("add_column", "field", a.field.String(), "len", strconv.Itoa(a.values.Len()), "sha256", a.digest), a.err == nil
}

// Kind implements BatchOp: KindRows (values are matched by row position).
func (a *AddColumnOp) Kind() Kind { return KindRows }

// Schema implements BatchOp.
func (a *AddColumnOp) Schema(in *arrow.Schema) (*arrow.Schema, bool, error) {
	if a.err != nil {
		return nil, false, a.err
	}
	if len(in.FieldIndices(a.field.Name)) > 0 {
		return nil, false, fmt.Errorf("%w: add_column: column %q exists", ErrOp, a.field.Name)
	}
	md := in.Metadata()
	return arrow.NewSchema(append(slices.Clone(in.Fields()), a.field), &md), true, nil
}

// Apply implements BatchOp: the batch gets values[firstRow:firstRow+n].
func (a *AddColumnOp) Apply(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, firstRow int64) (arrow.RecordBatch, error) {
	out, _, err := a.Schema(in.Schema())
	if err != nil {
		return nil, err
	}
	n := in.NumRows()
	if firstRow+n > int64(a.values.Len()) {
		return nil, &RunError{Op: "add_column(" + a.field.Name + ")", First: firstRow, Count: n,
			Err: fmt.Errorf("column has %d values", a.values.Len())}
	}
	cols := append(slices.Clone(in.Columns()), array.NewSlice(a.values, firstRow, firstRow+n))
	rb := array.NewRecordBatch(out, cols, n)
	cols[len(cols)-1].Release()
	return rb, nil
}
