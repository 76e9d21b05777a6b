package ops

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TakeBatch returns the rows idx of in, in that order. in is borrowed; the
// result is owned by the caller. A contiguous idx returns a zero-copy slice.
func TakeBatch(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, idx []int64) (arrow.RecordBatch, error) {
	if lo, ok := contiguous(idx); ok {
		return in.NewSlice(lo, lo+int64(len(idx))), nil
	}
	b := array.NewInt64Builder(mem)
	b.AppendValues(idx, nil)
	ia := b.NewInt64Array()
	b.Release()
	defer ia.Release()
	return takeWith(ctx, mem, in, ia)
}

func takeWith(ctx context.Context, mem memory.Allocator, in arrow.RecordBatch, ia arrow.Array) (arrow.RecordBatch, error) {
	ctx = compute.WithAllocator(ctx, mem)
	cols := make([]arrow.Array, in.NumCols())
	release := func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}
	for i, c := range in.Columns() {
		out, err := compute.TakeArray(ctx, c, ia)
		if err != nil {
			release()
			return nil, fmt.Errorf("take column %q: %w", in.ColumnName(i), err)
		}
		cols[i] = out
	}
	rb := array.NewRecordBatch(in.Schema(), cols, int64(ia.Len()))
	release()
	return rb, nil
}

func contiguous(idx []int64) (int64, bool) {
	if len(idx) == 0 {
		return 0, true
	}
	lo := idx[0]
	for i, p := range idx {
		if p != lo+int64(i) {
			return 0, false
		}
	}
	return lo, true
}

// Chunks is a list of record batches with one schema, addressed as one
// sequence of rows. Starts[i] is the index of the first row of Batches[i];
// Starts has one more entry than Batches, the total row count.
type Chunks struct {
	Schema  *arrow.Schema
	Batches []arrow.RecordBatch
	Starts  []int64
}

// NewChunks indexes batches (borrowed, not retained) as one row sequence.
func NewChunks(schema *arrow.Schema, batches []arrow.RecordBatch) Chunks {
	starts := make([]int64, len(batches)+1)
	for i, b := range batches {
		starts[i+1] = starts[i] + b.NumRows()
	}
	return Chunks{Schema: schema, Batches: batches, Starts: starts}
}

// Len returns the total row count.
func (c Chunks) Len() int64 { return c.Starts[len(c.Starts)-1] }

// Locate returns the chunk holding row p and p's offset in it.
func (c Chunks) Locate(p int64) (chunk int, off int64) {
	chunk = sort.Search(len(c.Batches), func(i int) bool { return c.Starts[i+1] > p })
	return chunk, p - c.Starts[chunk]
}

// Gather returns the rows at positions sel of c, in order, as one batch
// owned by the caller. Positions are routed to the batch holding them and
// gathered batch by batch, so nested columns are never concatenated whole
// (arrow-go's chunked Take does that on every call). A range inside one
// batch is a zero-copy slice.
func Gather(ctx context.Context, mem memory.Allocator, c Chunks, sel Selection) (arrow.RecordBatch, error) {
	n := sel.Len()
	if n == 0 {
		return EmptyBatch(mem, c.Schema), nil
	}
	if sel.Contiguous() {
		ci, off := c.Locate(sel.Start)
		if ci < len(c.Batches) && off+n <= c.Batches[ci].NumRows() {
			return c.Batches[ci].NewSlice(off, off+n), nil
		}
	}
	// Route positions to chunks. local[k] lists offsets within chunk k;
	// where[i] records (chunk, position in local[chunk]) for output row i.
	type route struct {
		chunk int32
		pos   int32
	}
	local := map[int][]int64{}
	var order []int // chunks in first-use order
	where := make([]route, n)
	monotone := true
	last, lastLo, lastHi := -1, int64(0), int64(0)
	for i := range n {
		p := sel.At(i)
		if p < 0 || p >= c.Len() {
			return nil, fmt.Errorf("%w: row %d outside %d rows", ErrOp, p, c.Len())
		}
		var ci int
		if last >= 0 && p >= lastLo && p < lastHi {
			ci = last
		} else {
			ci, _ = c.Locate(p)
			if last >= 0 && ci < last {
				monotone = false
			}
			last, lastLo, lastHi = ci, c.Starts[ci], c.Starts[ci+1]
		}
		l, seen := local[ci]
		if !seen {
			order = append(order, ci)
		}
		where[i] = route{int32(ci), int32(len(l))}
		local[ci] = append(l, p-c.Starts[ci])
	}
	if len(order) == 1 {
		return TakeBatch(ctx, mem, c.Batches[order[0]], local[order[0]])
	}
	sort.Ints(order)
	parts := make([]arrow.RecordBatch, 0, len(order))
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	base := make(map[int]int64, len(order))
	var total int64
	for _, ci := range order {
		part, err := TakeBatch(ctx, mem, c.Batches[ci], local[ci])
		if err != nil {
			return nil, err
		}
		parts = append(parts, part)
		base[ci] = total
		total += part.NumRows()
	}
	joined, err := ConcatBatches(mem, c.Schema, parts)
	if err != nil {
		return nil, err
	}
	if monotone {
		return joined, nil
	}
	defer joined.Release()
	perm := make([]int64, n)
	for i, w := range where {
		perm[i] = base[int(w.chunk)] + int64(w.pos)
	}
	return TakeBatch(ctx, mem, joined, perm)
}

// ConcatBatches concatenates batches with one schema into one batch owned
// by the caller. The inputs are borrowed.
func ConcatBatches(mem memory.Allocator, schema *arrow.Schema, batches []arrow.RecordBatch) (arrow.RecordBatch, error) {
	if len(batches) == 1 {
		batches[0].Retain()
		return batches[0], nil
	}
	var rows int64
	for _, b := range batches {
		rows += b.NumRows()
	}
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	parts := make([]arrow.Array, len(batches))
	for j := range cols {
		for i, b := range batches {
			parts[i] = b.Column(j)
		}
		if len(parts) == 0 {
			cols[j] = array.MakeArrayOfNull(mem, schema.Field(j).Type, 0)
			continue
		}
		col, err := array.Concatenate(parts, mem)
		if err != nil {
			return nil, fmt.Errorf("concatenate column %q: %w", schema.Field(j).Name, err)
		}
		cols[j] = col
	}
	return array.NewRecordBatch(schema, cols, rows), nil
}

// EmptyBatch returns a batch of schema with no rows, owned by the caller.
func EmptyBatch(mem memory.Allocator, schema *arrow.Schema) arrow.RecordBatch {
	cols := make([]arrow.Array, schema.NumFields())
	for i, f := range schema.Fields() {
		cols[i] = array.MakeArrayOfNull(mem, f.Type, 0)
	}
	rb := array.NewRecordBatch(schema, cols, 0)
	for _, c := range cols {
		c.Release()
	}
	return rb
}
