package arrowio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/quiverdata/quiver/internal/recycle"
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
// network filesystem: "remote"), the reader registers the byte ranges it
// is about to read, coalesced: streamed from one response each when the
// file has OpenRange (stream), else fetched into memory with one ReadAt
// each (prebuffer). ReadAt calls inside a registered range are served from
// it while it is held.
type parquetSource struct {
	f      afero.File
	size   int64
	pos    int64
	mu     *sync.Mutex // nil when f supports concurrent ReadAt
	remote bool        // each ReadAt costs a request: prebuffer
	limit  int64       // most bytes held in buffers at once; <= 0: no prebuffer

	opener rangeOpener // f, when it can stream a range; nil otherwise

	bmu      sync.Mutex
	held     []*prebuf      // buffers ReadAt consults, by registration order
	wins     []*rangeWin    // streamed ranges ReadAt consults
	bytes    int64          // bytes of held buffers and prepared groups
	fetch    sync.WaitGroup // fetches and group preparations running
	discards sync.WaitGroup // prepared groups waiting to be dropped
}

// rangeOpener is implemented by remote files (hubfs) that can stream a
// byte range with one request: the reader then reads a row group's column
// chunks straight from the response into arrow-go's buffers, with no copy
// in between. Only the file the filesystem handed out is asked, never one
// unwrapped from it, so that wrappers still see every read.
type rangeOpener interface {
	// OpenRange returns a reader of the n bytes at off; the caller must
	// close it.
	OpenRange(off, n int64) (io.ReadCloser, error)
}

// rangeWin is a byte range being streamed in order from one response.
// ReadAt calls inside it at or after its position read from the response;
// anything else goes to the file.
type rangeWin struct {
	mu       sync.Mutex
	off, end int64
	pos      int64 // offset of the next byte body yields
	body     io.ReadCloser
	closed   bool
}

// winDrain is the most unread bytes a streamed range is read to its end
// for when released, so that its connection can be reused.
const winDrain = 256 << 10

// prebuf is one byte range of the file being fetched or held in memory.
type prebuf struct {
	off   int64
	data  []byte        // len is the range's length; filled once ready is closed
	ready chan struct{} // closed when the fetch ended (err says how)
	err   error
	users int  // ReadAt calls copying from data, under parquetSource.bmu
	freed bool // released: data goes back to the pool when users drop to 0
}

// prebufSet is what one prebuffer call registered; release drops it.
type prebufSet struct {
	s    *parquetSource
	bufs []*prebuf
	wins []*rangeWin
	size int64 // bytes of bufs
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
		s.opener, _ = f.(rangeOpener)
	}
	return s, nil
}

func (s *parquetSource) ReadAt(p []byte, off int64) (int, error) {
	b, w := s.lookup(off, int64(len(p)))
	if b != nil {
		defer s.unuse(b)
		<-b.ready
		if b.err != nil {
			return 0, b.err
		}
		return copy(p, b.data[off-b.off:]), nil
	}
	if w != nil {
		if n, err, ok := w.readAt(p, off); ok {
			return n, err
		}
	}
	return s.readFile(p, off)
}

// readAt reads p at off from the response when off is at or after its
// position; ok is false when it cannot (off is behind, or it is closed).
func (w *rangeWin) readAt(p []byte, off int64) (n int, err error, ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || off < w.pos {
		return 0, nil, false
	}
	if skip := off - w.pos; skip > 0 {
		m, err := io.CopyN(io.Discard, w.body, skip)
		w.pos += m
		if err != nil {
			return 0, w.broken(err), true
		}
	}
	n, err = io.ReadFull(w.body, p)
	w.pos += int64(n)
	if err != nil {
		return n, w.broken(err), true
	}
	return n, nil, true
}

// broken turns an error reading the response into the error ReadAt
// returns: a response that ends early means the file is shorter than its
// footer says.
func (w *rangeWin) broken(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: file ends at %d bytes, within the range %d-%d the footer describes",
			ErrCorrupt, w.pos, w.off, w.end)
	}
	return err
}

// close drains a small unread rest (so the connection is reused) and
// closes the response.
func (w *rangeWin) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.closed = true
	if rest := w.end - w.pos; rest > 0 && rest <= winDrain {
		_, _ = io.CopyN(io.Discard, w.body, rest)
	}
	_ = w.body.Close()
}

func (s *parquetSource) readFile(p []byte, off int64) (int, error) {
	if s.mu != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
	}
	return s.f.ReadAt(p, off)
}

