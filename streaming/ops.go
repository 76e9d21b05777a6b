package streaming

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/ops"
)

// Apply returns the stream with op (any ops.BatchOp: map, filter, column
// ops) applied to every batch, after the ops already added and before
// Skip, Take and Batch.
//
// Ops must be row-wise for checkpoints to be exact: each output row
// depends on its input row only, and rows keep their order (a filter drops
// rows; a resizing map emits a row's outputs together). Ops run on the
// stream's worker pool, several chunks at a time, and must be safe for
// that (ops.BatchOp requires it). The firstRow an op receives is the
// consumer's index of the chunk's first example (after a resizing op, the
// index of the example the chunk started from, not an output row count).
func (s *Stream) Apply(op ops.BatchOp) *Stream {
	c := s.clone()
	c.cfg.ops = append(c.cfg.ops, op)
	if out, ok, err := op.Schema(c.schema); err == nil && ok && out != nil {
		c.schema = out
	}
	return c
}

// Map returns the stream with fn applied to every batch: ops.Map(name, fn,
// opts...). name ("tokenize@v2") identifies fn in checkpoints. Without
// ops.WithOutputSchema, Schema reports the input schema.
func (s *Stream) Map(name string, fn ops.MapFunc, opts ...ops.MapOption) *Stream {
	return s.Apply(ops.Map(name, fn, opts...))
}

// Filter returns the stream keeping the rows for which pred's mask is true
// (null counts as false): ops.Filter(name, pred).
func (s *Stream) Filter(name string, pred ops.PredicateFunc) *Stream {
	return s.Apply(ops.Filter(name, pred))
}

// Select returns the stream keeping only the named columns, in that order.
func (s *Stream) Select(columns ...string) *Stream {
	return s.Apply(ops.SelectColumns(columns...))
}

// Remove returns the stream without the named columns.
func (s *Stream) Remove(columns ...string) *Stream {
	return s.Apply(ops.RemoveColumns(columns...))
}

// Rename returns the stream with column from renamed to to.
func (s *Stream) Rename(from, to string) *Stream {
	return s.Apply(ops.RenameColumns(map[string]string{from: to}))
}

// Cast returns the stream with column converted to type to (Arrow's cast
// rules; a value that does not fit fails the batch).
func (s *Stream) Cast(column string, to arrow.DataType) *Stream {
	in := s.schema
	fields := in.Fields()
	found := false
	for i := range fields {
		if fields[i].Name == column {
			fields[i].Type, found = to, true
		}
	}
	if !found {
		return s.Apply(failOp(fmt.Errorf("cast: no column %q", column)))
	}
	md := in.Metadata()
	return s.Apply(ops.Cast(arrow.NewSchema(fields, &md)))
}

// errOp is an op that fails every batch; it reports a mistake made while
// building the stream when iteration starts.
type errOp struct{ err error }

func failOp(err error) ops.BatchOp { return errOp{err} }

func (o errOp) Describe() (string, bool) { return "error(" + o.err.Error() + ")", false }
func (o errOp) Kind() ops.Kind           { return ops.KindColumns }
func (o errOp) Schema(*arrow.Schema) (*arrow.Schema, bool, error) {
	return nil, false, o.err
}
func (o errOp) Apply(context.Context, memory.Allocator, arrow.RecordBatch, int64) (arrow.RecordBatch, error) {
	return nil, o.err
}
