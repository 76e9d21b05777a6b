package arrowio

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/spf13/afero"
)

// parquetMaxPageSize is the largest page body (compressed or not) the reader
// accepts. arrow-go's defaults (64 MiB compressed, 256 MiB uncompressed)
// reject valid files with 1 GiB pages; a page is still bounded so that a
// corrupt header cannot ask for an absurd allocation.
const parquetMaxPageSize = 2 << 30

// localPageBuffer is the read buffer of a local column chunk: page headers
// and small pages are read through it, larger page bodies directly into
// the decoder's buffer.
const localPageBuffer = 64 << 10

// ParquetReader reads one Parquet file through pqarrow. Besides the Reader
// methods it answers footer-only questions (row groups, column chunk
// statistics, codecs, key-value metadata, created_by) without reading any
// data page.
//
// Local files (an *os.File, or afero's in-memory file, found through
// FileUnwrapper) are read a page at a time: page headers and small pages
// through a 64 KiB buffer per column chunk, larger pages with one ReadAt
// straight into the page decoder's buffer, which is reused from page to
// page. ReadAt calls on afero's in-memory, union and regexp files are
// serialised, as they are not safe for concurrent use. Any other file is
// remote (hubfs): opening it fetches its 64 KiB tail in one read (only the
// footer's magic bytes are checked, not the head's), and each row group's
// selected column chunks are fetched with one read (neighbours up to 1 MiB
// apart merged), streamed straight into the column readers, a column chunk
// at a time, when the file has an OpenRange(off, n int64) (io.ReadCloser,
// error) method, as hubfs files do; the next row group is prepared while
// one decodes (see Prefetch), within ReadConfig.PrebufferBytes.
//
// Batches never span row groups. Top-level columns are decoded in parallel
// on up to ReadConfig.Workers goroutines (default GOMAXPROCS); panics inside
// arrow-go are recovered and reported as ErrCorrupt.
//
// Beyond plain pqarrow it reads: the legacy LZ4 codec in Hadoop, raw-block
// and frame framing; empty compressed data pages; pages up to 2 GiB;
// columns with logical types it does not know (as their physical type);
// MAPs with optional keys (as list<struct<key, value>>); top-level INT96
// timestamps (as timestamp[us], see parquet_int96.go); legacy two-level
// lists. Encrypted files fail with an error wrapping ErrUnsupported.
//
// A ParquetReader is not safe for concurrent use; the caller must call
// Close.
type ParquetReader struct {
	path string
	cfg  ReadConfig

	f   afero.File
	src *parquetSource
	pf  *file.Reader
	fr  *pqarrow.FileReader

	fileSchema *arrow.Schema  // full Arrow schema of the file
	schema     *arrow.Schema  // output schema, after projection
	fields     []int          // file field index of each output column
	leaves     []map[int]bool // leaf column indices of each output column
	int96      []int          // leaf index of each output column read as INT96, or -1
	legacy     []bool         // output column is a legacy two-level list to unwrap
	rowGroups  []int          // row groups Batches reads
	ahead      aheadSets      // row groups fetched ahead of their read
	order      []int          // output columns by their first chunk in the file
}

var _ Reader = (*ParquetReader)(nil)

// OpenParquet opens the Parquet file at path on fsys and reads its footer.
// Options are those of Open; WithColumns, WithRowGroups, WithBatchSize,
// WithWorkers and WithAllocator apply. Errors are *PosError values wrapping
// ErrCorrupt (not a Parquet file, damaged footer), ErrUnsupported (encrypted
// files) or ErrSchema (unknown column, row group out of range).
func OpenParquet(fsys afero.Fs, path string, opts ...ReadOption) (*ParquetReader, error) {
	cfg, err := NewReadConfig(opts...)
	if err != nil {
		return nil, err
	}
	cfg.Format = FormatParquet
	return openParquetReader(fsys, path, cfg)
}

// ParquetFooter is the parsed footer of a Parquet file, taken from an open
// reader (ParquetReader.Footer) to open the same file again without
// reading its footer: over a network, without a request. It is immutable
// and may be shared.
type ParquetFooter struct {
	md   *metadata.FileMetaData
	size int64 // of the file it was read from
}

