// Package streaming is Quiver's iterable dataset: it feeds training workers
// from datasets that are never materialized.
//
// A Stream reads shards on demand. A shard is a file, or a finer unit inside
// one (a Parquet row group), so work divides finely; every shard's row count
// is known before reading (from the Parquet footer, or by one counting scan
// for formats that do not record it). Nothing is written to disk.
//
// # The plan of one epoch
//
// For a given (seed, epoch) the stream defines one global sequence of
// examples, independent of the number of ranks and workers:
//
//  1. Shard order: the shards, permuted by (seed, epoch) when shuffling.
//  2. Window shuffle: the concatenated rows are cut into windows of
//     bufferSize rows and each window is permuted by (seed, epoch, window).
//     Memory is bounded by the window (plus read-ahead), and any position of
//     the sequence can be computed without replaying what came before, which
//     is what makes resume exact and instant.
//  3. Split: each consumer (rank × worker) gets the same number of
//     examples. Drop mode gives floor(N/consumers) and drops the tail of the
//     sequence; pad mode gives ceil(N/consumers) and repeats the sequence's
//     first examples. By default a consumer gets a contiguous run of the
//     sequence (it reads only its share of the data); in elastic mode
//     consumer c of C gets positions c, c+C, c+2C, ..., so the examples
//     consumed at each training step are a prefix of the global sequence and
//     a job may resume on a different number of machines.
//  4. Per-batch ops (package ops values: Map, Filter, Select, Cast, ...),
//     in the order given, then Skip, Take and Batch on the rows that
//     remain.
//
// # Throughput and memory
//
// One goroutine reads shards in order (Parquet column chunks with one range
// request each, Arrow IPC batches memory-mapped) while the next shard is
// opened and read ahead on another. The row groups of remote (hf://)
// Parquet files two shards further on are fetched in the background, in
// the epoch's order whether it is shuffled or split, and a rank never
// reads ahead the shards of the ranks after it. A Parquet file stays open
// while its row groups are read, so its footer is read once (at most four
// idle files are kept open; all are closed when iteration ends). A pool of WithWorkers
// goroutines gathers shuffled rows and runs the ops, several chunks at a
// time, and results are delivered in order, so the output never depends on
// timing. The gather copies each chunk's rows straight from the batches
// holding its window (ops.Gather: typed per-column loops for scattered
// rows). With the default allocator, decoded and gathered buffers are
// recycled through internal/recycle's size-class pools rather than left to
// the garbage collector.
//
// Memory is bounded by the options, not by the data: about one shuffle
// window, two source batches and WithPrefetch+WithWorkers chunks, plus up
// to 64 MiB of recycled buffers (internal/recycle). 36 GB of Arrow data
// streamed with a 10,000-row shuffle peaked at 136 MiB of RSS before the
// buffer pools; dsctl stream of an 890 MB Arrow file with a 10,000-row
// shuffle peaks at 146 MiB, of 1 GB of Parquet (56 row groups) at 368 MiB,
// of 4 GB of JSONL at 285 MiB.
//
// Interleave mixes several streams row by row with probabilities and a
// stopping rule, with its own checkpoints; with elastic inputs they resume
// on another number of ranks and workers, as a Stream's do.
//
// # Checkpoints
//
// State returns a small JSON-serializable value describing what the consumer
// has received (not what prefetching has read); Resume continues from it so
// that the rows before and after the checkpoint concatenate to an
// uninterrupted run. Ops must be row-wise (each output row depends only on
// its input row, filters keep or drop rows in order) for this to hold.
//
// # Ownership
//
// Batches yielded by Stream.Batches are borrowed: each is valid until the
// next iteration step; Retain keeps one longer. A Stream is not safe for
// concurrent use; give each goroutine its own (builder methods return
// copies).
package streaming
