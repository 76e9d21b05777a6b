package streaming

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/ops"
)

// DefaultPrefetch is how many chunks a Stream decodes ahead of its consumer
// unless WithPrefetch says otherwise.
const DefaultPrefetch = 4

// DefaultChunkRows is the most rows the stream gathers at a time (and the
// size of the batches it yields without Batch), unless WithChunkRows says
// otherwise.
const DefaultChunkRows = 64 * 1024

// Stream is an iterable dataset: a Source read on demand through a plan of
// shard order, window shuffle, split and per-batch ops (see the package
// documentation).
//
// Builder methods (Shuffle, SplitByNode, Map, Batch, ...) return a new
// Stream positioned at the start of the current epoch and leave the
// receiver unchanged. SetEpoch, Resume and iterating Batches move the
// stream's position. A Stream is not safe for concurrent use.
type Stream struct {
	src    Source
	schema *arrow.Schema // after ops
	rows   []int64       // rows per shard
	cfg    config
	pos    position
}

type config struct {
	shuffle  bool
	seed     uint64
	window   int64
	rank     int
	world    int
	worker   int
	workers  int
	elastic  bool
	pad      bool
	chunk    int64
	prefetch int
	pool     int // goroutines gathering and running ops
	mem      memory.Allocator
	ops      []ops.BatchOp
	skip     int64
	take     int64 // -1: no limit
	batch    int64 // 0: chunks as they come
	dropLast bool
}

// position is where the consumer is in the current epoch.
type position struct {
	epoch     int64
	base      int64 // elastic: global position local index 0 maps to
	local     int64 // first local index not wholly delivered
	skip      int64 // post-op rows of the chunk at local already delivered
	delivered int64 // post-op rows delivered (or skipped) this epoch
	done      bool
}

// New returns a Stream over src with the reading options given (WithPrefetch,
// WithChunkRows, WithAllocator; options that only concern files are
// ignored). Without builder calls the stream yields every row once, in
// shard order, as one consumer.
func New(src Source, opts ...Option) (*Stream, error) {
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	s := &Stream{src: src, schema: src.Schema()}
	for _, sh := range src.Shards() {
		if sh.Rows < 0 {
			return nil, fmt.Errorf("%w: %s has a negative row count", ErrShard, sh)
		}
		s.rows = append(s.rows, sh.Rows)
	}
	s.cfg = config{world: 1, workers: 1, take: -1, chunk: int64(o.chunkRows), prefetch: o.prefetch, pool: o.workers, mem: o.mem}
	return s, nil
}

// Schema returns the schema of the batches the stream yields.
func (s *Stream) Schema() *arrow.Schema { return s.schema }

// Shards returns the shards of the source in canonical order.
func (s *Stream) Shards() []Shard { return s.src.Shards() }

// NumRows returns the number of rows of one epoch of the source, before the
// split and ops.
func (s *Stream) NumRows() int64 {
	var n int64
	for _, r := range s.rows {
		n += r
	}
	return n
}

// Count returns the number of examples this consumer receives per epoch
// from the source, before ops (which may drop rows) and Skip/Take. Every
// consumer of a split gets the same count.
func (s *Stream) Count() int64 { return s.plan(0).count }

// Epoch returns the current epoch.
func (s *Stream) Epoch() int64 { return s.pos.epoch }

func (s *Stream) clone() *Stream {
	c := *s
	c.cfg.ops = slices.Clone(s.cfg.ops)
	c.pos = position{epoch: s.pos.epoch}
	return &c
}

// Shuffle returns the stream with shard order permuted by (seed, epoch) and
// rows permuted within windows of bufferSize rows by (seed, epoch, window).
// A bufferSize of 0 or less permutes shard order only. Memory grows with
// bufferSize (about one window of rows is held).
func (s *Stream) Shuffle(seed uint64, bufferSize int) *Stream {
	c := s.clone()
	c.cfg.shuffle, c.cfg.seed, c.cfg.window = true, seed, int64(max(bufferSize, 0))
	return c
}

