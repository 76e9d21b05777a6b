package streaming

import (
	"context"
	"iter"

	"github.com/quiverdata/quiver/arrowio"
)

// Rows yields the stream's rows decoded into T (see arrowio.AppendRows for
// the struct tags and conversions). Rows own their memory. State taken in
// the loop body covers the whole batch the current row came from, so
// checkpoint between batches (Batch(n) sizes them) when exactness per row
// matters.
func Rows[T any](ctx context.Context, s *Stream) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var buf []T
		for b, err := range s.Batches(ctx) {
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			buf, err = arrowio.AppendRows(buf[:0], b)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, r := range buf {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}
