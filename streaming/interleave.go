package streaming

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quiverdata/quiver/ops"
)

// Stopping says when an Interleaved stream ends.
type Stopping uint8

const (
	// FirstExhausted ends the stream when any input runs out. The
	// default, as in Hugging Face.
	FirstExhausted Stopping = iota
	// AllExhausted restarts an input that runs out (oversampling it, in
	// the same order) until every input has run out at least once.
	AllExhausted
)

// Interleaved mixes several streams row by row: each row comes from input
// j with probability probs[j], drawn from (seed, epoch, row number), or
// round-robin without probabilities, so the mix is reproducible. Split
// inputs are mixed per consumer: each rank and worker mixes its own share,
// with the same draws, so all take the same number of rows from each input
// and stop together.
//
// With elastic inputs a checkpoint resumes on another number of consumers
// too, provided all took theirs at the same step (as for a Stream): each
// input continues from its recorded global position, the draws from the
// recorded row number, so no row is repeated or lost. That needs inputs
// whose yielded rows are their global sequence's rows one for one (no
// filtering op, no Skip, Take or Batch on the input); otherwise Resume
// refuses a checkpoint taken inside an input's batch by another number of
// consumers, with ErrState. It has the Batches/State/Resume/SetEpoch interface
// of Stream; SetEpoch also sets every input's epoch. It is not safe for
// concurrent use.
type Interleaved struct {
	inputs    []*Stream
	probs     []float64
	seed      uint64
	stop      Stopping
	batchRows int64
	mem       memory.Allocator
	pos       interleavePos
}

type interleavePos struct {
	epoch     int64
	rows      int64            // rows yielded this epoch
	inputs    []InterleaveFrom // where each input is
	exhausted []bool
	done      bool
}

// InterleaveFrom is where one input of an Interleaved stream is: its state
// before the batch being consumed, and how many rows of that batch were
// consumed.
type InterleaveFrom struct {
	State State `json:"state"`
	Rows  int64 `json:"rows"`
}

// InterleaveState is the checkpoint of an Interleaved stream.
type InterleaveState struct {
	Version     int              `json:"version"`
	Epoch       int64            `json:"epoch"`
	Rows        int64            `json:"rows"`
	Inputs      []InterleaveFrom `json:"inputs"`
	Exhausted   []bool           `json:"exhausted"`
	Done        bool             `json:"done,omitempty"`
	Fingerprint string           `json:"fingerprint"`
}

// Interleave returns a stream mixing inputs with the given probabilities
// (non-negative, not all zero; nil means round-robin), seed and stopping
// rule.
// The inputs must have equal schemas (use Cast, Select to align them);
// Interleave takes them over: do not iterate them yourself. Batches have
// batchRows rows (0: DefaultChunkRows), the last shorter.
func Interleave(inputs []*Stream, probs []float64, seed uint64, stop Stopping, batchRows int) (*Interleaved, error) {
	if len(inputs) == 0 {
		return nil, errors.New("streaming: Interleave needs at least one input")
	}
	if probs != nil && len(probs) != len(inputs) {
		return nil, fmt.Errorf("streaming: %d probabilities for %d inputs", len(probs), len(inputs))
	}
	var sum float64
	for _, p := range probs {
		if p < 0 || math.IsNaN(p) || math.IsInf(p, 0) {
			return nil, fmt.Errorf("streaming: probability %v is not a non-negative number", p)
		}
		sum += p
	}
	if probs != nil && sum == 0 {
		return nil, errors.New("streaming: probabilities are all zero")
	}
	for i, in := range inputs[1:] {
		if !in.Schema().Equal(inputs[0].Schema()) {
			return nil, fmt.Errorf("streaming: input %d has schema %s, input 0 has %s", i+1, in.Schema(), inputs[0].Schema())
		}
	}
	if batchRows <= 0 {
		batchRows = DefaultChunkRows
	}
	it := &Interleaved{inputs: inputs, seed: seed, stop: stop, batchRows: int64(batchRows), mem: inputs[0].cfg.mem}
	for _, p := range probs {
		it.probs = append(it.probs, p/sum)
	}
	it.SetEpoch(inputs[0].Epoch())
	it.reset(it.pos.epoch)
	return it, nil
}

func (it *Interleaved) reset(epoch int64) {
	it.pos = interleavePos{epoch: epoch, exhausted: make([]bool, len(it.inputs))}
	for _, in := range it.inputs {
		in.SetEpoch(epoch)
		in.pos = position{epoch: epoch}
		it.pos.inputs = append(it.pos.inputs, InterleaveFrom{State: in.State()})
	}
}

// Schema returns the schema of the batches yielded.
func (it *Interleaved) Schema() *arrow.Schema { return it.inputs[0].Schema() }

// SetEpoch sets the epoch of the mix and of every input; unless it is the
// current one, everything moves to the start of that epoch.
func (it *Interleaved) SetEpoch(epoch int64) {
	if it.pos.inputs == nil || epoch != it.pos.epoch {
		it.reset(epoch)
	}
}

