package dataset

import (
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/ops"
)

// Materialized cache entries (a map's or filter's output, a flattened
// shuffle) are written in batches of one row count, a power of two: a
// later shuffle of them finds a row's batch with a shift instead of a
// search (see ops.Chunks), and a filter's small survivors become fewer,
// larger batches. A rebatcher recuts the windows the pipeline yields.
// (Loading a source keeps its reader's batches: recutting them cost a
// copy of the data and doubled the conversion's RSS.)

// cacheBatchBytes is about the Arrow bytes of one cache batch (a variable
// for tests).
var cacheBatchBytes int64 = 32 << 20

// cacheBatchRows returns the rows per cache batch for data like b: a power
// of two between 1024 and writeBatchRows holding about cacheBatchBytes.
func cacheBatchRows(b arrow.RecordBatch) int64 {
	per := int64(1)
	if n := b.NumRows(); n > 0 {
		per = max(1, arrowio.BatchBytes(b)/n)
	}
	rows := min(int64(writeBatchRows), max(1024, cacheBatchBytes/per))
	return 1 << (bits.Len64(uint64(rows)) - 1) // round down to a power of two
}

// rebatcher cuts a sequence of batches into batches of exactly rows rows
// (the last of the sequence may be shorter) and hands each to emit, which
// borrows it. rows is set from the first non-empty batch by cacheBatchRows
// when zero. Call release when done.
type rebatcher struct {
	mem  memory.Allocator
	rows int64
	emit func(arrow.RecordBatch) error

	held []arrow.RecordBatch // rows not yet emitted, in order; owned
	n    int64               // rows in held
}

// add takes b (borrowed) and emits every full batch it completes.
func (r *rebatcher) add(b arrow.RecordBatch) error {
	if b.NumRows() == 0 {
		return nil
	}
	if r.rows == 0 {
		r.rows = cacheBatchRows(b)
	}
	b.Retain()
	r.held = append(r.held, b)
	r.n += b.NumRows()
	for r.n >= r.rows {
		if err := r.cut(r.rows); err != nil {
			return err
		}
	}
	return nil
}

// flush emits the rows still held, as one batch.
func (r *rebatcher) flush() error {
	if r.n == 0 {
		return nil
	}
	return r.cut(r.n)
}

// cut emits the first k held rows as one batch: a held batch as it is, a
// slice of one, or the concatenation of several.
func (r *rebatcher) cut(k int64) error {
	var parts []arrow.RecordBatch // owned
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	for left := k; left > 0; {
		b := r.held[0]
		if b.NumRows() <= left {
			parts = append(parts, b)
			r.held = r.held[1:]
			left -= b.NumRows()
			continue
		}
		parts = append(parts, b.NewSlice(0, left))
		r.held[0] = b.NewSlice(left, b.NumRows())
		b.Release()
		left = 0
	}
	r.n -= k
	out, err := ops.ConcatBatches(r.mem, parts[0].Schema(), parts)
	if err != nil {
		return err
	}
	defer out.Release()
	return r.emit(out)
}

// release drops the rows still held.
func (r *rebatcher) release() {
	for _, b := range r.held {
		b.Release()
	}
	r.held, r.n = nil, 0
}