// Size returns the encoded size of the footer in bytes: roughly what
// keeping it costs in memory.
func (f *ParquetFooter) Size() int { return f.md.Size() }

// Footer returns the file's parsed footer, for OpenParquetFooter.
func (r *ParquetReader) Footer() *ParquetFooter {
	return &ParquetFooter{md: r.pf.MetaData(), size: r.src.size}
}

// OpenParquetFooter opens the Parquet file at path like OpenParquet, but
// takes its footer from footer, which must come from the same file (same
// bytes), instead of reading it. If the file's size is not that of the
// file footer came from, footer is ignored and the file's own is read. A
// nil footer is the same as OpenParquet.
func OpenParquetFooter(fsys afero.Fs, path string, footer *ParquetFooter, opts ...ReadOption) (*ParquetReader, error) {
	cfg, err := NewReadConfig(opts...)
	if err != nil {
		return nil, err
	}
	cfg.Format = FormatParquet
	return openParquetFile(fsys, path, cfg, footer)
}

func openParquet(fsys afero.Fs, path string, cfg ReadConfig) (Reader, error) {
	r, err := openParquetReader(fsys, path, cfg)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func openParquetReader(fsys afero.Fs, path string, cfg ReadConfig) (*ParquetReader, error) {
	return openParquetFile(fsys, path, cfg, nil)
}

// openParquetFile opens a reader, with a footer read before or nil.
func openParquetFile(fsys afero.Fs, path string, cfg ReadConfig, footer *ParquetFooter) (r *ParquetReader, err error) {
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	limit := cfg.PrebufferBytes
	if limit == 0 {
		limit = DefaultPrebuffer
	}
	src, err := newParquetSource(f, limit)
	if err != nil {
		f.Close()
		return nil, NewPosError(path, err)
	}
	r = &ParquetReader{path: path, cfg: cfg, f: f, src: src}
	defer func() {
		if err != nil {
			src.close()
			r = nil
		}
	}()
	if footer != nil && footer.size != src.size {
		footer = nil // another file, or it changed: read its own
	}
	if footer == nil {
		tail := src.prebufferFooter()
		defer tail.release()
		if err := checkParquetMagic(src); err != nil {
			return nil, NewPosError(path, err)
		}
	}
	props := parquet.NewReaderProperties(cfg.Allocator)
	// Local files are read a page at a time, straight into the page
	// decoder's reused buffer; remote ones a column chunk at a time (see
	// ParquetReader).
	props.BufferedStreamEnabled = !src.remote
	props.BufferSize = localPageBuffer
	props.MaxCompressedPageSize = parquetMaxPageSize
	props.MaxUncompressedPageSize = parquetMaxPageSize
	open := func(opts ...file.ReadOption) error {
		return protect(func() error {
			pf, err := file.NewParquetReader(src, append(opts, file.WithReadProps(props))...)
			if err != nil {
				return classifyParquetErr(err)
			}
			if pf.MetaData().IsSetEncryptionAlgorithm() {
				return fmt.Errorf("%w: encrypted Parquet is unsupported", ErrUnsupported)
			}
			if err := checkArrowSchemaFraming(pf.MetaData()); err != nil {
				return err
			}
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(cfg.BatchSize), PreAllocBinaryData: true}, cfg.Allocator)
			if err != nil {
				return classifyParquetErr(err)
			}
			r.pf, r.fr = pf, fr
			return nil
		})
	}
	if footer != nil {
		err = open(file.WithMetadata(footer.md))
	} else {
		err = open()
	}
	if err != nil && footer == nil && !errors.Is(err, ErrUnsupported) {
		// arrow-go rejects some valid schemas (unknown logical types, MAP
		// keys that are not required); retry once with a repaired footer.
		var md *metadata.FileMetaData
		ferr := protect(func() (err error) {
			md, _, err = sanitizedFooter(src)
			return err
		})
		if ferr == nil {
			if err2 := open(file.WithMetadata(md)); err2 == nil {
				err = nil
			}
		}
	}
	if err != nil {
		return nil, NewPosError(path, err)
	}
	md := r.pf.MetaData()
	for g := range md.NumRowGroups() {
		if n := md.RowGroup(g).NumColumns(); n != md.Schema.NumColumns() {
			return nil, &PosError{Path: path, RowGroup: g, Batch: -1,
				Err: fmt.Errorf("%w: row group has %d column chunks, the schema %d columns", ErrCorrupt, n, md.Schema.NumColumns())}
		}
	}
	if err := r.resolveSchema(); err != nil {
		return nil, err
	}
	return r, nil
}

