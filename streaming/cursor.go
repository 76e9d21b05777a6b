package streaming

import (
	"context"
	"fmt"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quiverdata/quiver/ops"
)

// held is a retained batch of S starting at row start.
type held struct {
	start int64
	rec   arrow.RecordBatch
}

func (h held) end() int64 { return h.start + h.rec.NumRows() }

// cursor reads S (the shards in epoch order) sequentially, keeping the
// batches still needed, and gathers rows of S into new batches. It reads a
// shard only when a row of it is needed: seeking never reads the shards it
// passes.
type cursor struct {
	ctx    context.Context
	src    Source
	shards []Shard
	plan   *plan
	mem    memory.Allocator

	k        int   // position in plan.order of the shard being read; -1 none
	pos      int64 // S row the next pulled batch starts at
	shardEnd int64 // S row where shard k ends
	next     func() (arrow.RecordBatch, error, bool)
	stop     func()
	buf      []held
	ahead    *readAhead // the next shard, being read; nil if none

	// win holds slices of the held batches covering the current shuffle
	// window, S rows [winStart, winEnd); nil when there is none.
	win              []arrow.RecordBatch
	winStart, winEnd int64
}

// newCursor returns a cursor over src; the caller must close it.
func newCursor(ctx context.Context, src Source, p *plan, mem memory.Allocator) *cursor {
	if h, ok := src.(holder); ok {
		h.hold()
	}
	return &cursor{ctx: ctx, src: src, shards: src.Shards(), plan: p, mem: mem, k: -1}
}

// close releases everything the cursor holds; the shard reads have ended
// when it returns.
func (c *cursor) close() {
	c.closeShard()
	c.cancelAhead()
	c.dropBefore(1 << 62)
	c.dropWindow()
	if h, ok := c.src.(holder); ok {
		h.unhold()
	}
}

// readAhead is shard k (in epoch order) being read on its own goroutine
// while the cursor reads the one before, so that opening a shard (a
// footer and first column chunks, possibly over the network) overlaps
// with consuming the previous one. At most one batch waits in it.
type readAhead struct {
	k      int
	ch     chan aheadItem
	cancel context.CancelFunc
}

type aheadItem struct {
	rec arrow.RecordBatch // retained
	err error
}

// startAhead starts reading shard k ahead, unless it is out of range or
// the consumer reads nothing of it.
func (c *cursor) startAhead(k int) {
	if k >= len(c.plan.order) || c.shards[c.plan.order[k]].Rows == 0 || !c.plan.mayRead(k) {
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	ra := &readAhead{k: k, ch: make(chan aheadItem, 1), cancel: cancel}
	seq := c.src.Read(ctx, c.plan.order[k])
	go func() {
		defer close(ra.ch)
		for rec, err := range seq {
			if rec != nil {
				rec.Retain()
			}
			select {
			case ra.ch <- aheadItem{rec, err}:
			case <-ctx.Done():
				if rec != nil {
					rec.Release()
				}
				return
			}
			if err != nil {
				return
			}
		}
	}()
	c.ahead = ra
}

// cancelAhead stops a read-ahead and releases what it produced.
func (c *cursor) cancelAhead() {
	if c.ahead == nil {
		return
	}
	c.ahead.cancel()
	for it := range c.ahead.ch {
		if it.rec != nil {
			it.rec.Release()
		}
	}
	c.ahead = nil
}

// aheadSeq turns a read-ahead into the borrowed-batch iterator Read gives.
func aheadSeq(ra *readAhead) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		defer func() {
			ra.cancel()
			for it := range ra.ch {
				if it.rec != nil {
					it.rec.Release()
				}
			}
		}()
		for it := range ra.ch {
			ok := yield(it.rec, it.err)
			if it.rec != nil {
				it.rec.Release()
			}
			if !ok || it.err != nil {
				return
			}
		}
	}
}

func (c *cursor) dropWindow() {
	for _, p := range c.win {
		p.Release()
	}
	c.win = nil
}

func (c *cursor) closeShard() {
	if c.stop != nil {
		c.stop()
	}
	c.next, c.stop = nil, nil
}

// dropBefore releases held batches that end at or before S row s.
func (c *cursor) dropBefore(s int64) {
	n := 0
	for n < len(c.buf) && c.buf[n].end() <= s {
		c.buf[n].rec.Release()
		n++
	}
	if n > 0 {
		c.buf = append(c.buf[:0], c.buf[n:]...)
	}
	if c.win != nil && (c.winEnd <= s || s < c.winStart) {
		c.dropWindow()
	}
}

