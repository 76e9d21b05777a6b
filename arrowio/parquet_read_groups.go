package arrowio

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
)

// ReadRowGroups yields row groups groups of the open file, in the order
// given, as Batches does (same columns, batch size and error contract),
// whatever row groups the reader was opened with. It lets a caller read
// the file's row groups one at a time without reopening the file and
// re-reading its footer, which over a network costs requests.
//
// A group out of range fails with a *PosError wrapping ErrSchema before any
// batch is yielded. Unlike the other methods, ReadRowGroups may run on
// several goroutines at once on one reader (for instance to read the next
// row group ahead while the current one is consumed); Close must wait until
// every iteration has ended. Yielded batches are borrowed until the next
// step, as with Batches.
func (r *ParquetReader) ReadRowGroups(ctx context.Context, groups []int) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		if r.f == nil {
			yield(nil, NewPosError(r.path, errors.New("arrowio: reader is closed")))
			return
		}
		n := r.pf.NumRowGroups()
		for _, g := range groups {
			if g < 0 || g >= n {
				yield(nil, &PosError{Path: r.path, RowGroup: g, Batch: -1,
					Err: fmt.Errorf("%w: row group %d out of range (file has %d)", ErrSchema, g, n)})
				return
			}
		}
		r.readGroups(ctx, groups, yield)
	}
}

// Prefetch prepares row group g of a remote file in the background: its
// column chunks are fetched (with one streamed request where the file
// allows, else into memory) into new column readers, so that a later
// ReadRowGroups of g starts decoding at once. A caller that knows which
// group it reads next (a stream's next shard) calls it while reading the
// current one. It does nothing on files on the local disk or in memory,
// when g is out of range, already prepared or being read, or when the
// chunks do not fit in ReadConfig.PrebufferBytes with what is already
// held. At most four groups are held prepared (the oldest is dropped);
// Close drops them. Prefetch is safe for concurrent use with
// ReadRowGroups; like it, it must not run concurrently with Close.
func (r *ParquetReader) Prefetch(g int) {
	if r.f == nil || g < 0 || g >= r.pf.NumRowGroups() {
		return
	}
	r.prefetch(g)
}
