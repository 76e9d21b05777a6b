package arrowio

import (
	"bufio"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// ipcMinSpaceSavings is the fraction a compressed IPC buffer must save to be
// stored compressed. Buffers that compress worse stay raw, so a mapped reader
// can still alias them instead of decompressing.
const ipcMinSpaceSavings = 0.2

// ipcWriter writes the Arrow IPC file format (FormatArrowFile) or stream
// format (FormatArrowStream) over an io.Writer.
type ipcWriter struct {
	buf    *bufio.Writer
	write  func(arrow.RecordBatch) error
	close  func() error
	closed bool
}

// newArrowWriter returns a writer of the Arrow IPC file or stream format, as
// cfg.Format says. cfg.Codec selects buffer compression: "" or "none"
// (default; required for zero-copy mapped reads), "lz4" (LZ4 frame) or
// "zstd". cfg.Level is ignored: arrow-go offers no IPC codec level. Buffers
// that compress by less than 20% are stored raw. Dictionary-typed columns are
// written as they are.
func newArrowWriter(w io.Writer, schema *arrow.Schema, cfg WriteConfig) (batchWriter, error) {
	// arrow-go issues one Write per buffer and per padding run; batch them.
	buf := bufio.NewWriterSize(w, 1<<20)
	opts := []ipc.Option{ipc.WithSchema(schema), ipc.WithAllocator(cfg.Allocator)}
	switch cfg.Codec {
	case "", "none":
	case "lz4", "lz4_frame":
		opts = append(opts, ipc.WithLZ4(), ipc.WithMinSpaceSavings(ipcMinSpaceSavings))
	case "zstd":
		opts = append(opts, ipc.WithZstd(), ipc.WithMinSpaceSavings(ipcMinSpaceSavings))
	default:
		return nil, fmt.Errorf("%w: Arrow IPC codec %q (want none, lz4 or zstd)", ErrUnsupported, cfg.Codec)
	}
	switch cfg.Format {
	case FormatArrowFile:
		fw, err := ipc.NewFileWriter(buf, opts...)
		if err != nil {
			return nil, fmt.Errorf("arrow file writer: %w", err)
		}
		return &ipcWriter{buf: buf, write: fw.Write, close: fw.Close}, nil
	case FormatArrowStream:
		sw := ipc.NewWriter(buf, opts...)
		return &ipcWriter{buf: buf, write: sw.Write, close: sw.Close}, nil
	}
	return nil, fmt.Errorf("%w: %v is not an Arrow IPC format", ErrUnknownFormat, cfg.Format)
}

func (w *ipcWriter) Write(batch arrow.RecordBatch) (err error) {
	if w.closed {
		return fmt.Errorf("arrow writer: write after close")
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("arrow writer: %v", p)
		}
	}()
	if err := w.write(batch); err != nil {
		return fmt.Errorf("arrow writer: %w", err)
	}
	return nil
}

// Close writes the end-of-stream marker (and, for the file format, the
// footer). It is idempotent.
func (w *ipcWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if err := w.close(); err != nil {
		return fmt.Errorf("arrow writer: %w", err)
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("arrow writer: %w", err)
	}
	return nil
}
