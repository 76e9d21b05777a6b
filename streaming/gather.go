package streaming

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/internal/recycle"
	"github.com/quiverdata/quiver/ops"
)

// gatherParts returns a new batch holding rows offs of the concatenation of
// parts, in order: the shuffle's gather, whose parts are the batches that
// hold a chunk's window. parts share a schema; the caller keeps ownership
// of them and releases the result. The copy is ops.Gather's (typed
// per-column loops for scattered rows); with the default allocator its
// buffers are recycled.
func gatherParts(ctx context.Context, parts []arrow.RecordBatch, offs []int64, mem memory.Allocator) (arrow.RecordBatch, error) {
	rb, err := ops.Gather(ctx, recycle.For(mem), ops.NewChunks(parts[0].Schema(), parts), ops.Positions(offs))
	if err != nil {
		return nil, fmt.Errorf("streaming: gathering a shuffled chunk: %w", err)
	}
	return rb, nil
}
