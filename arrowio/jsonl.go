package arrowio

// The JSON Lines reader: a chunked, parallel, order-preserving pipeline
// from newline-delimited JSON objects to Arrow record batches.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"
)

// JSONLReader reads a JSON Lines file (plain, gzip or zstd): one JSON object
// per line, blank lines ignored, a leading UTF-8 byte order mark and CRLF
// line ends accepted.
//
// The schema is WithSchema's, or else inferred at open time from the first
// InferRows lines (see InferJSONLSchema for the rules). Decoding follows the
// schema: keys it lacks are ignored, keys a line lacks are null, of
// duplicate keys the first wins, and values are converted to the field type
// (an integer into a float field, any value into a string field as its JSON
// text, an ISO-8601 string or a number of the unit into a timestamp, date,
// time or duration field, base64 into a binary field, a number or numeric
// string into a decimal field). Maps need string keys; unions, views,
// run-end encoded and dictionary fields are ErrUnsupported at open. A value
// that does not convert is an error wrapping ErrSchema; malformed JSON an
// error wrapping ErrSyntax. Both are *PosError values with the line, the
// byte column and the top-level column. With WithPermissive such lines are
// skipped instead, and Skipped counts them.
//
// Input is cut into newline-aligned chunks of about 4 MiB that
// WithWorkers goroutines decode in parallel; batches come out in file order
// and are the same whatever the worker count. A batch never spans chunks, so
// batches hold at most BatchSize rows and often fewer. At most about
// 2×Workers chunks are in memory at once.
//
// Files written by Create or NewWriter in the JSON Lines format read back
// to equal batches given the same schema: the writer emits every field of
// every row (null included), timestamps and dates as ISO-8601 strings,
// binary as base64, decimals as exact decimal strings, and NaN and ±Inf as
// null.
//
// A JSONLReader is not safe for concurrent use; Close it when done.
type JSONLReader struct {
	fsys      afero.Fs
	path      string
	cfg       ReadConfig
	full      *arrow.Schema // schema of the file, before projection
	out       []int         // projected field indexes into full
	schema    *arrow.Schema // output schema
	chunkSize int
	skipped   atomic.Int64
	closed    atomic.Bool
}

var (
	_ Reader      = (*JSONLReader)(nil)
	_ SkipCounter = (*JSONLReader)(nil)
)

// OpenJSONL opens the JSON Lines file path on fsys. Compression is taken
// from WithFormat, or else from the extension (.gz, .zst). Without
// WithSchema it reads the first InferRows lines to infer the schema, so a
// malformed line there is reported here. Options that do not concern JSON
// Lines are ignored.
func OpenJSONL(fsys afero.Fs, path string, opts ...ReadOption) (*JSONLReader, error) {
	cfg, err := NewReadConfig(opts...)
	if err != nil {
		return nil, err
	}
	if cfg.Format == FormatUnknown {
		if _, comp, err := DetectFormat(path); err == nil {
			cfg.Compression = comp
		}
	}
	cfg.Format = FormatJSONL
	return newJSONLReader(fsys, path, cfg)
}

// openJSONL is the constructor arrowio.Open calls.
func openJSONL(fsys afero.Fs, path string, cfg ReadConfig) (Reader, error) {
	r, err := newJSONLReader(fsys, path, cfg)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func newJSONLReader(fsys afero.Fs, path string, cfg ReadConfig) (*JSONLReader, error) {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	r := &JSONLReader{fsys: fsys, path: path, cfg: cfg, chunkSize: defaultChunkSize}
	full := cfg.Schema
	if full == nil {
		rc, closeAll, err := r.open()
		if err != nil {
			return nil, err
		}
		full, err = inferSchema(rc, path, cfg, r.chunkSize)
		closeAll()
		if err != nil {
			return nil, err
		}
	} else {
		// Fail at open, not at the first batch, on types we cannot decode.
		if _, err := newRecordDecoder(path, full, allFields(full)); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	r.full = full
	out, err := projectFields(full, cfg.Columns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.out = out
	d, err := newRecordDecoder(path, full, out)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	r.schema = d.schema
	return r, nil
}

func allFields(s *arrow.Schema) []int {
	out := make([]int, s.NumFields())
	for i := range out {
		out[i] = i
	}
	return out
}

// projectFields maps column names to field indexes of s; no names means all.
func projectFields(s *arrow.Schema, names []string) ([]int, error) {
	if len(names) == 0 {
		return allFields(s), nil
	}
	out := make([]int, 0, len(names))
	used := make(map[int]bool, len(names))
	for _, n := range names {
		idx := s.FieldIndices(n)
		if len(idx) == 0 {
			return nil, fmt.Errorf("%w: no column %q", ErrSchema, n)
		}
		if used[idx[0]] {
			return nil, fmt.Errorf("%w: column %q requested twice", ErrSchema, n)
		}
		used[idx[0]] = true
		out = append(out, idx[0])
	}
	return out, nil
}

// open opens the file and undoes its compression.
func (r *JSONLReader) open() (io.Reader, func(), error) {
	f, err := r.fsys.Open(r.path)
	if err != nil {
		return nil, nil, err
	}
	rc, err := decompress(f, r.cfg.Compression)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("%s: %w", r.path, err)
	}
	return rc, func() { rc.Close(); f.Close() }, nil
}

// Path returns the path the reader was opened with.
func (r *JSONLReader) Path() string { return r.path }

// Format returns FormatJSONL.
func (r *JSONLReader) Format() Format { return FormatJSONL }

// Schema returns the output schema, after projection.
func (r *JSONLReader) Schema() *arrow.Schema { return r.schema }

// FileSchema returns the schema of the whole file, before projection.
func (r *JSONLReader) FileSchema() *arrow.Schema { return r.full }

// NumRows reports false: JSON Lines records no row count.
func (r *JSONLReader) NumRows() (int64, bool) { return 0, false }

// Skipped returns how many malformed lines the last scan skipped in
// permissive mode. It is complete once that scan has ended.
func (r *JSONLReader) Skipped() int64 { return r.skipped.Load() }

// Close marks the reader closed; batches already yielded and retained stay
// valid. It is safe to call more than once.
func (r *JSONLReader) Close() error {
	r.closed.Store(true)
	return nil
}

// Batches scans the file from the start and yields its batches in order.
// Each batch is borrowed until the next step (Retain keeps it). Iteration
// stops after the first error, which is a *PosError for bad input, or the
// context's error.
func (r *JSONLReader) Batches(ctx context.Context) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		if r.closed.Load() {
			yield(nil, fmt.Errorf("%s: reader is closed", r.path))
			return
		}
		r.skipped.Store(0)
		src, closeSrc, err := r.open()
		if err != nil {
			yield(nil, err)
			return
		}
		defer closeSrc()
		r.run(ctx, src, yield)
	}
}

