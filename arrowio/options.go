package arrowio

import (
	"fmt"
	"runtime"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// DefaultBatchSize is the number of rows per batch readers yield unless
// WithBatchSize says otherwise.
const DefaultBatchSize = 64 * 1024

// MixedTypes says what JSON Lines and CSV schema inference does when one
// field holds values of kinds that do not unify (a string and a number, an
// object and a list, ...).
type MixedTypes uint8

const (
	// MixedAsString makes the field a string column; non-string values are
	// kept as their JSON text. The default.
	MixedAsString MixedTypes = iota
	// MixedError fails inference with an error wrapping ErrSchema that
	// names the field and the two kinds.
	MixedError
)

// ReadConfig holds the settings of a reader. Build it with ReadOption values;
// the zero value of each field means "the default" given in its comment.
type ReadConfig struct {
	// Format forces a format instead of detecting it from the extension.
	Format Format
	// Compression forces a whole-file compression for text formats. Only
	// consulted when Format is set.
	Compression Compression
	// Columns projects the output to these top-level columns, in this
	// order. Default: all columns. Unknown names are an ErrSchema error.
	Columns []string
	// BatchSize caps the rows per yielded batch. Default DefaultBatchSize.
	BatchSize int
	// Allocator allocates batch memory. Default memory.DefaultAllocator.
	Allocator memory.Allocator
	// Workers bounds the goroutines a reader decodes with. Default
	// GOMAXPROCS.
	Workers int

	// RowGroups restricts a Parquet read to these row groups. Default all.
	RowGroups []int

	// Schema is the schema of JSON Lines or CSV input; fields absent from a
	// line are null. Default: inferred from the first InferRows lines.
	Schema *arrow.Schema
	// InferRows is how many lines schema inference samples. Default 1000;
	// a negative value samples the whole file.
	InferRows int
	// Mixed chooses what inference does with fields of mixed kinds.
	// Default MixedAsString.
	Mixed MixedTypes
	// Permissive skips malformed JSON Lines or CSV lines instead of failing;
	// readers count what they skipped. Default false.
	Permissive bool

	// NoMmap disables memory-mapping Arrow IPC files even where possible.
	// Default false.
	NoMmap bool

	// PrebufferBytes bounds, per open Parquet file that is neither on the
	// local disk nor in memory (a hubfs file, say), the bytes of column
	// chunks fetched ahead of decoding: a row group's chunks are fetched
	// with as few reads as possible, and the next row group's while the
	// current one decodes, as long as they fit. Default DefaultPrebuffer
	// (64 MiB); negative disables prebuffering (one read per chunk).
	PrebufferBytes int64
}

// ReadOption configures a reader.
type ReadOption func(*ReadConfig)

// NewReadConfig applies opts over the defaults and validates the result.
func NewReadConfig(opts ...ReadOption) (ReadConfig, error) {
	var c ReadConfig
	for _, o := range opts {
		o(&c)
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Allocator == nil {
		c.Allocator = memory.DefaultAllocator
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.InferRows == 0 {
		c.InferRows = 1000
	}
	switch {
	case c.BatchSize < 0:
		return c, fmt.Errorf("arrowio: batch size %d is negative", c.BatchSize)
	case c.Workers < 0:
		return c, fmt.Errorf("arrowio: workers %d is negative", c.Workers)
	}
	return c, nil
}

// WithConfig replaces the whole configuration with c (later options still
// apply on top).
func WithConfig(c ReadConfig) ReadOption { return func(dst *ReadConfig) { *dst = c } }

// WithFormat forces the input format (and, for text formats, compression)
// instead of detecting it from the file name.
func WithFormat(f Format, c Compression) ReadOption {
	return func(rc *ReadConfig) { rc.Format, rc.Compression = f, c }
}

// WithColumns projects the output to the named top-level columns.
func WithColumns(names ...string) ReadOption {
	return func(c *ReadConfig) { c.Columns = names }
}

// WithBatchSize caps the rows per batch (default DefaultBatchSize).
func WithBatchSize(n int) ReadOption { return func(c *ReadConfig) { c.BatchSize = n } }

// WithAllocator sets the allocator for batch memory.
func WithAllocator(mem memory.Allocator) ReadOption {
	return func(c *ReadConfig) { c.Allocator = mem }
}

// WithWorkers bounds decode parallelism (default GOMAXPROCS).
func WithWorkers(n int) ReadOption { return func(c *ReadConfig) { c.Workers = n } }

// WithRowGroups restricts a Parquet read to the given row groups.
func WithRowGroups(groups ...int) ReadOption {
	return func(c *ReadConfig) { c.RowGroups = groups }
}

// WithSchema gives JSON Lines or CSV input an explicit schema instead of
// inferring one.
func WithSchema(s *arrow.Schema) ReadOption { return func(c *ReadConfig) { c.Schema = s } }

// WithInferRows sets how many lines inference samples (default 1000, negative
// for all).
func WithInferRows(n int) ReadOption { return func(c *ReadConfig) { c.InferRows = n } }

// WithMixedTypes sets the policy for fields of mixed kinds (default
// MixedAsString).
func WithMixedTypes(m MixedTypes) ReadOption { return func(c *ReadConfig) { c.Mixed = m } }

// WithPermissive skips and counts malformed text lines instead of failing.
func WithPermissive(on bool) ReadOption { return func(c *ReadConfig) { c.Permissive = on } }

// WithNoMmap disables memory-mapping of Arrow IPC files.
func WithNoMmap(on bool) ReadOption { return func(c *ReadConfig) { c.NoMmap = on } }

// WithPrebuffer bounds the memory of Parquet prebuffering on remote files
// (ReadConfig.PrebufferBytes; default DefaultPrebuffer, negative disables).
func WithPrebuffer(n int64) ReadOption { return func(c *ReadConfig) { c.PrebufferBytes = n } }

// WriteConfig holds the settings of a writer. The zero value of each field
// means the default given in its comment.
type WriteConfig struct {
	// Format forces the output format instead of detecting it from the
	// extension.
	Format Format
	// Compression, for JSON Lines and CSV, forces whole-file compression
	// (default: from the extension, .gz or .zst).
	Compression Compression
	// Codec is the Parquet or Arrow IPC codec: for Parquet "zstd"
	// (default), "snappy", "gzip", "brotli", "lz4" (LZ4_RAW) or "none";
	// for Arrow IPC "none" (default), "lz4" or "zstd".
	Codec string
	// Level is the codec level; 0 means the codec's default (zstd 3 for
	// Parquet).
	Level int
	// RowGroupSize is the maximum rows per Parquet row group. Default
	// 1<<20.
	RowGroupSize int64
	// Allocator allocates scratch memory. Default memory.DefaultAllocator.
	Allocator memory.Allocator
}

// WriteOption configures a writer.
type WriteOption func(*WriteConfig)

// NewWriteConfig applies opts over the defaults.
func NewWriteConfig(opts ...WriteOption) (WriteConfig, error) {
	var c WriteConfig
	for _, o := range opts {
		o(&c)
	}
	if c.RowGroupSize == 0 {
		c.RowGroupSize = 1 << 20
	}
	if c.Allocator == nil {
		c.Allocator = memory.DefaultAllocator
	}
	if c.RowGroupSize < 0 {
		return c, fmt.Errorf("arrowio: row group size %d is negative", c.RowGroupSize)
	}
	if c.Level < 0 && c.Codec != "zstd" {
		return c, fmt.Errorf("arrowio: compression level %d is negative", c.Level)
	}
	return c, nil
}

// WithOutputFormat forces the output format (and compression, for text).
func WithOutputFormat(f Format, c Compression) WriteOption {
	return func(wc *WriteConfig) { wc.Format, wc.Compression = f, c }
}

// WithCodec sets the Parquet or Arrow IPC codec and level (0 = default).
func WithCodec(codec string, level int) WriteOption {
	return func(c *WriteConfig) { c.Codec, c.Level = codec, level }
}

// WithRowGroupSize sets the maximum rows per Parquet row group.
func WithRowGroupSize(rows int64) WriteOption {
	return func(c *WriteConfig) { c.RowGroupSize = rows }
}

// WithWriteAllocator sets the writer's allocator.
func WithWriteAllocator(mem memory.Allocator) WriteOption {
	return func(c *WriteConfig) { c.Allocator = mem }
}