// resolveSchema computes the file schema, the projection and the row groups.
func (r *ParquetReader) resolveSchema() error {
	fields := r.fr.Manifest.Fields
	all := make([]arrow.Field, len(fields))
	for i, sf := range fields {
		all[i] = *sf.Field
		all[i] = dropFieldIDs(all[i])
	}
	int96 := make([]int, len(all))
	legacy := make([]bool, len(all))
	root := r.pf.MetaData().Schema.Root()
	for i, sf := range fields {
		if i < root.NumFields() {
			if dt, ok := legacyListElem(root.Field(i), all[i].Type); ok {
				all[i].Type, legacy[i] = dt, true
			}
		}
		int96[i] = -1
		if len(sf.Children) == 0 && sf.IsLeaf() {
			col := r.pf.MetaData().Schema.Column(sf.ColIndex)
			if col.PhysicalType() == parquet.Types.Int96 && col.MaxRepetitionLevel() == 0 {
				tz := ""
				if ts, ok := all[i].Type.(*arrow.TimestampType); ok {
					tz = ts.TimeZone
				}
				all[i].Type = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: tz}
				int96[i] = sf.ColIndex
			}
		}
	}
	md := r.fr.Manifest.SchemaMeta
	r.fileSchema = arrow.NewSchema(all, md)

	if r.cfg.Columns == nil {
		r.fields = make([]int, len(all))
		for i := range all {
			r.fields[i] = i
		}
		r.schema = r.fileSchema
	} else {
		out := make([]arrow.Field, 0, len(r.cfg.Columns))
		for _, name := range r.cfg.Columns {
			idx := r.fileSchema.FieldIndices(name)
			if len(idx) == 0 {
				return &PosError{Path: r.path, RowGroup: -1, Batch: -1, ColumnName: name,
					Err: fmt.Errorf("%w: no column %q in file", ErrSchema, name)}
			}
			if slices.Contains(r.fields, idx[0]) {
				return &PosError{Path: r.path, RowGroup: -1, Batch: -1, ColumnName: name,
					Err: fmt.Errorf("%w: column %q selected twice", ErrSchema, name)}
			}
			r.fields = append(r.fields, idx[0])
			out = append(out, all[idx[0]])
		}
		r.schema = arrow.NewSchema(out, md)
	}

	r.leaves = make([]map[int]bool, len(r.fields))
	r.int96 = make([]int, len(r.fields))
	r.legacy = make([]bool, len(r.fields))
	for i, fi := range r.fields {
		r.int96[i] = int96[fi]
		r.legacy[i] = legacy[fi]
		r.leaves[i] = map[int]bool{}
		collectLeaves(&fields[fi], r.leaves[i])
	}

	// Column readers are made in file order, so that a row group's chunks
	// are read front to back.
	first := make([]int, len(r.fields))
	r.order = make([]int, len(r.fields))
	for i := range r.fields {
		r.order[i] = i
		first[i] = r.int96[i]
		for col := range r.leaves[i] {
			if first[i] < 0 || col < first[i] {
				first[i] = col
			}
		}
	}
	slices.SortStableFunc(r.order, func(a, b int) int { return first[a] - first[b] })

	n := r.pf.NumRowGroups()
	if r.cfg.RowGroups == nil {
		r.rowGroups = make([]int, n)
		for i := range n {
			r.rowGroups[i] = i
		}
	} else {
		for _, g := range r.cfg.RowGroups {
			if g < 0 || g >= n {
				return &PosError{Path: r.path, RowGroup: g, Batch: -1,
					Err: fmt.Errorf("%w: row group %d out of range (file has %d)", ErrSchema, g, n)}
			}
		}
		r.rowGroups = slices.Clone(r.cfg.RowGroups)
	}
	return nil
}