// lookup returns a held buffer or else a streamed range covering
// [off, off+n), or nils.
func (s *parquetSource) lookup(off, n int64) (*prebuf, *rangeWin) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	for i := len(s.held) - 1; i >= 0; i-- {
		b := s.held[i]
		if off >= b.off && off+n <= b.off+int64(len(b.data)) {
			b.users++
			return b, nil
		}
	}
	for i := len(s.wins) - 1; i >= 0; i-- {
		w := s.wins[i]
		if off >= w.off && off+n <= w.end {
			return nil, w
		}
	}
	return nil, nil
}

// stream registers ranges (already coalesced) to be read in order, each
// from one response, straight into the buffers of the ReadAt calls that
// fall inside. On files that cannot stream a range it prebuffers them
// instead. It returns nil, registering nothing, when the file is not
// remote or prebuffering is disabled. The caller must release the set.
func (s *parquetSource) stream(ranges []byteRange) *prebufSet {
	if s.opener == nil {
		return s.prebuffer(ranges)
	}
	if !s.remote || s.limit <= 0 || len(ranges) == 0 {
		return nil
	}
	set := &prebufSet{s: s}
	for _, r := range ranges {
		body, err := s.opener.OpenRange(r.off, r.n)
		if err != nil {
			continue // read through the file instead
		}
		set.wins = append(set.wins, &rangeWin{off: r.off, end: r.off + r.n, pos: r.off, body: body})
	}
	s.bmu.Lock()
	s.wins = append(s.wins, set.wins...)
	s.bmu.Unlock()
	return set
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
		b := &prebuf{off: r.off, data: recycle.Default.AllocateUnzeroed(int(r.n)), ready: make(chan struct{})}
		set.bufs = append(set.bufs, b)
		s.held = append(s.held, b)
	}
	s.bytes += total
	s.bmu.Unlock()
	for _, b := range set.bufs {
		s.fetch.Go(func() {
			n, err := s.readFile(b.data, b.off)
			if n == len(b.data) {
				err = nil // io.EOF with a full read at the end of the file
			} else if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: file ends at %d bytes, within the range %d-%d the footer describes",
					ErrCorrupt, b.off+int64(n), b.off, b.off+int64(len(b.data)))
			}
			b.err = err
			s.bmu.Lock()
			close(b.ready)
			s.recycleLocked(b)
			s.bmu.Unlock()
		})
	}
	return set
}

// unuse ends a ReadAt's use of b.
func (s *parquetSource) unuse(b *prebuf) {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	b.users--
	s.recycleLocked(b)
}

// recycleLocked returns the memory of a released buffer nobody reads to
// the pool, once its fetch has ended (a fetch still running keeps it).
func (s *parquetSource) recycleLocked(b *prebuf) {
	if !b.freed || b.users > 0 || b.data == nil {
		return
	}
	select {
	case <-b.ready:
	default:
		return // the fetch goroutine recycles it when done
	}
	recycle.Default.Free(b.data)
	b.data = nil
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
		for _, b := range set.bufs {
			b.freed = true
			s.recycleLocked(b)
		}
		s.wins = slices.DeleteFunc(s.wins, func(w *rangeWin) bool { return slices.Contains(set.wins, w) })
		s.bytes -= set.size
		s.bmu.Unlock()
		for _, w := range set.wins {
			w.close()
		}
	})
}

// close closes the file, then waits for fetches still running (they fail
// quickly on a closed file).
func (s *parquetSource) close() error {
	err := s.f.Close()
	s.fetch.Wait()
	return err
}

