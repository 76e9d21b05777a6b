package arrowio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
)

// ErrClosed is returned by ArrowFile.BatchAt after Close.
var ErrClosed = errors.New("arrowio: file already closed")

// ArrowFile is an Arrow IPC file opened for random access to its record
// batches.
//
// When the file lives on an operating-system filesystem (afero.OsFs,
// ReadOnlyFs or BasePathFs over one) and memory-mapping is not disabled
// (WithNoMmap), the file is mapped read-only and every buffer of every batch
// aliases the mapping: opening costs a few reads of metadata and batches
// cost no copy. The mapping is reference counted: it is unmapped only once
// Close has been called and every batch, slice or array obtained from the
// file has been released. Files whose buffers are compressed (lz4, zstd)
// are still mapped, but their compressed buffers are decompressed into
// memory from the configured allocator.
//
// Files with dictionary-encoded fields are mapped too. arrow-go v18.8.0's
// mapped file reader cannot handle dictionaries (it panics on open), so for
// them each BatchAt replays the schema, the dictionaries and the wanted
// batch from the mapping through arrow-go's stream decoder: still zero-copy,
// but every call decodes the dictionaries again. Other filesystems are
// read through ReadAt, copying each batch into allocator memory.
//
// Damaged files yield errors, not panics: metadata is checked before
// arrow-go decodes it, and a compressed buffer may not claim more than
// max(1 GiB, 1024 times its compressed size) uncompressed. A mapped file
// must not be truncated or rewritten in place while mapped: touching the
// missing pages would crash the process (SIGBUS), which Go cannot recover.
// Quiver's own writers replace files by rename, which is safe.
//
// An ArrowFile is safe for concurrent use.
type ArrowFile struct {
	path   string
	schema *arrow.Schema // after projection
	full   *arrow.Schema
	proj   []int // column indices of schema in full; nil for all

	rows  []int64 // per batch, from headers or the caller (OpenArrowFileRows)
	total int64

	// Batch headers are read and checked at open (OpenArrowFile) or on
	// first use (OpenArrowFileRows); factMu guards facts and have.
	factMu  sync.Mutex
	facts   []batchFacts
	have    []bool
	allOnce sync.Once
	allErr  error
	// compressed is set when some batch has compressed buffers: at open,
	// or by Mapped once every header has been read (allOnce).
	compressed bool

	// Dictionary files on a mapping are decoded from these messages
	// instead of by rd (nil then).
	viaMessages bool
	dictOffs    []int64
	batchOffs   []int64
	alloc       memory.Allocator

	src    io.ReaderAt // the file's bytes, for checks before decoding
	size   int64
	blocks []ipcBlock

	mu     sync.RWMutex // Close (write) against BatchAt (read)
	closed bool
	rd     *ipc.FileReader
	m      *mapping   // nil unless mapped
	file   afero.File // open while the reader reads through it
}

// OpenArrowFile opens the Arrow IPC file at path on fsys for random access.
// Options that apply: WithColumns (projection; unknown names are an error
// wrapping ErrSchema), WithAllocator (memory for copies and decompressed
// buffers) and WithNoMmap. A stream-format file is not accepted; open
// those with Open.
//
// Errors about the file's contents are *PosError values wrapping
// ErrCorrupt. The caller must call Close.
func OpenArrowFile(fsys afero.Fs, path string, opts ...ReadOption) (*ArrowFile, error) {
	cfg, err := NewReadConfig(opts...)
	if err != nil {
		return nil, err
	}
	return openArrowFile(fsys, path, cfg)
}

// OpenArrowFileRows is OpenArrowFile for a file whose per-batch row counts
// the caller already knows (rows[i] for batch i, recorded when the file
// was written): it reads the footer and the schema but no batch header,
// so opening costs the same for ten batches or ten thousand. Each batch's
// header is read and checked when BatchAt first decodes it; a batch whose
// header or data disagrees with rows[i] is an error then (*PosError
// wrapping ErrCorrupt). A rows slice of the wrong length is an error at
// open. Mapped reads every header on first call. Ownership and options
// are as for OpenArrowFile; rows is not retained.
func OpenArrowFileRows(fsys afero.Fs, path string, rows []int64, opts ...ReadOption) (*ArrowFile, error) {
	cfg, err := NewReadConfig(opts...)
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = []int64{}
	}
	return openArrowFileRows(fsys, path, cfg, rows)
}

// openArrowFile opens path, reading every batch header now.
func openArrowFile(fsys afero.Fs, path string, cfg ReadConfig) (*ArrowFile, error) {
	return openArrowFileRows(fsys, path, cfg, nil)
}