// seek positions the cursor so that the next row read is S row s, dropping
// what it holds. Only the shard containing s is opened; the rows before s
// in that shard are read and discarded.
func (c *cursor) seek(s int64) error {
	c.closeShard()
	c.dropBefore(1 << 62)
	k := c.plan.shardAt(s)
	if k < 0 {
		return fmt.Errorf("streaming: internal error: row %d outside the epoch", s)
	}
	if err := c.openShard(k); err != nil {
		return err
	}
	return c.skipTo(s)
}

// skipTo drops held rows before s and reads and discards rows of the
// current shard up to s, which must lie in it.
func (c *cursor) skipTo(s int64) error {
	c.dropBefore(s)
	for c.pos < s {
		rec, err := c.pull()
		if err != nil {
			return err
		}
		if rec == nil {
			return c.shardErr(fmt.Errorf("%w: ended before row %d", ErrShard, s-c.plan.start[c.k]))
		}
		n := rec.NumRows()
		if c.pos+n <= s {
			rec.Release()
			c.pos += n
			continue
		}
		part := rec.NewSlice(s-c.pos, n)
		rec.Release()
		c.buf = append(c.buf, held{start: s, rec: part})
		c.pos += n
	}
	return nil
}

// prepare makes the held batches cover S rows [lo, hi], reading as little
// as it can: shards wholly before lo are never opened.
func (c *cursor) prepare(lo, hi int64) error {
	switch {
	case c.k < 0 || lo < c.bufStart():
		if err := c.seek(lo); err != nil {
			return err
		}
	case lo >= c.bufEnd() && lo >= c.shardEnd:
		if err := c.seek(lo); err != nil {
			return err
		}
	case lo >= c.bufEnd():
		if err := c.skipTo(lo); err != nil {
			return err
		}
	}
	return c.fill(hi + 1)
}

func (c *cursor) shardErr(err error) error {
	return &ShardError{Shard: c.shards[c.plan.order[c.k]], Err: err}
}

func (c *cursor) openShard(k int) error {
	c.closeShard()
	c.k = k
	c.pos = c.plan.start[k]
	c.shardEnd = c.pos + c.shards[c.plan.order[k]].Rows
	var seq iter.Seq2[arrow.RecordBatch, error]
	if c.ahead != nil && c.ahead.k == k {
		seq = aheadSeq(c.ahead)
		c.ahead = nil
	} else {
		c.cancelAhead()
		seq = c.src.Read(c.ctx, c.plan.order[k])
	}
	c.next, c.stop = iter.Pull2(seq)
	c.startAhead(k + 1)
	if pf, ok := c.src.(prefetcher); ok {
		for j := k + 2; j < min(k+2+prefetchShards, len(c.plan.order)) && c.plan.mayRead(j); j++ {
			pf.prefetch(c.plan.order[j])
		}
	}
	return nil
}

// prefetchShards is how many shards after the one read ahead a cursor
// asks a prefetcher to fetch, so that a shard's data is on its way before
// its read starts.
const prefetchShards = 2

// pull returns the next non-empty batch of the current shard, retained, or
// nil at the shard's end, checking that the shard yields what it announced.
func (c *cursor) pull() (arrow.RecordBatch, error) {
	for {
		rec, err, ok := c.next()
		if !ok {
			if c.pos != c.shardEnd {
				return nil, c.shardErr(fmt.Errorf("%w: yielded %d rows, announced %d",
					ErrShard, c.pos-c.plan.start[c.k], c.shards[c.plan.order[c.k]].Rows))
			}
			return nil, nil
		}
		if err != nil {
			return nil, c.shardErr(err)
		}
		if rec.NumRows() == 0 {
			continue
		}
		if !rec.Schema().Equal(c.src.Schema()) {
			return nil, c.shardErr(fmt.Errorf("%w: schema %s, want %s", ErrShard, rec.Schema(), c.src.Schema()))
		}
		if c.pos+rec.NumRows() > c.shardEnd {
			return nil, c.shardErr(fmt.Errorf("%w: yields more than the %d rows announced",
				ErrShard, c.shards[c.plan.order[c.k]].Rows))
		}
		rec.Retain()
		return rec, nil
	}
}