// dropUnsetFieldID removes the "PARQUET:field_id": "-1" entry pqarrow adds
// to every field of files written without field ids; it carries nothing.
func dropUnsetFieldID(md arrow.Metadata) arrow.Metadata {
	i := md.FindKey("PARQUET:field_id")
	if i < 0 || md.Values()[i] != "-1" {
		return md
	}
	keys, vals := slices.Delete(slices.Clone(md.Keys()), i, i+1), slices.Delete(slices.Clone(md.Values()), i, i+1)
	return arrow.NewMetadata(keys, vals)
}

// dropFieldIDs applies dropUnsetFieldID to f and every nested field.
func dropFieldIDs(f arrow.Field) arrow.Field {
	f.Metadata = dropUnsetFieldID(f.Metadata)
	switch t := f.Type.(type) {
	case *arrow.ListType:
		f.Type = arrow.ListOfField(dropFieldIDs(t.ElemField()))
	case *arrow.LargeListType:
		f.Type = arrow.LargeListOfField(dropFieldIDs(t.ElemField()))
	case *arrow.FixedSizeListType:
		f.Type = arrow.FixedSizeListOfField(t.Len(), dropFieldIDs(t.ElemField()))
	case *arrow.MapType:
		m := arrow.MapOfFields(dropFieldIDs(t.KeyField()), dropFieldIDs(t.ItemField()))
		m.KeysSorted = t.KeysSorted
		f.Type = m
	case *arrow.StructType:
		fs := slices.Clone(t.Fields())
		for i := range fs {
			fs[i] = dropFieldIDs(fs[i])
		}
		f.Type = arrow.StructOf(fs...)
	}
	return f
}

func collectLeaves(sf *pqarrow.SchemaField, into map[int]bool) {
	if len(sf.Children) == 0 {
		if sf.IsLeaf() {
			into[sf.ColIndex] = true
		}
		return
	}
	for i := range sf.Children {
		collectLeaves(&sf.Children[i], into)
	}
}

// Path returns the path the reader was opened with.
func (r *ParquetReader) Path() string { return r.path }

// Format returns FormatParquet.
func (r *ParquetReader) Format() Format { return FormatParquet }

// Schema returns the output schema, after projection. Nested columns keep
// all their leaves.
func (r *ParquetReader) Schema() *arrow.Schema { return r.schema }

// FileSchema returns the Arrow schema of the whole file, ignoring projection.
func (r *ParquetReader) FileSchema() *arrow.Schema { return r.fileSchema }

// NumRows returns the rows in the selected row groups, from the footer.
func (r *ParquetReader) NumRows() (int64, bool) {
	var n int64
	md := r.pf.MetaData()
	for _, g := range r.rowGroups {
		n += md.RowGroup(g).NumRows()
	}
	return n, true
}

// Close closes the file. Batches retained by the caller stay valid.
func (r *ParquetReader) Close() error {
	if r.f == nil {
		return nil
	}
	err := r.src.close() // waits for groups being prepared
	r.ahead.releaseAll(r.src)
	r.src.discards.Wait()
	r.f = nil
	return err
}

// Batches yields the selected row groups as batches of at most the
// configured batch size; a batch never spans two row groups. Top-level
// columns are decoded in parallel on up to cfg.Workers goroutines. Errors
// are *PosError values naming the row group and, where known, the column,
// and wrap ErrCorrupt or ErrUnsupported. A panic inside the Parquet library
// is recovered and reported as ErrCorrupt.
func (r *ParquetReader) Batches(ctx context.Context) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		if r.f == nil {
			yield(nil, NewPosError(r.path, errors.New("arrowio: reader is closed")))
			return
		}
		r.readGroups(ctx, r.rowGroups, yield)
	}
}

