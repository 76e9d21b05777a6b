package ops

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// ErrOp is wrapped by every error an op returns about its own arguments or
// about a user function that failed; test with errors.Is.
var ErrOp = errors.New("op failed")

// Kind says how a batch op relates rows of its input to rows of its output.
type Kind uint8

const (
	// KindColumns ops touch only the schema or transform each value on its
	// own (rename, remove, select, cast): they preserve the row count and
	// commute with any row selection.
	KindColumns Kind = iota
	// KindRows ops preserve the row count but may depend on row positions
	// or on how rows are grouped into batches (Map, AddColumn).
	KindRows
	// KindResize ops may change the row count (Filter, Map with Resizing).
	KindResize
)

// String returns "columns", "rows" or "resize".
func (k Kind) String() string {
	switch k {
	case KindColumns:
		return "columns"
	case KindRows:
		return "rows"
	case KindResize:
		return "resize"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Op is what every op has: a canonical description.
type Op interface {
	// Describe returns the op's canonical description, the string hashed
	// into fingerprints, and whether the op is cacheable. An op that runs
	// a user function without a name@version is not cacheable.
	Describe() (desc string, cacheable bool)
}

// BatchOp transforms record batches one at a time.
type BatchOp interface {
	Op
	// Kind says whether the op preserves rows (see Kind).
	Kind() Kind
	// Schema returns the output schema for an input schema, or ok=false
	// when it can only be known by running the op (a Map without a
	// declared output schema).
	Schema(in *arrow.Schema) (out *arrow.Schema, ok bool, err error)
	// Apply transforms in, whose first row is row firstRow of the op's
	// input (the logical row index, as seen by MapIndexed). in is borrowed;
	// the returned batch is owned by the caller, who must Release it. Apply
	// is safe for concurrent use on different batches.
	Apply(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, firstRow int64) (arrow.RecordBatch, error)
}

// Table is the read access index ops need to the rows they select from,
// in the current logical order.
type Table interface {
	// Len returns the number of rows.
	Len() int64
	// Column returns the named column over all rows, in logical order. The
	// caller releases it.
	Column(ctx context.Context, name string) (arrow.Array, error)
}

// IndexOp computes a new row selection from a table without copying data.
type IndexOp interface {
	Op
	// Positions returns the rows of t to keep, in their new order, as
	// positions in [0, t.Len()).
	Positions(ctx context.Context, t Table) (Selection, error)
}

// describe builds a canonical description: the op name, then key=value
// arguments in the order given, each value quoted.
func describe(name string, kv ...string) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(strconv.Quote(kv[i+1]))
	}
	b.WriteByte(')')
	return b.String()
}

// quoteList renders names canonically for a description.
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return "[" + strings.Join(q, ",") + "]"
}

// RunError is the error of a user function (or an op) that failed on a
// range of rows; it names the op and the rows. Rows are the op's input rows
// [First, First+Count).
type RunError struct {
	Op           string
	First, Count int64
	Err          error
}

func (e *RunError) Error() string {
	return fmt.Sprintf("op %s failed on rows [%d, %d): %v", e.Op, e.First, e.First+e.Count, e.Err)
}

func (e *RunError) Unwrap() []error { return []error{ErrOp, e.Err} }

// runUser calls fn, turning a panic into an error.
func runUser[T any](fn func() (T, error)) (out T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}

// checkName validates a user function name: "" (uncacheable) or a
// name@version with both parts non-empty.
func checkName(name string) error {
	if name == "" {
		return nil
	}
	n, v, ok := strings.Cut(name, "@")
	if !ok || n == "" || v == "" {
		return fmt.Errorf("%w: function name %q must look like name@version (for example \"tokenize@v2\")", ErrOp, name)
	}
	return nil
}

// Check returns the construction error of op, if any: a malformed function
// name, an unknown column, invalid fractions. Ops record such errors when
// built and also return them from Schema or Positions; Check lets a caller
// report them at once.
func Check(op Op) error {
	if e, ok := op.(interface{ Err() error }); ok {
		return e.Err()
	}
	return nil
}