// SplitByNode returns the stream as seen by rank of world ranks. Every rank
// gets the same number of examples per epoch (see Pad). It panics if rank
// is not in [0, world).
func (s *Stream) SplitByNode(rank, world int) *Stream {
	if world < 1 || rank < 0 || rank >= world {
		panic(fmt.Sprintf("streaming: SplitByNode(%d, %d): rank out of range", rank, world))
	}
	c := s.clone()
	c.cfg.rank, c.cfg.world = rank, world
	return c
}

// SplitByWorker returns the stream as seen by worker of workers data-loading
// workers within this rank; consumers are numbered rank*workers+worker. It
// panics if worker is not in [0, workers).
func (s *Stream) SplitByWorker(worker, workers int) *Stream {
	if workers < 1 || worker < 0 || worker >= workers {
		panic(fmt.Sprintf("streaming: SplitByWorker(%d, %d): worker out of range", worker, workers))
	}
	c := s.clone()
	c.cfg.worker, c.cfg.workers = worker, workers
	return c
}

// Elastic returns the stream with elastic assignment on or off (default
// off). In elastic mode consumer c of C receives global positions c, c+C,
// ..., so the rows all consumers have received after the same number of
// steps are a prefix of the global sequence, whatever C; a checkpoint can
// then be resumed with another world size. Off, each consumer reads a
// contiguous run of the sequence and only its share of the data.
func (s *Stream) Elastic(on bool) *Stream {
	c := s.clone()
	c.cfg.elastic = on
	return c
}

// Pad returns the stream with the remainder policy of the split: on, every
// consumer gets ceil(N/C) examples, the missing ones repeating the start of
// the epoch's sequence; off (the default), every consumer gets floor(N/C)
// and the last N mod C examples of the sequence are dropped.
func (s *Stream) Pad(on bool) *Stream {
	c := s.clone()
	c.cfg.pad = on
	return c
}

// Skip returns the stream without the first n rows (after ops) of each
// epoch of this consumer.
func (s *Stream) Skip(n int64) *Stream {
	c := s.clone()
	c.cfg.skip = max(n, 0)
	return c
}

// Take returns the stream limited to n rows (after ops and Skip) per epoch
// of this consumer.
func (s *Stream) Take(n int64) *Stream {
	c := s.clone()
	c.cfg.take = max(n, 0)
	return c
}

// Batch returns the stream yielding batches of exactly n rows; the last
// batch of an epoch is shorter, or dropped when dropLast is set. Without
// Batch, yielded batches have at most the chunk size (WithChunkRows) rows.
func (s *Stream) Batch(n int, dropLast bool) *Stream {
	c := s.clone()
	c.cfg.batch, c.cfg.dropLast = int64(max(n, 0)), dropLast
	return c
}

// SetEpoch sets the epoch; unless it is the current one, the stream moves
// to the start of that epoch. The shard order and shuffle depend on it.
func (s *Stream) SetEpoch(epoch int64) {
	if epoch != s.pos.epoch {
		s.pos = position{epoch: epoch}
	}
}

func (s *Stream) consumer() (int64, int64) {
	return int64(s.cfg.rank*s.cfg.workers + s.cfg.worker), int64(s.cfg.world * s.cfg.workers)
}

func (s *Stream) plan(base int64) *plan {
	c, total := s.consumer()
	return newPlan(s.rows, s.cfg.shuffle, s.cfg.seed, s.cfg.window, s.pos.epoch,
		c, total, s.cfg.elastic, s.cfg.pad, base)
}