// readGroups yields the batches of groups in order. On remote files it
// fetches the next group's column chunks while the current one decodes.
func (r *ParquetReader) readGroups(ctx context.Context, groups []int, yield func(arrow.RecordBatch, error) bool) {
	pending := -1 // group fetched ahead for this call, not read yet
	defer func() {
		if pending >= 0 {
			r.ahead.take(pending).discard(r.src)
		}
	}()
	for k, g := range groups {
		pending = -1
		next := -1
		if k+1 < len(groups) {
			next = groups[k+1]
			pending = next
		}
		if !r.readRowGroup(ctx, g, next, yield) {
			return
		}
	}
}

// readRowGroup yields the batches of row group g; it returns false when
// iteration must stop. It uses g's column chunks if they were fetched
// ahead (else fetches them now) and, once g's column readers hold their
// chunks, starts fetching those of group next (-1: none) while g decodes.
func (r *ParquetReader) readRowGroup(ctx context.Context, g, next int, yield func(arrow.RecordBatch, error) bool) bool {
	fail := func(col string, err error) bool {
		var pe *PosError
		if !errors.As(err, &pe) {
			err = &PosError{Path: r.path, RowGroup: g, Batch: -1, ColumnName: col, Err: err}
		}
		yield(nil, err)
		return false
	}
	nrows := r.pf.MetaData().RowGroup(g).NumRows()
	r.ahead.begin(g)
	var readers []columnSource
	if pg := r.ahead.take(g); pg != nil {
		readers = pg.use(r.src) // nil if its preparation failed: try again
	}
	if readers == nil {
		var bad int
		var err error
		readers, bad, err = r.openColumns(ctx, g)
		if err != nil {
			r.ahead.end(g)
			return fail(r.schema.Field(bad).Name, err)
		}
	}
	defer func() {
		for _, cr := range readers {
			cr.release()
		}
	}()
	// The column readers hold their chunks: fetch the next group's while
	// this one decodes.
	r.ahead.end(g)
	if next >= 0 {
		r.prefetch(next)
	}
	batch := int64(r.cfg.BatchSize)
	if batch <= 0 {
		batch = nrows
	}
	cols := make([]arrow.Array, len(readers))
	errs := make([]error, len(readers))
	for done := int64(0); done < nrows; {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return false
		}
		n := min(batch, nrows-done)
		r.readColumns(readers, n, cols, errs)
		for i, err := range errs {
			if err != nil {
				releaseAll(cols)
				return fail(r.schema.Field(i).Name, err)
			}
		}
		for i, c := range cols {
			got, ok := arrayLen(c)
			if !ok {
				releaseAll(cols)
				return fail(r.schema.Field(i).Name, fmt.Errorf("%w: column yielded no data, want %d rows", ErrCorrupt, n))
			}
			if int64(got) != n {
				releaseAll(cols)
				return fail(r.schema.Field(i).Name, fmt.Errorf("%w: column yielded %d rows, want %d", ErrCorrupt, got, n))
			}
		}
		rec := array.NewRecordBatch(r.schema, cols, n)
		releaseAll(cols)
		done += n
		ok := yield(rec, nil)
		rec.Release()
		if !ok {
			return false
		}
	}
	return true
}