// fill reads until the held batches reach S row hi (exclusive).
func (c *cursor) fill(hi int64) error {
	for c.bufEnd() < hi {
		if c.next != nil && c.pos >= c.shardEnd {
			// The shard has given all it announced; it must be at its end.
			rec, err := c.pull()
			if err != nil {
				return err
			}
			if rec != nil {
				rec.Release()
				return c.shardErr(fmt.Errorf("%w: yields more than the %d rows announced", ErrShard, c.shards[c.plan.order[c.k]].Rows))
			}
			c.closeShard()
		}
		if c.next == nil {
			if c.k+1 >= len(c.plan.order) {
				return fmt.Errorf("streaming: internal error: row %d beyond the epoch", hi-1)
			}
			if err := c.openShard(c.k + 1); err != nil {
				return err
			}
			continue
		}
		rec, err := c.pull()
		if err != nil {
			return err
		}
		if rec == nil {
			c.closeShard()
			c.pos = c.shardEnd
			continue
		}
		c.buf = append(c.buf, held{start: c.pos, rec: rec})
		c.pos += rec.NumRows()
	}
	return nil
}

func (c *cursor) bufStart() int64 {
	if len(c.buf) == 0 {
		return c.pos
	}
	return c.buf[0].start
}

func (c *cursor) bufEnd() int64 {
	if len(c.buf) == 0 {
		return c.pos
	}
	return c.buf[len(c.buf)-1].end()
}

// run returns the held batch containing S row s (after prepare), the
// offset of s in it and the rows from s to the batch's end.
func (c *cursor) run(s int64) (arrow.RecordBatch, int64, int64, error) {
	for _, h := range c.buf {
		if s >= h.start && s < h.end() {
			return h.rec, s - h.start, h.end() - s, nil
		}
	}
	return nil, 0, 0, fmt.Errorf("streaming: internal error: row %d not held", s)
}

// gather returns the batches holding S rows idx (retained slices, in S
// order; the caller releases them) and the offsets of those rows in their
// concatenation, in order; gatherParts makes the result. Asking for rows
// below what the cursor holds makes it seek back (re-reading).
func (c *cursor) gather(idx []int64) ([]arrow.RecordBatch, []int64, error) {
	lo, hi := idx[0], idx[0]
	for _, s := range idx {
		lo, hi = min(lo, s), max(hi, s)
	}
	if err := c.prepare(lo, hi); err != nil {
		return nil, nil, err
	}
	parts := c.slices(lo, hi+1)
	offs := make([]int64, len(idx))
	for i, s := range idx {
		offs[i] = s - lo
	}
	return parts, offs, nil
}

// slices returns retained slices of the held batches covering S rows
// [lo, hi), in order.
func (c *cursor) slices(lo, hi int64) []arrow.RecordBatch {
	var parts []arrow.RecordBatch
	for _, h := range c.buf {
		if h.end() > lo && h.start < hi {
			a, b := max(lo, h.start), min(hi, h.end())
			parts = append(parts, h.rec.NewSlice(a-h.start, b-h.start))
		}
	}
	return parts
}

// gatherWindow is gather for the rows at offsets offs of the shuffle
// window of S rows [ws, we); it returns the window's batches and offs.
// The window is read whole and its slices of the held batches are kept for
// the window's next chunks; nothing is copied here (the workers gather
// from the slices).
func (c *cursor) gatherWindow(ws, we int64, offs []int64) ([]arrow.RecordBatch, []int64, error) {
	if c.win == nil || c.winStart != ws || c.winEnd != we {
		c.dropWindow()
		if err := c.prepare(ws, we-1); err != nil {
			return nil, nil, err
		}
		c.win = c.slices(ws, we)
		c.winStart, c.winEnd = ws, we
	}
	parts := make([]arrow.RecordBatch, len(c.win))
	for i, p := range c.win {
		p.Retain()
		parts[i] = p
	}
	return parts, offs, nil
}

// concatBatches concatenates held batches into one.
func concatBatches(hs []held, mem memory.Allocator) (arrow.RecordBatch, error) {
	if len(hs) == 1 {
		hs[0].rec.Retain()
		return hs[0].rec, nil
	}
	recs := make([]arrow.RecordBatch, len(hs))
	for i, h := range hs {
		recs[i] = h.rec
	}
	return ops.ConcatBatches(mem, hs[0].rec.Schema(), recs)
}

// takeBatch gathers rows ind of rec into a new batch.
func takeBatch(ctx context.Context, rec arrow.RecordBatch, ind arrow.Array, mem memory.Allocator) (arrow.RecordBatch, error) {
	ctx = compute.WithAllocator(ctx, mem)
	cols := make([]arrow.Array, rec.NumCols())
	for j := range cols {
		col, err := compute.TakeArray(ctx, rec.Column(j), ind)
		if err != nil {
			for _, c := range cols[:j] {
				c.Release()
			}
			return nil, fmt.Errorf("streaming: gathering column %q: %w", rec.Schema().Field(j).Name, err)
		}
		cols[j] = col
	}
	out := array.NewRecordBatch(rec.Schema(), cols, int64(ind.Len()))
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}