// prebufferFooter fetches the tail of a remote file, so that opening it
// costs one request whatever arrow-go reads of the footer (as long as the
// footer fits in footerTail bytes). Small files are fetched whole.
func (s *parquetSource) prebufferFooter() *prebufSet {
	return s.prebuffer([]byteRange{{max(s.size-footerTail, 0), min(s.size, footerTail)}})
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

// maxAhead is how many row groups a reader keeps prepared ahead of their
// read; beyond it the oldest is dropped. (PrebufferBytes bounds their
// bytes.)
const maxAhead = 4

// preparedGroup is a row group whose column readers were made ahead of its
// read, on their own goroutine: they hold the group's column chunks,
// fetched straight into them.
type preparedGroup struct {
	done    chan struct{} // closed when preparation ended
	readers []columnSource
	err     error
	bytes   int64 // reserved in the source's budget
	once    sync.Once
}

// use waits for the preparation and returns the readers, nil if it
// failed; the caller releases them.
func (p *preparedGroup) use(s *parquetSource) []columnSource {
	<-p.done
	var out []columnSource
	p.once.Do(func() {
		s.unreserve(p.bytes)
		if p.err == nil {
			out = p.readers
		}
		p.readers = nil
	})
	return out
}

// discard releases the readers once the preparation has ended (in the
// background if it has not). It is safe on nil.
func (p *preparedGroup) discard(s *parquetSource) {
	if p == nil {
		return
	}
	free := func() {
		p.once.Do(func() {
			s.unreserve(p.bytes)
			for _, cr := range p.readers {
				cr.release()
			}
			p.readers = nil
		})
	}
	select {
	case <-p.done:
		free()
	default:
		s.discards.Go(func() {
			<-p.done
			free()
		})
	}
}

// reserve takes n bytes of the prebuffer budget, if they fit.
func (s *parquetSource) reserve(n int64) bool {
	s.bmu.Lock()
	defer s.bmu.Unlock()
	if s.limit <= 0 || s.bytes+n > s.limit {
		return false
	}
	s.bytes += n
	return true
}

func (s *parquetSource) unreserve(n int64) {
	s.bmu.Lock()
	s.bytes -= n
	s.bmu.Unlock()
}

// aheadSets holds the row groups of one reader prepared ahead of their
// read, and which groups are being read. It is safe for concurrent use.
type aheadSets struct {
	mu      sync.Mutex
	sets    []aheadSet  // oldest first
	reading map[int]int // groups whose chunks are being read, with a count
}

type aheadSet struct {
	g  int
	pg *preparedGroup
}

// begin records that the read of group g starts. Until end(g), g counts
// as prepared (see has and put).
func (a *aheadSets) begin(g int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reading == nil {
		a.reading = map[int]int{}
	}
	a.reading[g]++
}

// end records that the column readers of g hold their chunks.
func (a *aheadSets) end(g int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reading[g]--; a.reading[g] <= 0 {
		delete(a.reading, g)
	}
}

// take removes and returns the prepared group g, or nil.
func (a *aheadSets) take(g int) *preparedGroup {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, s := range a.sets {
		if s.g == g {
			a.sets = slices.Delete(a.sets, i, i+1)
			return s.pg
		}
	}
	return nil
}

// has reports whether group g is prepared ahead or being read.
func (a *aheadSets) has(g int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.reading[g] > 0 || slices.ContainsFunc(a.sets, func(s aheadSet) bool { return s.g == g })
}

// put keeps pg as group g's, dropping the oldest beyond maxAhead; a group
// whose read began meanwhile is dropped.
func (a *aheadSets) put(g int, pg *preparedGroup, s *parquetSource) {
	a.mu.Lock()
	var drop []aheadSet
	if a.reading[g] > 0 {
		drop = append(drop, aheadSet{g, pg})
	} else {
		a.sets = append(a.sets, aheadSet{g, pg})
	}
	if n := len(a.sets) - maxAhead; n > 0 {
		drop = append(drop, a.sets[:n]...)
		a.sets = slices.Delete(a.sets, 0, n)
	}
	a.mu.Unlock()
	for _, d := range drop {
		d.pg.discard(s)
	}
}

// releaseAll drops every prepared group.
func (a *aheadSets) releaseAll(s *parquetSource) {
	a.mu.Lock()
	sets := a.sets
	a.sets = nil
	a.mu.Unlock()
	for _, d := range sets {
		d.pg.discard(s)
	}
}

// prefetch prepares group g ahead of its read on its own goroutine: its
// column chunks are fetched (streamed) straight into new column readers,
// which its read then takes. Nothing happens on local files, when g is
// prepared or being read already, or when its chunks do not fit in the
// prebuffer budget.
func (r *ParquetReader) prefetch(g int) {
	if !r.src.remote || r.ahead.has(g) {
		return
	}
	ranges := r.groupRanges(g)
	var total int64
	for _, rg := range ranges {
		total += rg.n
	}
	if total == 0 || !r.src.reserve(total) {
		return
	}
	pg := &preparedGroup{done: make(chan struct{}), bytes: total}
	r.src.fetch.Go(func() {
		defer close(pg.done)
		var bad int
		pg.readers, bad, pg.err = r.openColumns(context.Background(), g)
		_ = bad
	})
	r.ahead.put(g, pg, r.src)
}