// openColumns makes the column readers of row group g, which read their
// column chunks (from memory or a streamed response when the group was
// registered so, see parquetSource). On failure it returns the output
// column that failed.
func (r *ParquetReader) openColumns(ctx context.Context, g int) ([]columnSource, int, error) {
	bad := 0
	if err := protect(func() (err error) {
		bad, err = r.checkChunks(g)
		return err
	}); err != nil {
		return nil, max(bad, 0), err
	}
	cur := r.src.stream(r.groupRanges(g))
	defer cur.release()
	readers := make([]columnSource, len(r.fields))
	for _, i := range r.order {
		fi := r.fields[i]
		err := protect(func() error {
			if r.int96[i] >= 0 {
				src, err := newInt96Source(r.pf, g, r.int96[i], r.schema.Field(i).Type.(*arrow.TimestampType), r.cfg.Allocator)
				if err != nil {
					return err
				}
				readers[i] = src
				return nil
			}
			cr, err := r.fr.GetFieldReader(ctx, fi, r.leaves[i], []int{g})
			if err != nil {
				return classifyParquetErr(err)
			}
			if cr == nil {
				return fmt.Errorf("%w: column has no readable leaves", ErrUnsupported)
			}
			readers[i] = &pqarrowSource{cr: cr, dt: r.schema.Field(i).Type, mem: r.cfg.Allocator, legacy: r.legacy[i]}
			return nil
		})
		if err != nil {
			for _, cr := range readers {
				if cr != nil {
					cr.release()
				}
			}
			return nil, i, err
		}
	}
	return readers, -1, nil
}

// checkChunks checks that the column chunks of row group g that the
// reader needs lie within the file, before arrow-go reads them: it
// allocates a chunk's recorded length unchecked, on goroutines of its own
// for nested columns, where a negative length is a panic no recover can
// catch. On failure it returns the output column concerned.
func (r *ParquetReader) checkChunks(g int) (int, error) {
	rg := r.pf.MetaData().RowGroup(g)
	for i := range r.fields {
		cols := []int{r.int96[i]}
		if r.int96[i] < 0 {
			cols = cols[:0]
			for col := range r.leaves[i] {
				cols = append(cols, col)
			}
		}
		for _, col := range cols {
			cc, err := rg.ColumnChunk(col)
			if err != nil {
				return i, fmt.Errorf("%w: column chunk %d: %v", ErrCorrupt, col, err)
			}
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && start > cc.DictionaryPageOffset() {
				start = cc.DictionaryPageOffset()
			}
			n := cc.TotalCompressedSize()
			if start < 0 || n < 0 || start > r.src.size || n > r.src.size-start {
				return i, fmt.Errorf("%w: column chunk at offset %d, %d bytes long, does not fit in the %d-byte file",
					ErrCorrupt, start, n, r.src.size)
			}
		}
	}
	return -1, nil
}

// readColumns reads the next n rows of every reader into cols, in parallel
// on up to cfg.Workers goroutines, recording failures in errs.
func (r *ParquetReader) readColumns(readers []columnSource, n int64, cols []arrow.Array, errs []error) {
	read := func(i int) {
		cols[i], errs[i] = nil, nil
		errs[i] = protect(func() error {
			a, err := readers[i].next(n)
			cols[i] = a
			return err
		})
	}
	workers := min(r.cfg.Workers, len(readers))
	if workers <= 1 {
		for i := range readers {
			read(i)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				read(i)
			}
		})
	}
	for i := range readers {
		next <- i
	}
	close(next)
	wg.Wait()
}

// arrayLen returns a's length; ok is false for a nil array, including a
// typed nil that arrow-go returns for some damaged pages.
func arrayLen(a arrow.Array) (n int, ok bool) {
	if a == nil {
		return 0, false
	}
	defer func() {
		if recover() != nil {
			n, ok = 0, false
		}
	}()
	return a.Len(), true
}

func releaseAll(cols []arrow.Array) {
	for i, c := range cols {
		if _, ok := arrayLen(c); ok {
			c.Release()
		}
		cols[i] = nil
	}
}

// protect runs fn and turns a panic into an error wrapping ErrCorrupt:
// arrow-go panics on some malformed inputs.
func protect(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			if debugParquetPanics {
				err = fmt.Errorf("%w: parquet library panicked: %v\n%s", ErrCorrupt, p, debug.Stack())
				return
			}
			err = fmt.Errorf("%w: parquet library panicked: %v", ErrCorrupt, p)
		}
	}()
	return fn()
}

// debugParquetPanics adds stack traces to recovered panics (tests only).
var debugParquetPanics = false

