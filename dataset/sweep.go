package dataset

import (
	"cmp"
	"context"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdata/quiver/internal/recycle"
	"github.com/quiverdata/quiver/ops"
)

// A bulk write of a permuted selection (an export or materialization of a
// shuffled, sorted or selected dataset) reads every row of a mapped source
// once, in an order that hops across the whole file. Gathered row by row
// in that order, every page of the file stays in the process's resident
// set (and, beyond RAM, every row is a random read). A sweep instead takes
// the output rows a group at a time (WithSweepBytes of Arrow data),
// gathers the group's rows in source order (a forward pass over the file,
// evicting the mapped pages of each stretch once it is read), and cuts the
// group's output windows from that in-memory copy. Resident memory is then
// about a group, its output windows and a few stretches of the file.

// DefaultSweepBytes is the Arrow bytes of rows one sweep gathers unless
// WithSweepBytes says otherwise: it bounds a full shuffle's resident
// memory to about half a gigabyte, whatever the source's size. Each sweep
// maps again the pages it reads, which costs time (more on virtual
// machines that shadow page tables); WithSweepBytes trades one for the
// other.
const DefaultSweepBytes = 48 << 20

// sweepSpanBytes is the source bytes one piece of a sweep reads before
// their pages are evicted.
const sweepSpanBytes = 16 << 20

// sweepable reports whether a bulk write of st should sweep: a scattered
// selection over a source of at least two sweeps' bytes.
func (c *config) sweepable(st *state) bool {
	if c.sweepBytes < 0 || st.sel.Contiguous() || st.sel.Len() < 2 {
		return false
	}
	return st.src.bytes() >= 2*c.sweepBytes
}

// runBulk is runFrom for writes of every row: it sweeps when st is
// sweepable, and a contiguous read of a large mapped source evicts the
// pages it has left behind.
func (c *config) runBulk(ctx context.Context, st *state, base int64, size, workers int, emit func(arrow.RecordBatch) bool) error {
	if c.sweepable(st) {
		return c.runSweep(ctx, st, base, size, workers, emit)
	}
	if size <= 0 {
		size = DefaultBatchSize
	}
	next := windows(st, size)
	if st.sel.Contiguous() && st.src.evictChunk != nil && st.src.bytes() >= 2*trailBytes {
		next = evictingBehind(st, next)
	}
	return c.runWindows(ctx, st, base, next, workers, emit)
}

// trailBytes is about how much of a mapped source a contiguous bulk read
// keeps resident behind the window it hands out: enough that batches
// still being processed or buffered by a writer are not evicted. (A
// variable for tests.)
var trailBytes int64 = 64 << 20

// evictingBehind wraps next, whose windows are contiguous and in order,
// so that handing out a window in source chunk ci evicts the chunks more
// than trailBytes behind it. Evicting a chunk still in use is harmless:
// its pages are mapped again on access.
func evictingBehind(st *state, next func() (window, bool)) func() (window, bool) {
	c := st.src.chunks
	per := st.src.rowBytes()
	evicted := 0 // chunks below this are evicted
	return func() (window, bool) {
		w, ok := next()
		if !ok || w.sel.Len() == 0 {
			return w, ok
		}
		ci, _ := c.Locate(w.sel.At(0))
		for evicted < ci && (c.Starts[ci]-c.Starts[evicted+1])*per >= trailBytes {
			st.src.evictChunk(evicted)
			evicted++
		}
		return w, ok
	}
}