// fingerprint identifies what determines the global sequence and the ops:
// the shards, the shuffle, the remainder policy and the op names. The
// consumer numbering is left out in elastic mode, where it may change.
func (s *Stream) fingerprint() string {
	h := sha256.New()
	for _, sh := range s.src.Shards() {
		fmt.Fprintf(h, "shard %q %d %d %d\n", sh.Path, sh.RowGroup, sh.Batch, sh.Rows)
	}
	fmt.Fprintf(h, "shuffle %v %d %d\npad %v elastic %v\n", s.cfg.shuffle, s.cfg.seed, s.cfg.window, s.cfg.pad, s.cfg.elastic)
	if !s.cfg.elastic {
		c, total := s.consumer()
		fmt.Fprintf(h, "consumer %d of %d\n", c, total)
	}
	for _, op := range s.cfg.ops {
		desc, _ := op.Describe()
		fmt.Fprintf(h, "op %s\n", desc)
	}
	fmt.Fprintf(h, "skip %d take %d batch %d %v\n", s.cfg.skip, s.cfg.take, s.cfg.batch, s.cfg.dropLast)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// chunk is a gathered, op-applied run of local indices [start, start+n).
type chunk struct {
	start, n int64
	rec      arrow.RecordBatch // rows after ops; nil when ops dropped all
	err      error
}

// task is one chunk to gather and transform on a worker.
type task struct {
	start, n int64
	from     arrow.RecordBatch   // retained; all its rows, when parts is nil
	parts    []arrow.RecordBatch // retained; the batches offs index
	offs     []int64             // rows of the concatenated parts, in order
	out      chan chunk          // buffered; receives the result
}

// produce reads chunks from local index from and hands them to a pool of
// workers that gather rows and apply ops; out receives, in order, one
// result channel per chunk. It returns when the epoch ends or ctx is done,
// after every result channel sent has its result.
func (s *Stream) produce(ctx context.Context, p *plan, from int64, out chan<- chan chunk) {
	tasks := make(chan *task)
	var wg sync.WaitGroup
	for range s.cfg.pool {
		wg.Go(func() {
			for t := range tasks {
				t.out <- s.work(ctx, t)
			}
		})
	}
	defer func() {
		close(tasks)
		wg.Wait()
		close(out)
	}()
	cur := newCursor(ctx, s.src, p, s.cfg.mem)
	defer cur.close()
	fail := func(err error) {
		rc := make(chan chunk, 1)
		rc <- chunk{err: err}
		select {
		case out <- rc:
		case <-ctx.Done():
		}
	}
	fast := p.window == 0 && p.stride() == 1
	span := s.cfg.chunk // rows of the global sequence one chunk covers
	for i := from; i < p.count; {
		if ctx.Err() != nil {
			return
		}
		g := p.global(i)
		n := p.count - i
		if g < p.rows { // do not cross the point where padding wraps
			n = min(n, (p.rows-1-g)/p.stride()+1)
		}
		t := &task{start: i, out: make(chan chunk, 1)}
		var err error
		switch {
		case fast:
			sRow := p.source(g)
			n = min(n, s.cfg.chunk)
			if err = cur.prepare(sRow, sRow); err == nil {
				var b arrow.RecordBatch
				var off, avail int64
				if b, off, avail, err = cur.run(sRow); err == nil {
					n = min(n, avail)
					t.from = b.NewSlice(off, off+n)
				}
			}
		case p.window > 0:
			// One window at a time: its rows are gathered from one
			// batch, or from one concatenation reused by its chunks.
			n = min(n, max(1, span/p.stride()))
			w, offs := p.windowRun(i, n)
			n = int64(len(offs))
			ws := w * p.window
			t.parts, t.offs, err = cur.gatherWindow(ws, min(ws+p.window, p.rows), offs)
		default:
			n = min(n, max(1, span/p.stride()))
			idx := make([]int64, n)
			for j := range n {
				idx[j] = p.source(p.global(i + j))
			}
			t.parts, t.offs, err = cur.gather(idx)
		}
		if err != nil {
			fail(err)
			return
		}
		t.n = n
		if i+n < p.count {
			cur.dropBefore(p.lowWater(p.global(i + n)))
		}
		select {
		case out <- t.out:
		case <-ctx.Done():
			t.release()
			return
		}
		select {
		case tasks <- t:
		case <-ctx.Done():
			t.release()
			t.out <- chunk{err: ctx.Err()}
			return
		}
		i += n
	}
}

// release releases the batches a task holds.
func (t *task) release() {
	if t.from != nil {
		t.from.Release()
		t.from = nil
	}
	for _, p := range t.parts {
		p.Release()
	}
	t.parts = nil
}

// work gathers a task's rows and applies the ops.
func (s *Stream) work(ctx context.Context, t *task) chunk {
	rec := t.from
	if t.parts != nil {
		var err error
		rec, err = gatherParts(ctx, t.parts, t.offs, s.cfg.mem)
		t.release()
		if err != nil {
			return chunk{err: err}
		}
	}
	rec, err := s.applyOps(ctx, rec, t.start)
	if err != nil {
		return chunk{err: fmt.Errorf("streaming: op on examples from %d: %w", t.start, err)}
	}
	return chunk{start: t.start, n: t.n, rec: rec}
}

// applyOps runs the ops on rec, which it releases; first is the index of
// the chunk's first example.
func (s *Stream) applyOps(ctx context.Context, rec arrow.RecordBatch, first int64) (arrow.RecordBatch, error) {
	for _, op := range s.cfg.ops {
		out, err := op.Apply(ctx, s.cfg.mem, rec, first)
		rec.Release()
		if err != nil {
			return nil, err
		}
		rec = out
	}
	return rec, nil
}

// pending is a chunk some of whose rows are not yet delivered.
type pending struct {
	start, n int64 // local indices
	first    int64 // post-op index of its first row
	m        int64 // rows after ops
}

// Batches yields the rest of the current epoch from the stream's position,
// prefetching on a background goroutine. Each yielded batch is borrowed
// until the next step. The position advances as batches are yielded, so
// State taken in the loop body covers the batch just received, and calling
// Batches again after a break continues where the consumer stopped. At the
// end of an epoch it yields nothing until SetEpoch moves to another one.
// After an error, iteration stops; the position stays at the last batch
// delivered.
func (s *Stream) Batches(ctx context.Context) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		if s.pos.done || s.takeDone(s.pos.delivered) {
			return
		}
		p := s.plan(s.pos.base)
		if s.pos.local >= p.count {
			s.pos.done = true
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		ch := make(chan chan chunk, s.cfg.prefetch)
		var wg sync.WaitGroup
		start := s.pos.local
		wg.Go(func() { s.produce(ctx, p, start, ch) })
		defer func() {
			cancel()
			for rc := range ch {
				if c := <-rc; c.rec != nil {
					c.rec.Release()
				}
			}
			wg.Wait()
		}()
		d := deliverer{s: s, yield: yield, k: s.pos.delivered, kIn: s.pos.delivered - s.pos.skip, next: s.pos.local}
		defer d.release()
		for rc := range ch {
			c := <-rc
			if c.err != nil {
				yield(nil, c.err)
				return
			}
			if !d.add(c) {
				break
			}
		}
		if d.halt {
			return
		}
		if !s.takeDone(d.k) {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
		}
		d.finish()
	}
}

