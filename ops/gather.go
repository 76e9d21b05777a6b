package ops

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"sync"

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
	if fastSchema(in.Schema()) {
		var spans []span
		for i := 0; i < len(idx); {
			j := i + 1
			for j < len(idx) && idx[j] == idx[j-1]+1 {
				j++
			}
			if idx[i] < 0 || idx[j-1] >= in.NumRows() {
				return nil, fmt.Errorf("%w: row %d outside %d rows", ErrOp, idx[i], in.NumRows())
			}
			spans = append(spans, span{0, idx[i], int64(j - i)})
			i = j
		}
		if b, err := fastGather(mem, in.Schema(), []arrow.RecordBatch{in}, spans); err == nil {
			return b, nil
		}
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
// sequence of rows. Starts[i] is the index of the first row of batch i;
// Starts has one more entry than there are batches, its last entry the
// total row count. Batches may be loaded lazily (NewLazyChunks), so that
// opening a large mapped file touches none of its data. Chunks values
// share their batches; copies are cheap.
type Chunks struct {
	Schema *arrow.Schema
	Starts []int64
	// rowsPer is the row count of every batch but the last, when they
	// all have the same one (0 otherwise): Locate then divides instead of
	// searching.
	rowsPer int64
	store   *chunkStore
}

// uniformRows returns the common row count of all batches but the last
// (which may be shorter), or 0 when there is none.
func uniformRows(starts []int64) int64 {
	if len(starts) < 2 {
		return 0
	}
	r := starts[1] - starts[0]
	if r <= 0 {
		return 0
	}
	for i := 1; i < len(starts)-1; i++ {
		n := starts[i+1] - starts[i]
		if i < len(starts)-2 && n != r || n > r {
			return 0
		}
	}
	return r
}

type chunkStore struct {
	mu      sync.Mutex
	batches []arrow.RecordBatch
	load    func(i int) (arrow.RecordBatch, error)
	closed  bool
}

// ErrClosed is returned by Chunks.Batch after Chunks.Close.
var ErrClosed = errors.New("data already closed")

// NewChunks indexes batches (borrowed, not retained) as one row sequence.
func NewChunks(schema *arrow.Schema, batches []arrow.RecordBatch) Chunks {
	starts := make([]int64, len(batches)+1)
	for i, b := range batches {
		starts[i+1] = starts[i] + b.NumRows()
	}
	return Chunks{Schema: schema, Starts: starts, rowsPer: uniformRows(starts), store: &chunkStore{batches: batches}}
}

// NewLazyChunks indexes batches with the given row counts that load
// returns on first use (at most once each; load's result is owned by the
// Chunks, see Loaded).
func NewLazyChunks(schema *arrow.Schema, rows []int64, load func(i int) (arrow.RecordBatch, error)) Chunks {
	starts := make([]int64, len(rows)+1)
	for i, n := range rows {
		starts[i+1] = starts[i] + n
	}
	return Chunks{Schema: schema, Starts: starts, rowsPer: uniformRows(starts), store: &chunkStore{batches: make([]arrow.RecordBatch, len(rows)), load: load}}
}

// NumBatches returns the number of batches.
func (c Chunks) NumBatches() int { return len(c.Starts) - 1 }

// BatchRows returns the row count of batch i without loading it.
func (c Chunks) BatchRows(i int) int64 { return c.Starts[i+1] - c.Starts[i] }

// Batch returns batch i, loading it if needed. The batch is borrowed from
// c.
func (c Chunks) Batch(i int) (arrow.RecordBatch, error) {
	s := c.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if b := s.batches[i]; b != nil {
		return b, nil
	}
	b, err := s.load(i)
	if err != nil {
		return nil, err
	}
	s.batches[i] = b
	return b, nil
}

// Loaded returns the batches loaded so far (nil entries for the others),
// for their owner to release.
func (c Chunks) Loaded() []arrow.RecordBatch {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	return slices.Clone(c.store.batches)
}

// Close makes every later Batch call fail with ErrClosed and returns the
// batches loaded so far (nil entries for the others), for their owner to
// release. Batches borrowed from c before must no longer be in use. A
// second Close returns nil.
func (c Chunks) Close() []arrow.RecordBatch {
	c.store.mu.Lock()
	defer c.store.mu.Unlock()
	if c.store.closed {
		return nil
	}
	c.store.closed = true
	out := c.store.batches
	c.store.batches = make([]arrow.RecordBatch, len(out))
	return out
}

// Len returns the total row count.
func (c Chunks) Len() int64 { return c.Starts[len(c.Starts)-1] }

// Locate returns the chunk holding row p and p's offset in it.
func (c Chunks) Locate(p int64) (chunk int, off int64) {
	if c.rowsPer > 0 && p >= 0 {
		chunk = int(min(p/c.rowsPer, int64(c.NumBatches())-1))
		return chunk, p - c.Starts[chunk]
	}
	chunk = sort.Search(c.NumBatches(), func(i int) bool { return c.Starts[i+1] > p })
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
		if ci < c.NumBatches() && off+n <= c.BatchRows(ci) {
			b, err := c.Batch(ci)
			if err != nil {
				return nil, err
			}
			return b.NewSlice(off, off+n), nil
		}
	}
	if fastSchema(c.Schema) {
		b, ok, err := gatherScattered(mem, c, sel)
		if err != nil {
			return nil, err
		}
		if ok {
			return b, nil
		}
		spans, err := routeSpans(c, sel)
		if err != nil {
			return nil, err
		}
		// Load the batches the spans touch, renumbering spans to them.
		var batches []arrow.RecordBatch
		slot := map[int]int{}
		for k, sp := range spans {
			j, ok := slot[sp.c]
			if !ok {
				b, err := c.Batch(sp.c)
				if err != nil {
					return nil, err
				}
				j = len(batches)
				slot[sp.c] = j
				batches = append(batches, b)
			}
			spans[k].c = j
		}
		if b, err := fastGather(mem, c.Schema, batches, spans); err == nil {
			return b, nil
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
		b, err := c.Batch(order[0])
		if err != nil {
			return nil, err
		}
		return TakeBatch(ctx, mem, b, local[order[0]])
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
		b, err := c.Batch(ci)
		if err != nil {
			return nil, err
		}
		part, err := TakeBatch(ctx, mem, b, local[ci])
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

// gatherScattered gathers sel row by row (gatherRows) when its rows are
// scattered: runs of consecutive positions average fewer than
// scatteredRunLen rows. ok is false when the span path should be used
// instead (long runs, or a layout gatherRows does not expect).
func gatherScattered(mem memory.Allocator, c Chunks, sel Selection) (b arrow.RecordBatch, ok bool, err error) {
	n := sel.Len()
	if sel.Idx == nil || n < scatteredRunLen {
		return nil, false, nil
	}
	// Runs first: a cheap pass that avoids routing rows the span path
	// will route again.
	runs := int64(1)
	for i := int64(1); i < n; i++ {
		d := sel.Idx[i] - sel.Idx[i-1] - 1
		runs += int64(uint64(d|-d) >> 63) // d != 0, without a branch
	}
	if n/runs >= scatteredRunLen {
		return nil, false, nil
	}
	bi, ri := scratchInt32(int(n)), scratchInt64(int(n))
	defer releaseInt32(bi)
	defer releaseInt64(ri)
	batches, err := routeRows(c, sel.Idx, *bi, *ri)
	if err != nil {
		return nil, false, err
	}
	out, err := gatherRows(mem, c.Schema, batches, *bi, *ri)
	if err != nil {
		return nil, false, nil // errNoFastTake: the span path copes
	}
	return out, true, nil
}

// routeRows finds the batch of every position of idx: row i of the
// gather is row ri[i] of batches[bi[i]], where batches lists the batches
// idx touches (loaded, borrowed from c). bi and ri have len(idx) entries.
func routeRows(c Chunks, idx []int64, bi []int32, ri []int64) (batches []arrow.RecordBatch, err error) {
	total := c.Len()
	// slot[ci] is 1 + the index of batch ci in batches; 0 while unused.
	slot := make([]int32, c.NumBatches())
	use := func(ci int) (int32, error) {
		if slot[ci] == 0 {
			b, err := c.Batch(ci)
			if err != nil {
				return 0, err
			}
			batches = append(batches, b)
			slot[ci] = int32(len(batches))
		}
		return slot[ci] - 1, nil
	}
	if r := c.rowsPer; r > 0 && r&(r-1) == 0 {
		// Batches of one power-of-two row count (the usual layout): the
		// batch is a shift away, with no branch to mispredict on rows
		// that hop between batches.
		shift := bits.TrailingZeros64(uint64(r))
		for i, p := range idx {
			if uint64(p) >= uint64(total) {
				return nil, fmt.Errorf("%w: row %d outside %d rows", ErrOp, p, total)
			}
			ci := p >> shift
			bi[i], ri[i] = int32(ci), p-ci<<shift
			slot[ci] = 1
		}
		for ci, used := range slot {
			if used != 0 {
				slot[ci] = 0
				if _, err := use(ci); err != nil {
					return nil, err
				}
			}
		}
		for i, ci := range bi {
			bi[i] = slot[ci] - 1
		}
		return batches, nil
	}
	cur, lo, hi := int32(-1), int64(0), int64(0)
	for i, p := range idx {
		if p < lo || p >= hi {
			if p < 0 || p >= total {
				return nil, fmt.Errorf("%w: row %d outside %d rows", ErrOp, p, total)
			}
			ci, _ := c.Locate(p)
			lo, hi = c.Starts[ci], c.Starts[ci+1]
			if cur, err = use(ci); err != nil {
				return nil, err
			}
		}
		bi[i] = cur
		ri[i] = p - lo
	}
	return batches, nil
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

func fastSchema(s *arrow.Schema) bool {
	for _, f := range s.Fields() {
		if !fastTakeSupported(f.Type) {
			return false
		}
	}
	return true
}

// routeSpans turns sel into runs of consecutive rows within one chunk.
func routeSpans(c Chunks, sel Selection) ([]span, error) {
	var spans []span
	n := sel.Len()
	total := c.Len()
	last, lastLo, lastHi := -1, int64(0), int64(0)
	for i := int64(0); i < n; i++ {
		p := sel.At(i)
		if p < 0 || p >= total {
			return nil, fmt.Errorf("%w: row %d outside %d rows", ErrOp, p, total)
		}
		if last < 0 || p < lastLo || p >= lastHi {
			last, _ = c.Locate(p)
			lastLo, lastHi = c.Starts[last], c.Starts[last+1]
		}
		local := p - lastLo
		if k := len(spans) - 1; k >= 0 && spans[k].c == last && spans[k].start+spans[k].n == local {
			spans[k].n++
			continue
		}
		spans = append(spans, span{last, local, 1})
	}
	return spans, nil
}

// fastGather builds a batch of the rows spans of batches by copying
// buffers directly (no compute kernels, no intermediate concatenation).
// An unexpected layout is reported as an error so callers can fall back.
func fastGather(mem memory.Allocator, schema *arrow.Schema, batches []arrow.RecordBatch, spans []span) (arrow.RecordBatch, error) {
	var n int64
	for _, s := range spans {
		n += s.n
	}
	return buildColumns(schema, batches, n, func(ds []arrow.ArrayData) arrow.ArrayData {
		return takeSpans(mem, ds, spans)
	})
}

// buildColumns makes a batch of schema with rows rows whose column j is
// column(the column j of every batch): the one loop of the typed
// gathers. A panic in column (a layout the typed code does not expect) is
// returned as an error wrapping errNoFastTake, for the caller to fall back
// on. The result is owned by the caller.
func buildColumns(schema *arrow.Schema, batches []arrow.RecordBatch, rows int64,
	column func(ds []arrow.ArrayData) arrow.ArrayData) (out arrow.RecordBatch, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: %v", errNoFastTake, r)
		}
	}()
	cols := make([]arrow.Array, schema.NumFields())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	ds := make([]arrow.ArrayData, len(batches))
	for j := range cols {
		for k, b := range batches {
			ds[k] = b.Column(j).Data()
		}
		d := column(ds)
		cols[j] = array.MakeFromData(d)
		d.Release()
	}
	return array.NewRecordBatch(schema, cols, rows), nil
}