// runSweep is runFrom (rows of st through its pending ops to emit, in
// order) for a scattered selection, a group of output rows at a time.
func (c *config) runSweep(ctx context.Context, st *state, base int64, size, workers int, emit func(arrow.RecordBatch) bool) error {
	if size <= 0 {
		size = DefaultBatchSize
	}
	n := st.sel.Len()
	group := max(int64(size), c.sweepBytes/st.src.rowBytes())
	group = (group + int64(size) - 1) / int64(size) * int64(size)
	// Loading the source's batches may have touched a page or so of each
	// buffer (and the kernel maps neighbouring pages with it): drop them,
	// so that only the stretch being swept is resident.
	st.src.evictPages()
	stopped := false
	for g0 := int64(0); g0 < n && !stopped; g0 += group {
		if err := ctx.Err(); err != nil {
			return err
		}
		g1 := min(n, g0+group)
		staged, where, err := c.stage(ctx, st, st.sel.Slice(g0, g1), workers)
		if err != nil {
			return err
		}
		sub := &state{
			src:     &source{chunks: ops.NewChunks(st.src.chunks.Schema, staged), where: st.src.where},
			sel:     ops.Positions(where),
			pending: st.pending,
			schema:  st.schema,
		}
		err = c.runFrom(ctx, sub, base+g0, size, workers, func(b arrow.RecordBatch) bool {
			if !emit(b) {
				stopped = true
				return false
			}
			return true
		})
		for _, b := range staged {
			b.Release()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// stage gathers the rows of sel in source order, in pieces of consecutive
// source batches gathered on up to workers goroutines; once a piece is
// gathered, the mapped pages of its source batches are evicted, so the
// sweep's resident file pages stay within a few batches. where[i] is the
// position in the staged rows of sel's row i. The batches are owned by the
// caller.
func (c *config) stage(ctx context.Context, st *state, sel ops.Selection, workers int) ([]arrow.RecordBatch, []int64, error) {
	n := sel.Len()
	// Sort (position, output row) pairs by position.
	type pair struct{ pos, row int64 }
	pairs := make([]pair, n)
	for i := range n {
		pairs[i] = pair{sel.At(i), i}
	}
	slices.SortFunc(pairs, func(a, b pair) int { return cmp.Compare(a.pos, b.pos) })
	sorted := make([]int64, n)
	where := make([]int64, n)
	for k, p := range pairs {
		sorted[k] = p.pos
		where[p.row] = int64(k)
	}
	pairs = nil
	// Pieces span sweepSpanBytes of the source: the file pages resident
	// at once are about workers such spans.
	pieces := stagePieces(st.src.chunks, sorted, sweepSpanBytes/st.src.rowBytes())
	staged := make([]arrow.RecordBatch, len(pieces))
	err := parallelFor(ctx, workers, len(pieces), func(ctx context.Context, k int) error {
		p := pieces[k]
		b, err := ops.Gather(ctx, recycle.For(c.mem), st.src.chunks, ops.Positions(sorted[p.lo:p.hi]))
		if err != nil {
			return err
		}
		staged[k] = b
		if st.src.evictChunk != nil {
			for ci := p.c0; ci <= p.c1; ci++ {
				st.src.evictChunk(ci)
			}
		}
		return nil
	})
	if err != nil {
		for _, b := range staged {
			if b != nil {
				b.Release()
			}
		}
		return nil, nil, err
	}
	if st.src.evictChunk == nil {
		st.src.evictPages()
	}
	return staged, where, nil
}

// piece is the sorted positions [lo, hi), which lie in chunks c0..c1.
type piece struct {
	lo, hi int64
	c0, c1 int
}

// stagePieces cuts sorted positions into pieces that end on chunk
// boundaries and span whole chunks of at least spanRows source rows (but
// the last): the gather of a piece touches about that much of the source.
func stagePieces(c ops.Chunks, sorted []int64, spanRows int64) []piece {
	var out []piece
	n := int64(len(sorted))
	for lo := int64(0); lo < n; {
		c0, _ := c.Locate(sorted[lo])
		c1 := c0
		for c1+1 < c.NumBatches() && c.Starts[c1+1]-c.Starts[c0] < spanRows {
			c1++
		}
		end := c.Starts[c1+1]
		hi := lo
		for hi < n && sorted[hi] < end {
			hi++
		}
		out = append(out, piece{lo, hi, c0, c1})
		lo = hi
	}
	return out
}