func (s *Stream) takeDone(k int64) bool {
	return s.cfg.take >= 0 && k >= s.cfg.skip+s.cfg.take
}

// deliverer turns chunks into yielded batches, applying Skip, Take and
// Batch, and keeps the stream's position equal to what was delivered.
type deliverer struct {
	s     *Stream
	yield func(arrow.RecordBatch, error) bool
	k     int64 // post-op index of the next row to deliver
	kIn   int64 // post-op index of the next row to arrive
	next  int64 // local index after the last chunk arrived
	queue []pending
	out   []arrow.RecordBatch // rows waiting for a full Batch
	outN  int64
	halt  bool // the consumer stopped or an error was yielded
}

func (d *deliverer) release() {
	for _, r := range d.out {
		r.Release()
	}
	d.out, d.outN = nil, 0
}

// add takes one chunk; it returns false when iteration must stop, with
// halt set if the consumer stopped or failed (rather than Take being met).
func (d *deliverer) add(c chunk) bool {
	var m int64
	if c.rec != nil {
		m = c.rec.NumRows()
		defer c.rec.Release()
	}
	first := d.kIn
	d.kIn += m
	d.next = c.start + c.n
	d.queue = append(d.queue, pending{start: c.start, n: c.n, first: first, m: m})
	cfg := &d.s.cfg
	end, limit := first+m, int64(1<<62)
	if cfg.take >= 0 {
		limit = cfg.skip + cfg.take
	}
	// Post-op rows [a, b) of this chunk go to the consumer: rows before
	// d.k were delivered before a resume, rows before cfg.skip are skipped.
	a, b := max(first, d.k, cfg.skip), min(end, limit)
	if a >= b {
		if d.outN == 0 {
			d.k = max(d.k, min(end, cfg.skip))
		}
		d.settle()
		return !d.s.takeDone(d.k)
	}
	if d.outN == 0 {
		d.k = a
	}
	d.settle()
	if cfg.batch == 0 {
		part := c.rec.NewSlice(a-first, b-first)
		d.k = b
		if !d.emit(part) {
			return false
		}
		return !d.s.takeDone(d.k)
	}
	for a < b {
		n := min(b-a, cfg.batch-d.outN)
		d.out = append(d.out, c.rec.NewSlice(a-first, a-first+n))
		d.outN += n
		a += n
		if d.outN == cfg.batch {
			rec, err := concatRecs(d.out, cfg.mem)
			d.release()
			if err != nil {
				d.halt = true
				d.yield(nil, err)
				return false
			}
			d.k = a
			if !d.emit(rec) {
				return false
			}
		}
	}
	return b < limit
}