// openArrowFileRows opens path; known, when not nil, holds the per-batch
// row counts and makes header checks lazy.
func openArrowFileRows(fsys afero.Fs, path string, cfg ReadConfig, known []int64) (af *ArrowFile, err error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() {
		if af == nil {
			_ = f.Close()
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	corrupt := func(err error) error {
		return &PosError{Path: path, RowGroup: -1, Batch: -1, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
	}
	ipcOpts := func() []ipc.Option {
		// Local files are trusted: a batch may be as large as the file.
		lim := max(size, 1)
		return []ipc.Option{ipc.WithAllocator(cfg.Allocator), ipc.WithBodySizeLimit(lim), ipc.WithMetadataSizeLimit(lim)}
	}

	af = &ArrowFile{path: path, alloc: cfg.Allocator}
	// Headers are read through the file, not the mapping: a few pread calls
	// cost less than faulting in one page per batch header.
	la := &lockedFile{f: f, size: size}
	src := io.ReaderAt(la)
	if osf := osFileOf(f); osf != nil {
		la.noLock = true // os.File.ReadAt is safe for concurrent use
		if !cfg.NoMmap && mmapSupported && size > 0 {
			if data, merr := mmapFile(osf, size); merr == nil {
				af.m = newMapping(data)
			}
		}
	}
	fail := func(e error) (*ArrowFile, error) {
		if af.m != nil {
			af.m.release()
		}
		af = nil
		return nil, e
	}

	blocks, dicts, err := readFooter(src, size)
	if err != nil {
		return fail(corrupt(err))
	}
	var facts []batchFacts
	if known == nil {
		if facts, err = readBatchFacts(src, path, size, blocks); err != nil {
			return fail(err)
		}
	} else {
		if len(known) != len(blocks) {
			return fail(corrupt(fmt.Errorf("footer lists %d batches, expected %d", len(blocks), len(known))))
		}
		for i, b := range blocks {
			if err := checkBlockBounds(path, size, b, i); err != nil {
				return fail(err)
			}
			if known[i] < 0 {
				return fail(corrupt(fmt.Errorf("negative row count %d for batch %d", known[i], i)))
			}
		}
	}
	// Check dictionary messages too, before arrow-go reads them.
	if _, err := readBatchFacts(src, path, size, dicts); err != nil {
		if pe, ok := errors.AsType[*PosError](err); ok {
			err = corrupt(fmt.Errorf("dictionary %d: %v", pe.Batch, pe.Err))
		}
		return fail(err)
	}
	for _, b := range dicts {
		if err := checkBlockBody(src, b); err != nil {
			return fail(corrupt(fmt.Errorf("dictionary: %v", err)))
		}
	}
	af.src, af.size, af.blocks = src, size, blocks
	if af.m != nil {
		af.src = bytes.NewReader(af.m.data)
		_ = f.Close() // the mapping outlives the descriptor
	} else {
		af.file = f
	}
	af.have = make([]bool, len(blocks))
	if known == nil {
		for i, f := range facts {
			if f.Kind != messageHeaderRecordBatch {
				return fail(&PosError{Path: path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: block is not a record batch", ErrCorrupt)})
			}
		}
		af.facts = facts
		af.rows = make([]int64, len(facts))
		for i, fc := range facts {
			af.rows[i] = fc.Rows
			af.total += fc.Rows
			af.compressed = af.compressed || fc.Compressed
			af.have[i] = true
		}
		af.allOnce.Do(func() {})
	} else {
		af.facts = make([]batchFacts, len(blocks))
		af.rows = slices.Clone(known)
		for _, n := range known {
			af.total += n
		}
	}

	if af.m != nil {
		af.rd, err = newMappedReader(af.m.data, ipcOpts())
		if errors.Is(err, errMappedDict) {
			af.viaMessages = true
			for _, b := range dicts {
				af.dictOffs = append(af.dictOffs, b.Offset)
			}
			for _, b := range blocks {
				af.batchOffs = append(af.batchOffs, b.Offset)
			}
			af.full, err = af.messagesSchema()
		}
	} else {
		af.rd, err = guard(func() (*ipc.FileReader, error) {
			return ipc.NewFileReader(la, ipcOpts()...)
		})
	}
	if err != nil {
		return fail(corrupt(err))
	}
	if af.rd != nil {
		if af.rd.NumRecords() != len(blocks) {
			_ = af.rd.Close()
			return fail(corrupt(fmt.Errorf("footer lists %d batches, reader sees %d", len(blocks), af.rd.NumRecords())))
		}
		af.full = af.rd.Schema()
	}
	af.schema, af.proj, err = projectSchema(af.full, cfg.Columns)
	if err != nil {
		if af.rd != nil {
			_ = af.rd.Close()
		}
		return fail(NewPosError(path, err))
	}
	return af, nil
}

// fileStreamStart is the offset of the schema message in the IPC file
// format: after "ARROW1" and two bytes of padding.
const fileStreamStart = 8

// messagesSchema reads the schema message at the start of a mapped file.
func (f *ArrowFile) messagesSchema() (*arrow.Schema, error) {
	rd, err := guard(func() (*ipc.Reader, error) {
		return ipc.NewReaderFromMessageReader(newMappedMessages(f.m.data, []int64{fileStreamStart}, 0), ipc.WithAllocator(f.alloc))
	})
	if err != nil {
		return nil, err
	}
	defer rd.Release()
	return rd.Schema(), nil
}

// messagesBatch decodes batch i of a mapped dictionary file from its
// schema, dictionary and batch messages.
func (f *ArrowFile) messagesBatch(i int) (arrow.RecordBatch, error) {
	offs := make([]int64, 0, 2+len(f.dictOffs))
	offs = append(offs, fileStreamStart)
	offs = append(offs, f.dictOffs...)
	offs = append(offs, f.batchOffs[i])
	return guard(func() (arrow.RecordBatch, error) {
		rd, err := ipc.NewReaderFromMessageReader(newMappedMessages(f.m.data, offs, 0), ipc.WithAllocator(f.alloc))
		if err != nil {
			return nil, err
		}
		defer rd.Release()
		if !rd.Next() {
			if err := rd.Err(); err != nil {
				return nil, err
			}
			return nil, errors.New("batch message missing")
		}
		rec := rd.RecordBatch()
		rec.Retain()
		return rec, nil
	})
}

// checkBlockBody checks the compressed buffers of the message in block b
// (see checkCompressedBody). Block bounds were checked at open.
func checkBlockBody(src io.ReaderAt, b ipcBlock) error {
	meta := make([]byte, b.MetaLength)
	if _, err := src.ReadAt(meta, b.Offset); err != nil {
		return err
	}
	fb, _, err := messagePrefix(meta, 0)
	if err != nil || fb == nil {
		return err
	}
	return checkCompressedBody(fb, src, b.Offset+int64(b.MetaLength), b.BodyLength)
}

var errMappedDict = errors.New("mapped reader cannot read dictionary fields")

// newMappedReader opens the mapped reader, turning arrow-go's panic on
// dictionary fields into errMappedDict.
func newMappedReader(data []byte, opts []ipc.Option) (rd *ipc.FileReader, err error) {
	defer func() {
		if p := recover(); p != nil {
			rd, err = nil, fmt.Errorf("%w: %v", errMappedDict, p)
		}
	}()
	return ipc.NewMappedFileReader(data, opts...)
}

// guard runs fn, turning a panic into an error.
func guard[T any](fn func() (T, error)) (v T, err error) {
	defer func() {
		if p := recover(); p != nil {
			var zero T
			v, err = zero, fmt.Errorf("arrow-go panicked: %v", p)
		}
	}()
	return fn()
}

// projectSchema returns the schema of the named columns of s, in the order
// given, and their indices; nil names select everything.
func projectSchema(s *arrow.Schema, names []string) (*arrow.Schema, []int, error) {
	if names == nil {
		return s, nil, nil
	}
	idx := make([]int, len(names))
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		found := s.FieldIndices(n)
		if len(found) == 0 {
			return nil, nil, fmt.Errorf("%w: no column %q (have %v)", ErrSchema, n, fieldNames(s))
		}
		idx[i] = found[0]
		fields[i] = s.Field(found[0])
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md), idx, nil
}

func fieldNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i := range out {
		out[i] = s.Field(i).Name
	}
	return out
}

// Path returns the path the file was opened with.
func (f *ArrowFile) Path() string { return f.path }

// Size returns the file's size in bytes.
func (f *ArrowFile) Size() int64 { return f.size }

// Schema returns the schema of the batches BatchAt returns, after
// projection.
func (f *ArrowFile) Schema() *arrow.Schema { return f.schema }

// Metadata returns the key-value metadata of the file's schema.
func (f *ArrowFile) Metadata() arrow.Metadata { return f.full.Metadata() }

// NumBatches returns the number of record batches in the file.
func (f *ArrowFile) NumBatches() int { return len(f.rows) }

// NumRows returns the total number of rows: from the batch headers read
// at open, or the row counts given to OpenArrowFileRows.
func (f *ArrowFile) NumRows() int64 { return f.total }

// BatchRows returns the number of rows of batch i without decoding it
// (from its header, or as given to OpenArrowFileRows). It panics if i is
// out of range, like a slice index.
func (f *ArrowFile) BatchRows(i int) int64 { return f.rows[i] }

// Mapped reports whether batches are zero-copy views of a memory mapping:
// the file is mapped and none of its buffers is compressed. For a file
// opened with OpenArrowFileRows the first call reads every batch header; a
// damaged header makes it report false.
func (f *ArrowFile) Mapped() bool {
	if f.m == nil {
		return false
	}
	f.allOnce.Do(func() {
		for i := range f.rows {
			if _, err := f.fact(i); err != nil {
				f.allErr = err
				return
			}
		}
		f.factMu.Lock()
		for _, fc := range f.facts {
			f.compressed = f.compressed || fc.Compressed
		}
		f.factMu.Unlock()
	})
	return f.allErr == nil && !f.compressed
}

// fact returns the checked header facts of batch i, reading them on first
// use.
func (f *ArrowFile) fact(i int) (batchFacts, error) {
	f.factMu.Lock()
	defer f.factMu.Unlock()
	if f.have[i] {
		return f.facts[i], nil
	}
	var buf []byte
	fc, err := readBlockFacts(f.src, f.path, f.size, f.blocks[i], i, &buf)
	if err != nil {
		return batchFacts{}, err
	}
	if fc.Kind != messageHeaderRecordBatch {
		return batchFacts{}, &PosError{Path: f.path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: block is not a record batch", ErrCorrupt)}
	}
	if fc.Rows != f.rows[i] {
		return batchFacts{}, &PosError{Path: f.path, RowGroup: -1, Batch: i,
			Err: fmt.Errorf("%w: batch header says %d rows, expected %d", ErrCorrupt, fc.Rows, f.rows[i])}
	}
	f.facts[i], f.have[i] = fc, true
	return fc, nil
}

// BatchAt decodes batch i. The caller owns the result and must Release it;
// it stays valid after Close. Errors are *PosError values naming the batch,
// wrapping ErrCorrupt for damaged input, or ErrClosed after Close. BatchAt
// is safe for concurrent use.
func (f *ArrowFile) BatchAt(i int) (arrow.RecordBatch, error) {
	if i < 0 || i >= len(f.rows) {
		return nil, &PosError{Path: f.path, RowGroup: -1, Batch: i,
			Err: fmt.Errorf("batch index %d out of range [0, %d)", i, len(f.rows))}
	}
	f.mu.RLock()
	defer f.mu.RUnlock()
	if f.closed {
		return nil, &PosError{Path: f.path, RowGroup: -1, Batch: i, Err: ErrClosed}
	}
	fc, err := f.fact(i)
	if err != nil {
		return nil, err
	}
	if fc.Compressed {
		if err := checkBlockBody(f.src, f.blocks[i]); err != nil {
			return nil, &PosError{Path: f.path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
		}
	}
	var rec arrow.RecordBatch
	if f.viaMessages {
		rec, err = f.messagesBatch(i)
	} else {
		rec, err = guard(func() (arrow.RecordBatch, error) { return f.rd.RecordBatchAt(i) })
	}
	if err != nil {
		return nil, &PosError{Path: f.path, RowGroup: -1, Batch: i, Err: fmt.Errorf("%w: %v", ErrCorrupt, err)}
	}
	if rec.NumRows() != f.rows[i] {
		rec.Release()
		return nil, &PosError{Path: f.path, RowGroup: -1, Batch: i,
			Err: fmt.Errorf("%w: batch has %d rows, its header said %d", ErrCorrupt, rec.NumRows(), f.rows[i])}
	}
	// The read lock keeps the file's own reference to a mapping alive
	// while finishBatch ties the batch to it.
	rec = finishBatch(rec, f.schema, f.proj, f.m)
	return rec, nil
}

// Close drops the file's own reference to its data. Batches obtained
// earlier remain valid until released; the mapping, if any, is unmapped
// after the last of them is released. Close is idempotent.
func (f *ArrowFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return nil
	}
	f.closed = true
	var err error
	if f.rd != nil {
		err = f.rd.Close()
	}
	if f.file != nil {
		err = errors.Join(err, f.file.Close())
	}
	if f.m != nil {
		f.m.release()
	}
	return err
}

// lockedFile adapts an afero.File to ipc.ReadAtSeeker with ReadAt safe
// for concurrent use: some afero files (MemMapFs) move a shared offset in
// ReadAt.
type lockedFile struct {
	mu     sync.Mutex
	f      afero.File
	size   int64
	noLock bool
}

func (l *lockedFile) ReadAt(p []byte, off int64) (int, error) {
	if !l.noLock {
		l.mu.Lock()
		defer l.mu.Unlock()
	}
	return l.f.ReadAt(p, off)
}

func (l *lockedFile) Read(p []byte) (int, error) {
	return 0, errors.New("arrowio: sequential Read on a random-access file")
}

// Seek supports only what ipc.NewFileReader does with it: finding the size.
func (l *lockedFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekEnd:
		return l.size + off, nil
	case io.SeekStart:
		return off, nil
	}
	return 0, errors.New("arrowio: unsupported seek")
}
