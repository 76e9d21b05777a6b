package arrowio

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdata/quiver/internal/atomicfile"
	"github.com/spf13/afero"
)

// Writer writes record batches to one output. It is not safe for concurrent
// use. Batches passed to Write are not retained after it returns.
type Writer interface {
	// Schema returns the schema every written batch must have.
	Schema() *arrow.Schema
	// Write appends a batch. A batch whose schema differs from Schema is an
	// error wrapping ErrSchema.
	Write(batch arrow.RecordBatch) error
	// Close flushes the output and, for a file from Create, renames it into
	// place. After an error from Write, call Abort instead.
	Close() error
	// Abort discards the output: a file from Create never appears. It is a
	// no-op after Close, so `defer w.Abort()` is the idiom.
	Abort() error
}

// batchWriter is what each format implements over an io.Writer. Close
// flushes and finishes the format's framing but does not close the
// underlying writer.
type batchWriter interface {
	Write(batch arrow.RecordBatch) error
	Close() error
}

// Create writes a new file at path on fsys, in the format given by
// WithOutputFormat or else by the extension. The file appears at path only
// when Close succeeds; until then it is written under a temporary name in
// the same directory.
func Create(fsys afero.Fs, path string, schema *arrow.Schema, opts ...WriteOption) (Writer, error) {
	cfg, err := NewWriteConfig(opts...)
	if err != nil {
		return nil, err
	}
	if cfg.Format == FormatUnknown {
		if cfg.Format, cfg.Compression, err = DetectFormat(path); err != nil {
			return nil, err
		}
	}
	f, err := atomicfile.Create(fsys, path)
	if err != nil {
		return nil, err
	}
	bw, err := newFormatWriter(f, schema, cfg)
	if err != nil {
		_ = f.Abort()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &fileWriter{schema: schema, bw: bw, file: f}, nil
}

// NewWriter writes batches to w (for example os.Stdout) in the format given
// by WithOutputFormat, which is required. Close finishes the format's framing
// and flushes but does not close w; Abort stops writing.
func NewWriter(w io.Writer, schema *arrow.Schema, opts ...WriteOption) (Writer, error) {
	cfg, err := NewWriteConfig(opts...)
	if err != nil {
		return nil, err
	}
	if cfg.Format == FormatUnknown {
		return nil, fmt.Errorf("%w: NewWriter needs WithOutputFormat", ErrUnknownFormat)
	}
	bw, err := newFormatWriter(w, schema, cfg)
	if err != nil {
		return nil, err
	}
	return &fileWriter{schema: schema, bw: bw}, nil
}

func newFormatWriter(w io.Writer, schema *arrow.Schema, cfg WriteConfig) (batchWriter, error) {
	switch cfg.Format {
	case FormatParquet:
		return newParquetWriter(w, schema, cfg)
	case FormatJSONL:
		return newJSONLWriter(w, schema, cfg)
	case FormatArrowFile, FormatArrowStream:
		return newArrowWriter(w, schema, cfg)
	case FormatCSV:
		return newCSVWriter(w, schema, cfg)
	}
	return nil, fmt.Errorf("%w: %v", ErrUnknownFormat, cfg.Format)
}

type fileWriter struct {
	schema *arrow.Schema
	bw     batchWriter
	file   *atomicfile.File // nil for NewWriter
	failed bool
	closed bool
}

func (w *fileWriter) Schema() *arrow.Schema { return w.schema }

func (w *fileWriter) Write(batch arrow.RecordBatch) error {
	if w.closed {
		return errors.New("arrowio: write after close")
	}
	if !batch.Schema().Equal(w.schema) {
		w.failed = true
		return fmt.Errorf("%w: batch schema %s differs from writer schema %s", ErrSchema, batch.Schema(), w.schema)
	}
	if err := w.bw.Write(batch); err != nil {
		w.failed = true
		return err
	}
	return nil
}

func (w *fileWriter) Close() error {
	if w.closed {
		return nil
	}
	if w.failed {
		_ = w.Abort()
		return errors.New("arrowio: close after failed write; output discarded")
	}
	w.closed = true
	if err := w.bw.Close(); err != nil {
		if w.file != nil {
			_ = w.file.Abort()
		}
		return err
	}
	if w.file != nil {
		return w.file.Commit()
	}
	return nil
}

func (w *fileWriter) Abort() error {
	if w.closed {
		return nil
	}
	w.closed = true
	_ = w.bw.Close()
	if w.file != nil {
		return w.file.Abort()
	}
	return nil
}
