package arrowio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/spf13/afero"
)

// openArrow opens an Arrow IPC file or stream. The layout is sniffed from
// the first bytes, whatever the extension or forced format says: files
// begin with "ARROW1", anything else is read as a stream (Hugging Face
// save_to_disk writes streams named *.arrow).
func openArrow(fsys afero.Fs, path string, cfg ReadConfig) (Reader, error) {
	isFile, err := sniffArrowFile(fsys, path)
	if err != nil {
		return nil, err
	}
	if isFile {
		af, err := openArrowFile(fsys, path, cfg)
		if err != nil {
			return nil, err
		}
		return &arrowFileReader{f: af, batchSize: cfg.BatchSize}, nil
	}
	r := &arrowStreamReader{fsys: fsys, path: path, cfg: cfg}
	// Read the schema now so Schema answers without a scan.
	f, rd, err := r.open()
	if err != nil {
		return nil, err
	}
	full := rd.Schema()
	rd.Release()
	_ = f.Close()
	if r.schema, r.proj, err = projectSchema(full, cfg.Columns); err != nil {
		return nil, NewPosError(path, err)
	}
	return r, nil
}

func sniffArrowFile(fsys afero.Fs, path string) (bool, error) {
	f, err := fsys.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	var head [6]byte
	n, err := io.ReadFull(f, head[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	return n == len(head) && bytes.Equal(head[:], arrowMagic), nil
}

// yieldSlices yields rec in slices of at most size rows (zero-copy), each
// released after its yield step. It reports whether the consumer wants more.
func yieldSlices(rec arrow.RecordBatch, size int, yield func(arrow.RecordBatch, error) bool) bool {
	n := rec.NumRows()
	if n <= int64(size) {
		return yield(rec, nil)
	}
	for lo := int64(0); lo < n; lo += int64(size) {
		s := rec.NewSlice(lo, min(lo+int64(size), n))
		more := yield(s, nil)
		s.Release()
		if !more {
			return false
		}
	}
	return true
}

// arrowFileReader is the Reader over an IPC file: ArrowFile, scanned in
// order.
type arrowFileReader struct {
	f         *ArrowFile
	batchSize int
}

func (r *arrowFileReader) Path() string           { return r.f.path }
func (r *arrowFileReader) Format() Format         { return FormatArrowFile }
func (r *arrowFileReader) Schema() *arrow.Schema  { return r.f.Schema() }
func (r *arrowFileReader) NumRows() (int64, bool) { return r.f.NumRows(), true }
func (r *arrowFileReader) Close() error           { return r.f.Close() }

// ArrowFile returns the random-access file behind the reader.
func (r *arrowFileReader) ArrowFile() *ArrowFile { return r.f }

func (r *arrowFileReader) Batches(ctx context.Context) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		for i := range r.f.NumBatches() {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			rec, err := r.f.BatchAt(i)
			if err != nil {
				yield(nil, err)
				return
			}
			more := yieldSlices(rec, r.batchSize, yield)
			rec.Release()
			if !more {
				return
			}
		}
	}
}

// arrowStreamReader is the Reader over an IPC stream. Each Batches call
// reads the file from the start through a buffered reader; batches are
// copied into allocator memory.
type arrowStreamReader struct {
	fsys   afero.Fs
	path   string
	cfg    ReadConfig
	schema *arrow.Schema
	proj   []int
}

func (r *arrowStreamReader) Path() string           { return r.path }
func (r *arrowStreamReader) Format() Format         { return FormatArrowStream }
func (r *arrowStreamReader) Schema() *arrow.Schema  { return r.schema }
func (r *arrowStreamReader) NumRows() (int64, bool) { return 0, false }
func (r *arrowStreamReader) Close() error           { return nil }

func (r *arrowStreamReader) corrupt(batch int, err error) error {
	return &PosError{Path: r.path, RowGroup: -1, Batch: batch, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
}

// open opens the file and an IPC stream reader positioned after the schema.
func (r *arrowStreamReader) open() (afero.File, *ipc.Reader, error) {
	f, err := r.fsys.Open(r.path)
	if err != nil {
		return nil, nil, err
	}
	lim := int64(0) // no limit when the size is unknown
	if st, err := f.Stat(); err == nil {
		lim = max(st.Size(), 1)
	}
	rd, err := guard(func() (*ipc.Reader, error) {
		return ipc.NewReader(bufio.NewReaderSize(f, 1<<20), ipc.WithAllocator(r.cfg.Allocator),
			ipc.WithBodySizeLimit(lim), ipc.WithMetadataSizeLimit(lim))
	})
	if err != nil {
		_ = f.Close()
		return nil, nil, r.corrupt(-1, fmt.Errorf("stream schema: %v", err))
	}
	return f, rd, nil
}

func (r *arrowStreamReader) Batches(ctx context.Context) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		f, rd, err := r.open()
		if err != nil {
			yield(nil, err)
			return
		}
		defer f.Close()
		defer rd.Release()
		for i := 0; ; i++ {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			ok, err := guard(func() (bool, error) { return rd.Next(), rd.Err() })
			if err != nil {
				yield(nil, r.corrupt(i, err))
				return
			}
			if !ok {
				return
			}
			rec := rd.RecordBatch()
			rec.Retain()
			if r.proj != nil {
				cols := make([]arrow.Array, len(r.proj))
				for j, c := range r.proj {
					cols[j] = rec.Column(c)
				}
				p := array.NewRecordBatch(r.schema, cols, rec.NumRows())
				rec.Release()
				rec = p
			}
			more := yieldSlices(rec, r.cfg.BatchSize, yield)
			rec.Release()
			if !more {
				return
			}
		}
	}
}