func (it *Interleaved) fingerprint() string {
	h := sha256.New()
	fmt.Fprintf(h, "interleave %d %v %d %d\n", it.seed, it.probs, it.stop, it.batchRows)
	for _, in := range it.inputs {
		fmt.Fprintf(h, "input %s\n", in.fingerprint())
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// State returns the checkpoint of what the consumer has received.
//
// An elastic input's place is recorded as a position in its global
// sequence whenever its rows map one to one onto that sequence (see
// globalPlace), so that the checkpoint also resumes on another number of
// consumers.
func (it *Interleaved) State() InterleaveState {
	inputs := make([]InterleaveFrom, len(it.pos.inputs))
	for j, from := range it.pos.inputs {
		inputs[j] = it.inputs[j].globalPlace(from)
	}
	return InterleaveState{
		Version: StateVersion, Epoch: it.pos.epoch, Rows: it.pos.rows,
		Inputs: inputs, Exhausted: append([]bool(nil), it.pos.exhausted...),
		Done: it.pos.done, Fingerprint: it.fingerprint(),
	}
}

// globalPlace turns "from.Rows rows of the batch after from.State" into
// the state after those rows, with Rows zero, when s is elastic and its
// yielded rows are its global sequence's rows one for one: no op changes
// row counts and no Skip, Take or Batch re-cuts what it yields. The
// state's position then moves on by from.Rows steps of the consumers'
// stride. Otherwise from is returned as it is.
func (s *Stream) globalPlace(from InterleaveFrom) InterleaveFrom {
	if !s.cfg.elastic || from.Rows == 0 || from.State.Skip != 0 ||
		s.cfg.skip != 0 || s.cfg.take >= 0 || s.cfg.batch != 0 {
		return from
	}
	for _, op := range s.cfg.ops {
		if op.Kind() == ops.KindResize {
			return from
		}
	}
	_, total := s.consumer()
	from.State.Position += from.Rows * total
	from.State.Delivered += from.Rows
	from.Rows = 0
	return from
}

// Resume moves the stream to checkpoint st, taken from an Interleaved built
// the same way. The error wraps ErrState.
func (it *Interleaved) Resume(st InterleaveState) error {
	switch {
	case st.Version != StateVersion:
		return fmt.Errorf("%w: version %d, want %d", ErrState, st.Version, StateVersion)
	case st.Fingerprint != it.fingerprint():
		return fmt.Errorf("%w: taken from another interleave", ErrState)
	case len(st.Inputs) != len(it.inputs) || len(st.Exhausted) != len(it.inputs):
		return fmt.Errorf("%w: %d inputs recorded, %d here", ErrState, len(st.Inputs), len(it.inputs))
	}
	for i, in := range it.inputs {
		_, total := in.consumer()
		if from := st.Inputs[i]; from.Rows != 0 && from.State.Consumers != int(total) {
			return fmt.Errorf("%w: input %d was checkpointed inside a batch by %d consumers, this is one of %d "+
				"(its ops, Skip, Take or Batch change which rows it yields, so its place in the global sequence is unknown)",
				ErrState, i, from.State.Consumers, total)
		}
	}
	for i, in := range it.inputs {
		if err := in.Resume(st.Inputs[i].State); err != nil {
			return fmt.Errorf("input %d: %w", i, err)
		}
	}
	it.pos = interleavePos{epoch: st.Epoch, rows: st.Rows, done: st.Done,
		inputs: append([]InterleaveFrom(nil), st.Inputs...), exhausted: append([]bool(nil), st.Exhausted...)}
	return nil
}

// pick draws the input of row number r.
func (it *Interleaved) pick(r int64) int {
	if it.probs == nil {
		return int(r % int64(len(it.inputs)))
	}
	g := rng{state: mix(domainInterleave, it.seed, uint64(it.pos.epoch), uint64(r))}
	u := float64(g.next()>>11) / (1 << 53)
	last := 0
	for j, p := range it.probs {
		if p == 0 {
			continue
		}
		last = j
		if u < p {
			return j
		}
		u -= p
	}
	return last
}

// restart moves input j back to the start of the epoch (AllExhausted).
func (it *Interleaved) restart(ctx context.Context, j int, f *feed) {
	in := it.inputs[j]
	in.pos = position{epoch: it.pos.epoch}
	if f.cur != nil {
		f.cur.Release()
		f.cur = nil
	}
	f.stop()
	f.next, f.stop = iter.Pull2(in.Batches(ctx))
	it.pos.inputs[j] = InterleaveFrom{State: in.State()}
}

// feed is an input being consumed.
type feed struct {
	next func() (arrow.RecordBatch, error, bool)
	stop func()
	cur  arrow.RecordBatch // retained; nil when none
	off  int64
}

// Batches yields the rest of the current epoch of the mix. Each yielded
// batch is borrowed until the next step.
func (it *Interleaved) Batches(ctx context.Context) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		if it.pos.done {
			return
		}
		feeds := make([]*feed, len(it.inputs))
		defer func() {
			for _, f := range feeds {
				if f == nil {
					continue
				}
				if f.cur != nil {
					f.cur.Release()
				}
				f.stop()
			}
		}()
		// Reopen each input at its recorded batch and skip what was used.
		for j, in := range it.inputs {
			if err := in.Resume(it.pos.inputs[j].State); err != nil {
				yield(nil, err)
				return
			}
			f := &feed{}
			f.next, f.stop = iter.Pull2(in.Batches(ctx))
			feeds[j] = f
			if skip := it.pos.inputs[j].Rows; skip > 0 {
				ok, err := it.advance(j, f)
				if err != nil {
					yield(nil, err)
					return
				}
				if !ok || f.cur.NumRows() < skip {
					yield(nil, fmt.Errorf("%w: input %d is shorter than its checkpoint", ErrState, j))
					return
				}
				f.off = skip
				it.pos.inputs[j].Rows = skip
			}
		}
		for !it.pos.done {
			saved := it.pos
			saved.inputs = append([]InterleaveFrom(nil), it.pos.inputs...)
			saved.exhausted = append([]bool(nil), it.pos.exhausted...)
			rec, err := it.assemble(ctx, feeds)
			if err != nil {
				it.pos = saved // the position stays at what was delivered
				yield(nil, err)
				return
			}
			if rec == nil {
				return
			}
			ok := yield(rec, nil)
			rec.Release()
			if !ok {
				return
			}
		}
	}
}