type chunkJob struct {
	c    chunk
	slot chan chunkResult
}

// run drives the pipeline: one goroutine cuts chunks, Workers goroutines
// decode them, and this goroutine yields results in chunk order.
func (r *JSONLReader) run(ctx context.Context, src io.Reader, yield func(arrow.RecordBatch, error) bool) {
	workers := r.cfg.Workers
	inflight := 2 * workers
	jobs := make(chan chunkJob)
	pending := make(chan chan chunkResult, inflight)
	done := make(chan struct{})
	free := make(chan []byte, inflight+workers+2)
	var wg sync.WaitGroup

	// Decoders are built before the goroutines start so that errors surface
	// here (they cannot fail: the schema was checked at open).
	decs := make([]*recordDecoder, workers)
	for i := range decs {
		d, err := newRecordDecoder(r.path, r.full, r.out)
		if err != nil {
			yield(nil, err)
			return
		}
		decs[i] = d
	}

	wg.Add(1)
	go func() { // chunk cutter
		defer wg.Done()
		defer close(pending)
		defer close(jobs)
		ck := newChunker(src, r.chunkSize)
		for {
			var buf []byte
			select {
			case buf = <-free:
			default:
			}
			c, err := ck.next(buf)
			if err == io.EOF {
				return
			}
			slot := make(chan chunkResult, 1)
			if err != nil {
				slot <- chunkResult{err: r.readError(err)}
				select {
				case pending <- slot:
				case <-done:
				}
				return
			}
			select {
			case pending <- slot:
			case <-done:
				return
			}
			select {
			case jobs <- chunkJob{c: c, slot: slot}:
			case <-done:
				slot <- chunkResult{}
				return
			}
		}
	}()
	for _, d := range decs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				var res chunkResult
				select {
				case <-done:
				default:
					res = decodeChunkSafe(d, j.c, r.cfg)
				}
				select {
				case free <- j.c.data:
				default:
				}
				j.slot <- res
			}
		}()
	}

	var cur chan chunkResult // slot being waited on, drained on early exit
	defer func() {
		close(done)
		if cur != nil {
			res := <-cur
			res.release()
		}
		for slot := range pending {
			res := <-slot
			res.release()
		}
		wg.Wait()
	}()
	for slot := range pending {
		cur = slot
		var res chunkResult
		select {
		case res = <-slot:
			cur = nil
		case <-ctx.Done():
			yield(nil, ctx.Err())
			return
		}
		r.skipped.Add(res.skipped)
		for i, b := range res.batches {
			if err := ctx.Err(); err != nil {
				res.batches = res.batches[i:]
				res.release()
				yield(nil, err)
				return
			}
			ok := yield(b, nil)
			b.Release()
			if !ok {
				res.batches = res.batches[i+1:]
				res.release()
				return
			}
		}
		if res.err != nil {
			yield(nil, res.err)
			return
		}
	}
}

// decodeChunkSafe decodes a chunk, turning a panic (a bug) into an error
// rather than a crash of the caller's program.
func decodeChunkSafe(d *recordDecoder, c chunk, cfg ReadConfig) (res chunkResult) {
	defer func() {
		if p := recover(); p != nil {
			res.release()
			pe := NewPosError(d.path, fmt.Errorf("%w: internal error decoding JSON Lines: %v", ErrCorrupt, p))
			pe.Line = c.firstLine
			res.err = pe
			// The decoder state is unknown: empty it.
			d.truncate(0)
		}
	}()
	return d.decodeChunk(c, cfg.BatchSize, cfg.Permissive, cfg.Allocator)
}

// readError wraps an error from reading or decompressing the input.
func (r *JSONLReader) readError(err error) error {
	if r.cfg.Compression != CompressionNone && !errors.Is(err, ErrCorrupt) {
		return fmt.Errorf("%s: %w: %s data: %v", r.path, ErrCorrupt, r.cfg.Compression, err)
	}
	return fmt.Errorf("%s: %w", r.path, err)
}
