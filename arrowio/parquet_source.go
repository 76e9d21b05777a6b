package arrowio

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/spf13/afero"
	"github.com/spf13/afero/mem"
)

// DefaultPrebuffer is the default of ReadConfig.PrebufferBytes: the most
// bytes a Parquet reader holds in memory at once, per open file, for column
// chunks it fetched ahead of decoding from a remote file.
const DefaultPrebuffer = 64 << 20

const (
	// prebufferHole is the widest gap between two column chunks that one
	// read still spans: over HTTP, fetching up to a megabyte more costs
	// less than the latency of another request.
	prebufferHole = 1 << 20
	// footerTail is how many bytes at the end of a remote file are fetched
	// at open, so that the magic bytes, the footer length and (for most
	// files) the footer itself come in one request.
	footerTail = 64 << 10
)

// parquetSource adapts an afero.File to parquet.ReaderAtSeeker. Only ReadAt
// touches the file; Seek answers from the size taken at open.
//
// ReadAt is serialised by a mutex only for file types known not to support
// concurrent ReadAt (afero's in-memory file moves a shared offset inside
// ReadAt, spf13/afero#433; its union and regexp files may wrap one). Other
// files follow the io.ReaderAt contract and are read concurrently.
//
// For files that are neither on the local disk nor in memory (hubfs, any
// network filesystem: "remote"), the reader fetches the byte ranges it is
// about to need with as few ReadAt calls as possible (prebuffer) and ReadAt
// answers from those buffers while they are held.
type parquetSource struct {
	f      afero.File
	size   int64
	pos    int64
	mu     *sync.Mutex // nil when f supports concurrent ReadAt
	remote bool        // each ReadAt costs a request: prebuffer
	limit  int64       // most bytes held in buffers at once; <= 0: no prebuffer

	bmu   sync.Mutex
	held  []*prebuf // buffers ReadAt consults, by registration order
	bytes int64     // bytes of held
	fetch sync.WaitGroup
}

// prebuf is one byte range of the file being fetched or held in memory.
type prebuf struct {
	off   int64
	data  []byte        // len is the range's length; filled once ready is closed
	ready chan struct{} // closed when the fetch ended (err says how)
	err   error
}

// prebufSet is what one prebuffer call registered; release drops it.
type prebufSet struct {
	s    *parquetSource
	bufs []*prebuf
	size int64
	once sync.Once
}

func newParquetSource(f afero.File, limit int64) (*parquetSource, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("%w: not a Parquet file (a directory)", ErrCorrupt)
	}
	s := &parquetSource{f: f, size: fi.Size(), limit: limit}
	switch innerFile(f).(type) {
	case *os.File:
	case *mem.File, *afero.UnionFile, *afero.RegexpFile:
		s.mu = new(sync.Mutex)
	default:
		s.remote = true
	}
	return s, nil
}

// innerFile follows wrappers (afero's BasePathFile, any FileUnwrapper) to
// the innermost file.
func innerFile(f afero.File) afero.File {
	for range 8 { // bounded: wrappers may nest
		switch v := f.(type) {
		case *afero.BasePathFile:
			f = v.File
		case FileUnwrapper:
			f = v.Unwrap()
		default:
			return f
		}
	}
	return f
}

func (s *parquetSource) ReadAt(p []byte, off int64) (int, error) {
	if b := s.lookup(off, int64(len(p))); b != nil {
		<-b.ready
		if b.err != nil {
			return 0, b.err
		}
		return copy(p, b.data[off-b.off:]), nil
	}
	return s.readFile(p, off)
}

func (s *parquetSource) readFile(p []byte, off int64) (int, error) {
	if s.mu != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	return s.f.ReadAt(p, off)
}

// lookup returns a held buffer covering [off, off+n), or nil.
func (s *parquetSource) lookup(off, n int64) *prebuf {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	for i := len(s.held) - 1; i >= 0; i-- {
		b := s.held[i]
		if off >= b.off && off+n <= b.off+int64(len(b.data)) {
			return b
		}
	}
	return nil
}

// prebuffer starts fetching ranges (already coalesced, see coalesceRanges)
// on their own goroutines, one ReadAt each, and registers them so that
// ReadAt calls inside a range wait for it and copy from memory instead of
// reading the file. It returns nil, fetching nothing, when the file is not
// remote, when prebuffering is disabled, or when the ranges would take the
// bytes held beyond the limit (the reads then go to the file as usual).
// The caller must release the set.
func (s *parquetSource) prebuffer(ranges []byteRange) *prebufSet {
	if !s.remote || s.limit <= 0 || len(ranges) == 0 {
		return nil
	}
	var total int64
	for _, r := range ranges {
		total += r.n
	}
	s.bmu.Lock()
	if s.bytes+total > s.limit {
		s.bmu.Unlock()
		return nil
	}
	set := &prebufSet{s: s, size: total}
	for _, r := range ranges {
		b := &prebuf{off: r.off, data: make([]byte, r.n), ready: make(chan struct{})}
		set.bufs = append(set.bufs, b)
		s.held = append(s.held, b)
	}
	s.bytes += total
	s.bmu.Unlock()
	for _, b := range set.bufs {
		s.fetch.Go(func() {
			defer close(b.ready)
			n, err := s.readFile(b.data, b.off)
			if n == len(b.data) {
				err = nil // io.EOF with a full read at the end of the file
			} else if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: file ends at %d bytes, within the range %d-%d the footer describes",
					ErrCorrupt, b.off+int64(n), b.off, b.off+int64(len(b.data)))
			}
			b.err = err
		})
	}
	return set
}

