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
// save_to_disk writes streams named *.arrow). Streams on an OS filesystem
// are memory-mapped like files (unless WithNoMmap): their batches alias the
// mapping and their row count is known from message headers.
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
	if err := r.tryMap(); err != nil {
		return nil, err
	}
	var full *arrow.Schema
	if r.m != nil {
		rd, err := guard(func() (*ipc.Reader, error) {
			return ipc.NewReaderFromMessageReader(newMappedMessages(r.m.data, nil, 0), ipc.WithAllocator(cfg.Allocator))
		})
		if err != nil {
			r.m.release()
			return nil, r.corrupt(-1, fmt.Errorf("stream schema: %v", err))
		}
		full = rd.Schema()
		rd.Release()
		if _, rows, err := streamFacts(r.m.data, 0); err == nil {
			r.rows, r.rowsKnown = rows, true
		}
	} else {
		// Read the schema now so Schema answers without a scan.
		f, rd, err := r.open()
		if err != nil {
			return nil, err
		}
		full = rd.Schema()
		rd.Release()
		_ = f.Close()
	}
	if r.schema, r.proj, err = projectSchema(full, cfg.Columns); err != nil {
		_ = r.Close()
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
// reads from the start: over the mapping when the file is mapped (batches
// alias it), else through a buffered reader that copies batches into
// allocator memory.
type arrowStreamReader struct {
	fsys      afero.Fs
	path      string
	cfg       ReadConfig
	schema    *arrow.Schema
	proj      []int
	m         *mapping // nil unless mapped
	rows      int64
	rowsKnown bool
	closed    bool
}

func (r *arrowStreamReader) Path() string           { return r.path }
func (r *arrowStreamReader) Format() Format         { return FormatArrowStream }
func (r *arrowStreamReader) Schema() *arrow.Schema  { return r.schema }
func (r *arrowStreamReader) NumRows() (int64, bool) { return r.rows, r.rowsKnown }

// Close drops the reader's reference to the mapping; batches retained by
// the caller stay valid. It is idempotent.
func (r *arrowStreamReader) Close() error {
	if !r.closed && r.m != nil {
		r.m.release()
	}
	r.closed = true
	return nil
}

func (r *arrowStreamReader) corrupt(batch int, err error) error {
	return &PosError{Path: r.path, RowGroup: -1, Batch: batch, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
}

// tryMap maps the file when it is an OS file and mapping is allowed.
func (r *arrowStreamReader) tryMap() error {
	if r.cfg.NoMmap || !mmapSupported {
		return nil
	}
	f, err := r.fsys.Open(r.path)
	if err != nil {
		return err
	}
	defer f.Close()
	osf := osFileOf(f)
	if osf == nil {
		return nil
	}
	st, err := osf.Stat()
	if err != nil || st.Size() == 0 {
		return nil // the copying path reports what is wrong
	}
	if data, err := mmapFile(osf, st.Size()); err == nil {
		r.m = newMapping(data)
	}
	return nil
}

// open opens the file and an IPC stream reader positioned after the schema.
// Message sizes are bounded by the file size, so a damaged length cannot
// make the reader allocate more than the file holds.
func (r *arrowStreamReader) open() (afero.File, *ipc.Reader, error) {
	f, err := r.fsys.Open(r.path)
	if err != nil {
		return nil, nil, err
	}
	limit := int64(1) << 32 // when the size is unknown
	if st, err := f.Stat(); err == nil {
		limit = st.Size()
	}
	rd, err := guard(func() (*ipc.Reader, error) {
		mr := newStreamMessages(bufio.NewReaderSize(f, 1<<20), r.cfg.Allocator, limit)
		return ipc.NewReaderFromMessageReader(mr, ipc.WithAllocator(r.cfg.Allocator))
	})
	if err != nil {
		_ = f.Close()
		return nil, nil, r.corrupt(-1, fmt.Errorf("stream schema: %v", err))
	}
	return f, rd, nil
}

func (r *arrowStreamReader) Batches(ctx context.Context) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		var rd *ipc.Reader
		if r.m != nil {
			if r.closed || !r.m.tryAcquire() {
				yield(nil, &PosError{Path: r.path, RowGroup: -1, Batch: -1, Err: ErrClosed})
				return
			}
			defer r.m.release()
			var err error
			rd, err = guard(func() (*ipc.Reader, error) {
				return ipc.NewReaderFromMessageReader(newMappedMessages(r.m.data, nil, 0), ipc.WithAllocator(r.cfg.Allocator))
			})
			if err != nil {
				yield(nil, r.corrupt(-1, err))
				return
			}
		} else {
			f, frd, err := r.open()
			if err != nil {
				yield(nil, err)
				return
			}
			defer f.Close()
			rd = frd
		}
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
			rec = finishBatch(rec, r.schema, r.proj, r.m)
			more := yieldSlices(rec, r.cfg.BatchSize, yield)
			rec.Release()
			if !more {
				return
			}
		}
	}
}

// finishBatch turns rec, a batch as arrow-go decoded it, into the batch a
// reader hands out: only the columns proj (indices into rec, in order)
// under schema when proj is not nil, and every buffer that aliases the
// mapping m tied to it when m is not nil. It takes over the caller's
// reference to rec and returns one reference to the result.
func finishBatch(rec arrow.RecordBatch, schema *arrow.Schema, proj []int, m *mapping) arrow.RecordBatch {
	if proj != nil {
		cols := make([]arrow.Array, len(proj))
		for j, c := range proj {
			cols[j] = rec.Column(c)
		}
		p := array.NewRecordBatch(schema, cols, rec.NumRows())
		rec.Release()
		rec = p
	}
	if m != nil {
		out := m.rebindBatch(rec)
		rec.Release()
		rec = out
	}
	return rec
}