// classifyParquetErr wraps an error from arrow-go in the matching sentinel.
func classifyParquetErr(err error) error {
	if err == nil || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsupported) || errors.Is(err, ErrSchema) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	switch {
	case bytes.Contains([]byte(msg), []byte("encrypt")):
		return fmt.Errorf("%w: encrypted Parquet is unsupported (%v)", ErrUnsupported, err)
	case bytes.Contains([]byte(msg), []byte("not implemented")), bytes.Contains([]byte(msg), []byte("unsupported")),
		bytes.Contains([]byte(msg), []byte("not supported")):
		return fmt.Errorf("%w: %v", ErrUnsupported, err)
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}

// checkParquetMagic tells a Parquet file from anything else before the
// library parses it: "PAR1" at both ends, "PARE" at the end for an
// encrypted footer. On remote files only the end is checked, as Parquet
// readers generally do: the head would cost a request of its own, and a
// file whose footer checks out but whose first bytes are damaged fails at
// its first page anyway.
func checkParquetMagic(src *parquetSource) error {
	if src.size < 12 {
		return fmt.Errorf("%w: not a Parquet file (%d bytes, too short)", ErrCorrupt, src.size)
	}
	head, tail := [4]byte{'P', 'A', 'R', '1'}, [4]byte{}
	if !src.remote {
		if _, err := src.ReadAt(head[:], 0); err != nil {
			return fmt.Errorf("%w: reading header: %v", ErrCorrupt, err)
		}
	}
	if _, err := src.ReadAt(tail[:], src.size-4); err != nil {
		return fmt.Errorf("%w: reading footer: %v", ErrCorrupt, err)
	}
	switch {
	case string(tail[:]) == "PARE":
		return fmt.Errorf("%w: encrypted Parquet is unsupported", ErrUnsupported)
	case string(head[:]) != "PAR1" && string(head[:]) != "PARE", string(tail[:]) != "PAR1":
		return fmt.Errorf("%w: not a Parquet file (bad magic bytes)", ErrCorrupt)
	}
	return nil
}

// checkArrowSchemaFraming checks the framing of the IPC message in the
// footer's ARROW:schema entry before pqarrow decodes it: arrow-go
// allocates the length the message claims unchecked, and a damaged length
// makes it ask for gigabytes (an out-of-memory crash, not a panic).
func checkArrowSchemaFraming(md *metadata.FileMetaData) error {
	kv := md.KeyValueMetadata()
	if kv == nil {
		return nil
	}
	enc := kv.FindValue("ARROW:schema")
	if enc == nil {
		return nil
	}
	var data []byte
	var err error
	if len(*enc)%4 == 0 {
		data, err = base64.StdEncoding.DecodeString(*enc)
	}
	if len(data) == 0 || err != nil {
		data, err = base64.RawStdEncoding.DecodeString(*enc)
	}
	if err != nil {
		return nil // pqarrow reports it
	}
	if len(data) >= 4 && binary.LittleEndian.Uint32(data) == 0xFFFFFFFF {
		data = data[4:] // continuation marker
	}
	if len(data) < 4 {
		return nil
	}
	n := int32(binary.LittleEndian.Uint32(data))
	if n < 0 || int64(n) > int64(len(data)-4) {
		return fmt.Errorf("%w: the ARROW:schema footer entry claims a %d-byte message in %d bytes", ErrCorrupt, n, len(data)-4)
	}
	if !checkSchemaMessage(fbuf(data[4:4+n]), int64(len(data)-4-int(n))) {
		return fmt.Errorf("%w: the ARROW:schema footer entry has a damaged message", ErrCorrupt)
	}
	return nil
}

// fbuf reads a flatbuffer with every offset and length checked against
// its size, so that a damaged one is reported instead of making arrow-go
// (which trusts them) allocate absurd sizes.
type fbuf []byte

func (b fbuf) u32(at int) (int, bool) {
	if at < 0 || at > len(b)-4 {
		return 0, false
	}
	return int(binary.LittleEndian.Uint32(b[at:])), true
}

func (b fbuf) u16(at int) (int, bool) {
	if at < 0 || at > len(b)-2 {
		return 0, false
	}
	return int(binary.LittleEndian.Uint16(b[at:])), true
}