// release unregisters the set's buffers; ReadAt calls already waiting on
// them still complete. It is safe on a nil set and idempotent.
func (set *prebufSet) release() {
	if set == nil {
		return
	}
	set.once.Do(func() {
		s := set.s
		s.bmu.Lock()
		s.held = slices.DeleteFunc(s.held, func(b *prebuf) bool { return slices.Contains(set.bufs, b) })
		s.bytes -= set.size
		s.bmu.Unlock()
	})
}

// close closes the file, then waits for fetches still running (they fail
// quickly on a closed file).
func (s *parquetSource) close() error {
	err := s.f.Close()
	s.fetch.Wait()
	return err
}

// prebufferFooter fetches the first magic bytes and the tail of a remote
// file in parallel, so that opening it costs two concurrent requests
// whatever arrow-go reads of the footer (as long as the footer fits in
// footerTail bytes). Small files are fetched whole in one request.
func (s *parquetSource) prebufferFooter() *prebufSet {
	if s.size <= footerTail+4 {
		return s.prebuffer([]byteRange{{0, s.size}})
	}
	return s.prebuffer([]byteRange{{0, 4}, {s.size - footerTail, footerTail}})
}

func (s *parquetSource) Read(p []byte) (int, error) {
	if s.pos >= s.size {
		return 0, io.EOF
	}
	n, err := s.ReadAt(p, s.pos)
	s.pos += int64(n)
	return n, err
}

func (s *parquetSource) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += s.pos
	case io.SeekEnd:
		offset += s.size
	default:
		return 0, fmt.Errorf("arrowio: bad whence %d", whence)
	}
	if offset < 0 {
		return 0, errors.New("arrowio: negative seek position")
	}
	s.pos = offset
	return offset, nil
}

// byteRange is n bytes of a file from off.
type byteRange struct{ off, n int64 }

// coalesceRanges sorts ranges and merges those that overlap or are at most
// hole bytes apart, as long as a merged range stays within limit bytes (a
// single range larger than limit is kept as it is).
func coalesceRanges(ranges []byteRange, hole, limit int64) []byteRange {
	rs := slices.Clone(ranges)
	slices.SortFunc(rs, func(a, b byteRange) int {
		switch {
		case a.off < b.off:
			return -1
		case a.off > b.off:
			return 1
		}
		return 0
	})
	var out []byteRange
	for _, r := range rs {
		if r.n <= 0 {
			continue
		}
		if k := len(out) - 1; k >= 0 {
			last := &out[k]
			end := max(last.off+last.n, r.off+r.n)
			if r.off <= last.off+last.n+hole && end-last.off <= limit {
				last.n = end - last.off
				continue
			}
		}
		out = append(out, r)
	}
	return out
}

// maxDictHeaderPadding is what arrow-go adds to a column chunk's length for
// files of old parquet-mr writers (PARQUET-816), whose recorded length
// misses the dictionary page header; ranges include it so that the padded
// read is still served from memory.
const maxDictHeaderPadding = 100

// groupRanges returns the coalesced byte ranges of the column chunks of row
// group g that the reader's columns need. Chunks whose footer entries do
// not fit in the file are left out: reading them reports the damage.
func (r *ParquetReader) groupRanges(g int) []byteRange {
	if !r.src.remote || r.src.limit <= 0 || g < 0 || g >= r.pf.NumRowGroups() {
		return nil
	}
	rg := r.pf.MetaData().RowGroup(g)
	var ranges []byteRange
	add := func(col int) {
		cc, err := rg.ColumnChunk(col)
		if err != nil {
			return
		}
		start := cc.DataPageOffset()
		if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && start > cc.DictionaryPageOffset() {
			start = cc.DictionaryPageOffset()
		}
		n := cc.TotalCompressedSize()
		if start < 0 || n <= 0 || start > r.src.size || n > r.src.size-start {
			return
		}
		n += min(maxDictHeaderPadding, r.src.size-start-n)
		ranges = append(ranges, byteRange{start, n})
	}
	for i := range r.fields {
		if r.int96[i] >= 0 {
			add(r.int96[i])
			continue
		}
		for col := range r.leaves[i] {
			add(col)
		}
	}
	return coalesceRanges(ranges, prebufferHole, r.src.limit)
}
