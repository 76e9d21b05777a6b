package arrowio

import (
	"context"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
)

// Prefetch runs batches on its own goroutine, up to depth batches ahead of
// the consumer, so that reading and decoding overlap with whatever the
// consumer does with each batch (encoding, writing). depth <= 0 means 2.
//
// The batches it yields follow the usual contract: each is borrowed until the
// next step. Prefetch retains every batch it takes from batches while the
// source is still borrowing it, and releases it after the consumer's step,
// so memory is bounded by depth+2 batches. Stopping the iteration early, or
// cancelling ctx, stops the producer goroutine and releases what it holds.
func Prefetch(ctx context.Context, batches iter.Seq2[arrow.RecordBatch, error], depth int) iter.Seq2[arrow.RecordBatch, error] {
	if depth <= 0 {
		depth = 2
	}
	type item struct {
		b   arrow.RecordBatch
		err error
	}
	return func(yield func(arrow.RecordBatch, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		ch := make(chan item, depth)
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer close(ch)
			for b, err := range batches {
				if b != nil {
					b.Retain()
				}
				select {
				case ch <- item{b, err}:
				case <-ctx.Done():
					if b != nil {
						b.Release()
					}
					return
				}
				if err != nil {
					return
				}
			}
		}()
		defer func() {
			cancel()
			for it := range ch { // drain what the producer queued
				if it.b != nil {
					it.b.Release()
				}
			}
			<-done
		}()
		for it := range ch {
			more := yield(it.b, it.err)
			if it.b != nil {
				it.b.Release()
			}
			if !more || it.err != nil {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
		}
	}
}
