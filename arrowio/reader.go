package arrowio

import (
	"context"
	"fmt"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"
)

// Reader is an open input file. Schema and NumRows answer without scanning
// where the format allows. Batches may be called more than once; each call
// scans from the start. A Reader is not safe for concurrent use; the caller
// must call Close, after which batches it yielded and retained stay valid.
type Reader interface {
	// Path returns the path the reader was opened with.
	Path() string
	// Format returns the detected or forced format.
	Format() Format
	// Schema returns the output schema, after projection.
	Schema() *arrow.Schema
	// NumRows returns the number of rows when the format records it
	// (Parquet footer, Arrow IPC file footer); ok is false otherwise.
	NumRows() (n int64, ok bool)
	// Batches yields batches of at most the configured batch size. A
	// yielded batch is borrowed until the next step; Retain keeps it. After
	// an error, iteration stops.
	Batches(ctx context.Context) iter.Seq2[arrow.RecordBatch, error]
	// Close releases the file and any mapping. Batches retained by the
	// caller remain valid until released.
	Close() error
}

// SkipCounter is implemented by readers that can skip malformed input
// (JSON Lines and CSV in permissive mode).
type SkipCounter interface {
	// Skipped returns how many lines the last scan skipped.
	Skipped() int64
}

// Open opens path on fsys with the reader its format calls for. The format
// comes from WithFormat or else from the extension (see DetectFormat).
func Open(fsys afero.Fs, path string, opts ...ReadOption) (Reader, error) {
	cfg, err := NewReadConfig(opts...)
	if err != nil {
		return nil, err
	}
	format, comp := cfg.Format, cfg.Compression
	if format == FormatUnknown {
		if format, comp, err = DetectFormat(path); err != nil {
			return nil, err
		}
		cfg.Compression = comp
	}
	cfg.Format = format
	switch format {
	case FormatParquet:
		return openParquet(fsys, path, cfg)
	case FormatJSONL:
		return openJSONL(fsys, path, cfg)
	case FormatArrowFile, FormatArrowStream:
		return openArrow(fsys, path, cfg)
	case FormatCSV:
		return openCSV(fsys, path, cfg)
	}
	return nil, fmt.Errorf("%w: %s", ErrUnknownFormat, path)
}

// Count returns the number of rows in r, from metadata when the format
// records it and by a scan otherwise.
func Count(ctx context.Context, r Reader) (int64, error) {
	if n, ok := r.NumRows(); ok {
		return n, nil
	}
	var n int64
	for b, err := range r.Batches(ctx) {
		if err != nil {
			return n, err
		}
		n += b.NumRows()
	}
	return n, nil
}

// LayoutReader is implemented by readers whose format records its physical
// layout in metadata (Parquet row groups, Arrow IPC file batches).
type LayoutReader interface {
	// Layout describes the file from its footer, without reading data.
	Layout() Layout
}

// Layout is the physical layout of a file, as dsctl info shows it.
type Layout struct {
	// CreatedBy is the writer the file records (Parquet created_by).
	CreatedBy string `json:"created_by,omitempty"`
	// Codecs lists the distinct compression codecs used, sorted.
	Codecs []string `json:"codecs,omitempty"`
	// RowGroups lists Parquet row groups in file order.
	RowGroups []RowGroupLayout `json:"row_groups,omitempty"`
	// Batches is the number of record batches of an Arrow IPC file.
	Batches int `json:"batches,omitempty"`
}

// RowGroupLayout describes one Parquet row group.
type RowGroupLayout struct {
	Rows  int64 `json:"rows"`
	Bytes int64 `json:"bytes"` // compressed size of its column chunks
}