// advance pulls input j's next batch, recording the input's state before
// it; false at the input's end.
func (it *Interleaved) advance(j int, f *feed) (bool, error) {
	if f.cur != nil {
		f.cur.Release()
		f.cur = nil
	}
	before := it.inputs[j].State()
	b, err, ok := f.next()
	if !ok {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("input %d: %w", j, err)
	}
	b.Retain()
	f.cur, f.off = b, 0
	it.pos.inputs[j] = InterleaveFrom{State: before}
	return true, nil
}

// assemble builds the next output batch, or nil at the end, and moves the
// position past it.
func (it *Interleaved) assemble(ctx context.Context, feeds []*feed) (arrow.RecordBatch, error) {
	// Rows taken from input j are consecutive in it: segs[j] collects them
	// as slices, segStart[j] is where the open slice begins in feeds[j].cur.
	segs := make([][]arrow.RecordBatch, len(feeds))
	segStart := make([]int64, len(feeds))
	for j, f := range feeds {
		segStart[j] = f.off
	}
	defer func() {
		for _, ss := range segs {
			for _, s := range ss {
				s.Release()
			}
		}
	}()
	closeSeg := func(j int) {
		f := feeds[j]
		if f.cur != nil && f.off > segStart[j] {
			segs[j] = append(segs[j], f.cur.NewSlice(segStart[j], f.off))
		}
	}
	choice := make([]int32, 0, it.batchRows)
	stopped := false
	for int64(len(choice)) < it.batchRows && !stopped {
		j := it.pick(it.pos.rows)
		f := feeds[j]
		if f.cur == nil || f.off >= f.cur.NumRows() {
			closeSeg(j)
			ok, err := it.advance(j, f)
			if err != nil {
				return nil, err
			}
			if !ok {
				it.pos.exhausted[j] = true
				if it.stop == FirstExhausted || !slices.Contains(it.pos.exhausted, false) {
					stopped = true
					break
				}
				// Oversample: read input j again from its start.
				it.restart(ctx, j, f)
				if ok, err = it.advance(j, f); err != nil {
					return nil, err
				}
				if !ok { // an empty input cannot be oversampled
					stopped = true
					break
				}
			}
			segStart[j] = 0
		}
		choice = append(choice, int32(j))
		f.off++
		it.pos.inputs[j].Rows = f.off
		it.pos.rows++
	}
	for j := range feeds {
		closeSeg(j)
	}
	if stopped {
		it.pos.done = true
	}
	if len(choice) == 0 {
		it.pos.done = true
		return nil, nil
	}
	// Concatenate input 0's rows, then input 1's, ..., and gather them
	// into the drawn order.
	var all []held
	base := make([]int64, len(feeds))
	var n int64
	for j, ss := range segs {
		base[j] = n
		for _, s := range ss {
			all = append(all, held{start: n, rec: s})
			n += s.NumRows()
		}
	}
	cat, err := concatBatches(all, it.mem)
	if err != nil {
		return nil, err
	}
	defer cat.Release()
	b := array.NewInt64Builder(it.mem)
	defer b.Release()
	b.Reserve(len(choice))
	for _, j := range choice {
		b.UnsafeAppend(base[j])
		base[j]++
	}
	ind := b.NewArray()
	defer ind.Release()
	return takeBatch(context.Background(), cat, ind, it.mem)
}
