package streaming

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
)

// Shard is one unit of work: a file, or a part of one that can be read on
// its own.
type Shard struct {
	// Path names the file the shard comes from.
	Path string `json:"path"`
	// RowGroup is the Parquet row group the shard covers, or -1.
	RowGroup int `json:"row_group"`
	// Batch is the Arrow IPC file batch the shard covers, or -1.
	Batch int `json:"batch"`
	// Rows is the number of rows the shard holds; reading it must yield
	// exactly this many.
	Rows int64 `json:"rows"`
}

func (s Shard) String() string {
	switch {
	case s.RowGroup >= 0:
		return fmt.Sprintf("%s (row group %d)", s.Path, s.RowGroup)
	case s.Batch >= 0:
		return fmt.Sprintf("%s (batch %d)", s.Path, s.Batch)
	}
	return s.Path
}

// Source is the sharded input of a Stream. Open builds one over files;
// implement it to stream from anything else (a generator, a database).
//
// Read must yield exactly Shards()[i].Rows rows, with the same schema and
// in the same order on every call; the batches it yields are borrowed until
// the next step. Read may be called from a goroutine other than the one that
// built the Source, and for different shards concurrently.
type Source interface {
	// Schema is the schema of every batch Read yields.
	Schema() *arrow.Schema
	// Shards lists the units of work in their canonical order.
	Shards() []Shard
	// Read yields the rows of shard i.
	Read(ctx context.Context, i int) iter.Seq2[arrow.RecordBatch, error]
}

// Sentinel errors, testable with errors.Is.
var (
	// ErrState: a checkpoint does not fit this stream (another dataset,
	// seed, shuffle or split), or is malformed.
	ErrState = errors.New("checkpoint does not match the stream")
	// ErrShard: a shard yielded a different number of rows or a different
	// schema than announced.
	ErrShard = errors.New("shard does not match its description")
)

// holder is implemented by Sources that keep resources (open files)
// between reads; a cursor holds the source while it reads, and the source
// may free what it keeps once no cursor holds it.
type holder interface {
	hold()
	unhold()
}

// prefetcher is implemented by Sources that can fetch a shard ahead of its
// Read (row groups of remote Parquet files): a cursor names the shards it
// reads after the ones being read, in the epoch's order, shuffled or split
// as it is. Prefetch returns at once; the fetch runs in the background and
// its failures are left for the shard's Read to report.
type prefetcher interface {
	prefetch(i int)
}

// ShardError is an error while reading a shard; it names the shard.
type ShardError struct {
	Shard Shard
	Err   error
}

func (e *ShardError) Error() string { return e.Shard.String() + ": " + e.Err.Error() }
func (e *ShardError) Unwrap() error { return e.Err }

// batchSource is a Source over batches held in memory: shard i is
// shards[i]. It serves tests and small in-process datasets.
type batchSource struct {
	schema *arrow.Schema
	shards []Shard
	data   [][]arrow.RecordBatch
}

// FromBatches returns a Source whose shard i yields the batches shards[i],
// named "mem:i". The batches must share schema and stay valid (retained by
// the caller) while the Source is in use.
func FromBatches(schema *arrow.Schema, shards [][]arrow.RecordBatch) (Source, error) {
	src := &batchSource{schema: schema, data: shards}
	for i, bs := range shards {
		var n int64
		for _, b := range bs {
			if !b.Schema().Equal(schema) {
				return nil, fmt.Errorf("%w: shard %d: schema %s, want %s", ErrShard, i, b.Schema(), schema)
			}
			n += b.NumRows()
		}
		src.shards = append(src.shards, Shard{Path: fmt.Sprintf("mem:%d", i), RowGroup: -1, Batch: -1, Rows: n})
	}
	return src, nil
}

func (s *batchSource) Schema() *arrow.Schema { return s.schema }
func (s *batchSource) Shards() []Shard       { return s.shards }
func (s *batchSource) Read(ctx context.Context, i int) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		for _, b := range s.data[i] {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			if !yield(b, nil) {
				return
			}
		}
	}
}