// finish delivers what is left at the end of the epoch (or when Take is
// met) and marks the epoch done.
func (d *deliverer) finish() {
	if d.outN > 0 && !d.s.cfg.dropLast {
		rec, err := concatRecs(d.out, d.s.cfg.mem)
		d.release()
		if err != nil {
			d.yield(nil, err)
			return
		}
		d.k += rec.NumRows()
		if !d.emit(rec) {
			return
		}
	}
	d.release()
	d.s.pos.done = true
	d.s.pos.local, d.s.pos.skip = d.next, 0
	d.s.pos.delivered = max(d.kIn, d.k)
}

// emit records the position after rec and yields it.
func (d *deliverer) emit(rec arrow.RecordBatch) bool {
	d.settle()
	defer rec.Release()
	if !d.yield(rec, nil) {
		d.halt = true
		return false
	}
	return true
}

// settle sets the stream position to post-op row d.k: the first chunk not
// wholly delivered and how far into it delivery went.
func (d *deliverer) settle() {
	for len(d.queue) > 0 && d.k >= d.queue[0].first+d.queue[0].m {
		d.queue = d.queue[1:]
	}
	pos := &d.s.pos
	pos.delivered = d.k
	if len(d.queue) == 0 {
		pos.local, pos.skip = d.next, 0
		return
	}
	q := d.queue[0]
	off := d.k - q.first
	if q.m == q.n { // row-preserving: post-op row j is example start+j
		pos.local, pos.skip = q.start+off, 0
	} else {
		pos.local, pos.skip = q.start, off
	}
}

// concatRecs concatenates batches into one new batch.
func concatRecs(recs []arrow.RecordBatch, mem memory.Allocator) (arrow.RecordBatch, error) {
	hs := make([]held, len(recs))
	for i, r := range recs {
		hs[i] = held{rec: r}
	}
	return concatBatches(hs, mem)
}