// field returns the position of field i of the table at t, 0 when absent.
func (b fbuf) field(t, i int) (int, bool) {
	soff, ok := b.u32(t)
	if !ok {
		return 0, false
	}
	vt := t - int(int32(uint32(soff)))
	vtLen, ok := b.u16(vt)
	if !ok {
		return 0, false
	}
	slot := 4 + 2*i
	if vtLen < slot+2 {
		return 0, true
	}
	off, ok := b.u16(vt + slot)
	if !ok || off == 0 {
		return 0, ok
	}
	return t + off, true
}

// ref follows the offset stored at pos (to a table, vector or string).
func (b fbuf) ref(pos int) (int, bool) {
	off, ok := b.u32(pos)
	if !ok {
		return 0, false
	}
	return pos + off, pos+off < len(b)
}

// vector returns the start and length of the vector field i of table t
// (elements of size elem), checking that it fits; absent is empty.
func (b fbuf) vector(t, i, elem int) (start, n int, ok bool) {
	pos, ok := b.field(t, i)
	if !ok || pos == 0 {
		return 0, 0, ok
	}
	v, ok := b.ref(pos)
	if !ok {
		return 0, 0, false
	}
	n, ok = b.u32(v)
	if !ok || n > (len(b)-v-4)/elem {
		return 0, 0, false
	}
	return v + 4, n, true
}

// tables checks a vector of tables (field i of t) with check.
func (b fbuf) tables(t, i int, check func(int) bool) bool {
	start, n, ok := b.vector(t, i, 4)
	for k := 0; ok && k < n; k++ {
		var e int
		if e, ok = b.ref(start + 4*k); ok {
			ok = check(e)
		}
	}
	return ok
}

// keyValues checks a vector of KeyValue tables (two strings each).
func (b fbuf) keyValues(t, i int) bool {
	return b.tables(t, i, func(kv int) bool {
		_, _, ok1 := b.vector(kv, 0, 1)
		_, _, ok2 := b.vector(kv, 1, 1)
		return ok1 && ok2
	})
}

// checkSchemaMessage checks an Arrow IPC Message holding a Schema: the
// body length it claims (at most rest), and every vector of the schema and
// its fields (names, children, metadata, union type ids).
func checkSchemaMessage(b fbuf, rest int64) bool {
	msg, ok := b.ref(0)
	if !ok {
		return false
	}
	if pos, ok := b.field(msg, 3); !ok {
		return false
	} else if pos != 0 {
		if pos < 0 || pos > len(b)-8 {
			return false
		}
		if body := int64(binary.LittleEndian.Uint64(b[pos:])); body < 0 || body > rest {
			return false
		}
	}
	pos, ok := b.field(msg, 2) // header: the Schema table
	if !ok || pos == 0 {
		return false // arrow-go reads a missing header as a table at 0
	}
	if !b.keyValues(msg, 4) {
		return false
	}
	schema, ok := b.ref(pos)
	if !ok || !b.keyValues(schema, 2) {
		return false
	}
	if _, _, ok := b.vector(schema, 3, 8); !ok { // features
		return false
	}
	var field func(f, depth int) bool
	field = func(f, depth int) bool {
		if depth > 64 {
			return false
		}
		if _, _, ok := b.vector(f, 0, 1); !ok { // name
			return false
		}
		if tp, ok := b.field(f, 3); !ok { // type table: a Union's typeIds
			return false
		} else if tp != 0 {
			t, ok := b.ref(tp)
			if !ok {
				return false
			}
			if tt, ok := b.field(f, 2); !ok {
				return false
			} else if tt != 0 && tt < len(b) && b[tt] == 14 { // Type.Union
				if _, _, ok := b.vector(t, 1, 4); !ok {
					return false
				}
			}
		}
		return b.keyValues(f, 6) && b.tables(f, 5, func(c int) bool { return field(c, depth+1) })
	}
	return b.tables(schema, 1, func(f int) bool { return field(f, 0) })
}
