package hubfs

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/afero"
)

// ---- fetching byte ranges ---------------------------------------------------

// openRange starts a GET of [off, end) of e (end < 0: to the end of the
// file). It uses the file's cached download location while it is valid,
// re-resolving through /resolve/ on first use, on expiry and when the CDN
// refuses a cached URL. It returns the body positioned at off, or io.EOF
// when the server says the range starts past the end (416).
func (f *FS) openRange(ctx context.Context, e *Entry, off, end int64) (io.ReadCloser, error) {
	hdr := http.Header{}
	if end >= 0 {
		hdr.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-"+strconv.FormatInt(end-1, 10))
	} else {
		hdr.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	accept := []int{http.StatusRequestedRangeNotSatisfiable}
	for try := 0; ; try++ {
		f.mu.Lock()
		loc, cached := f.locs[e.Path]
		if cached && time.Until(loc.expires) <= 30*time.Second {
			cached = false
		}
		var resolved chan struct{} // closed when this request has resolved the location
		if !cached {
			if wait, ok := f.resolving[e.Path]; ok {
				// Another read is resolving the location: wait for it,
				// then use what it found (or resolve too if it failed).
				f.mu.Unlock()
				select {
				case <-wait:
				case <-ctx.Done():
					return nil, ctx.Err()
				}
				f.mu.Lock()
				loc, cached = f.locs[e.Path]
				cached = cached && time.Until(loc.expires) > 30*time.Second
			}
			if !cached && f.resolving[e.Path] == nil {
				if f.resolving == nil {
					f.resolving = map[string]chan struct{}{}
				}
				resolved = make(chan struct{})
				f.resolving[e.Path] = resolved
			}
		}
		f.mu.Unlock()
		target := f.c.resolveURL(f.commit, e.Path)
		if cached {
			target = loc.u.String()
		}
		resp, info, err := f.c.do(ctx, request{op: "read", path: e.Path, method: http.MethodGet,
			url: target, header: hdr, accept: accept})
		if !cached && err == nil && info.final != nil && info.final.String() != target {
			f.mu.Lock()
			f.locs[e.Path] = cachedLoc{u: info.final, expires: locationExpiry(info.final, info.foreign, time.Now())}
			f.mu.Unlock()
		}
		if resolved != nil {
			f.mu.Lock()
			delete(f.resolving, e.Path)
			f.mu.Unlock()
			close(resolved)
		}
		if err != nil {
			var he *Error
			if cached && try == 0 && errors.As(err, &he) && (he.Status == 403 || he.Status == 401 || he.Status == 404 || he.Status == 410) {
				f.mu.Lock()
				delete(f.locs, e.Path)
				f.mu.Unlock()
				continue // the signed URL expired or was revoked: resolve again
			}
			if !cached && errors.As(err, &he) && he.Status == 404 && he.Code == "EntryNotFound" && f.cache != nil {
				_ = f.cache.markMissing(f.commit, e.Path) // absent at this commit
			}
			return nil, err
		}
		return f.rangeBody(e, resp, off, end)
	}
}

// rangeBody checks a response to a range request and returns a body that
// yields exactly the bytes from off (to end, if end >= 0).
func (f *FS) rangeBody(e *Entry, resp *http.Response, off, end int64) (io.ReadCloser, error) {
	bad := func(msg string) error {
		drain(resp)
		return &Error{Op: "read", Location: f.location(e.Path), Status: resp.StatusCode, Message: msg,
			Kinds: []error{ErrServer}}
	}
	var body io.ReadCloser = resp.Body
	switch resp.StatusCode {
	case http.StatusRequestedRangeNotSatisfiable:
		drain(resp)
		return nil, io.EOF
	case http.StatusPartialContent:
		start, _, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != off {
			return nil, bad("unexpected Content-Range " + strconv.Quote(resp.Header.Get("Content-Range")))
		}
	case http.StatusOK:
		// The server ignored Range (a gzipped answer, say): skip to off.
		if ce := strings.ToLower(resp.Header.Get("Content-Encoding")); ce == "gzip" {
			zr, err := gzip.NewReader(resp.Body)
			if err != nil {
				return nil, bad("bad gzip body")
			}
			body = readCloser{zr, resp.Body}
		} else if ce != "" && ce != "identity" {
			return nil, bad("unsupported Content-Encoding " + strconv.Quote(ce))
		}
		if off > 0 {
			n, err := io.CopyN(io.Discard, body, off)
			if err != nil {
				_ = body.Close()
				if n < off && errors.Is(err, io.EOF) {
					return nil, io.EOF
				}
				return nil, &Error{Op: "read", Location: f.location(e.Path), Message: "skipping to the offset",
					Kinds: []error{ErrServer}, Cause: err}
			}
		}
	default:
		return nil, bad("unexpected status")
	}
	if end >= 0 {
		return readCloser{io.LimitReader(body, end-off), body}, nil
	}
	return body, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// parseContentRange parses "bytes a-b/total".
func parseContentRange(h string) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes ")
	if !found {
		return 0, 0, false
	}
	r, _, _ := strings.Cut(spec, "/")
	a, b, found := strings.Cut(r, "-")
	if !found {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	return start, end, err1 == nil && err2 == nil
}

// rangeReader reads [off, end) of a file, reconnecting from where a broken
// or truncated body stopped. It is not safe for concurrent use.
type rangeReader struct {
	f        *FS
	e        *Entry
	ctx      context.Context
	off, end int64
	body     io.ReadCloser
	failures int
}

func (r *rangeReader) Read(p []byte) (int, error) {
	for {
		if r.off >= r.end {
			r.Close()
			return 0, io.EOF
		}
		if r.body == nil {
			body, err := r.f.openRange(r.ctx, r.e, r.off, r.end)
			if err == io.EOF {
				return 0, io.ErrUnexpectedEOF // the file is shorter than listed
			}
			if err != nil {
				return 0, err
			}
			r.body = body
		}
		if int64(len(p)) > r.end-r.off {
			p = p[:r.end-r.off]
		}
		n, err := r.body.Read(p)
		r.off += int64(n)
		if n > 0 {
			r.failures = 0
			return n, nil
		}
		if err == nil {
			continue
		}
		_ = r.body.Close()
		r.body = nil
		if r.off >= r.end {
			return 0, io.EOF
		}
		// A body that ended early or broke: resume from r.off.
		if !retryableErr(r.ctx, err) && err != io.EOF {
			return 0, err
		}
		r.failures++
		if r.failures > r.f.cfg.retries {
			return 0, &Error{Op: "read", Location: r.f.location(r.e.Path),
				Message: fmt.Sprintf("body broke at offset %d", r.off), Kinds: []error{ErrServer}, Cause: err}
		}
		if werr := r.f.c.wait(r.ctx, r.failures-1, nil); werr != nil {
			return 0, werr
		}
	}
}

// Close releases the connection.
func (r *rangeReader) Close() error {
	if r.body != nil {
		_ = r.body.Close()
		r.body = nil
	}
	return nil
}

// ---- remote files -----------------------------------------------------------

// remoteFile is an open Hub file. ReadAt is safe for concurrent use; Read,
// Seek and WriteTo share a position and are serialized.
type remoteFile struct {
	fs     *FS
	e      *Entry
	size   int64
	mem    *memCache
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	shut   atomic.Bool

	raMu     sync.Mutex // sequential ReadAt detection
	raNext   int64
	raWindow int64

	mu       sync.Mutex
	pos      int64
	cur      *rangeReader // current sequential window
	curStart int64
	curEnd   int64
	window   int64
	next     *prefetch // the following window, requested ahead
	dl       *download
	closed   bool
	cacheErr error
}

var (
	_ afero.File  = (*remoteFile)(nil)
	_ io.WriterTo = (*remoteFile)(nil)
)

func newRemoteFile(f *FS, e *Entry) *remoteFile {
	r := &remoteFile{fs: f, e: e, size: e.realSize(), mem: newMemCache(f.cfg.memCache)}
	r.ctx, r.cancel = context.WithCancel(f.ctx)
	return r
}

func (r *remoteFile) Name() string { return r.e.Path }

func (r *remoteFile) Stat() (os.FileInfo, error) { return fileInfo{r.e}, nil }

func (r *remoteFile) errClosed(op string) error {
	return &fs.PathError{Op: op, Path: r.e.Path, Err: fs.ErrClosed}
}

// ReadAt reads len(p) bytes at off with one range request (or from memory
// when a previous request covered them). Small calls (under the block
// size) that continue where the previous one ended fetch a growing window
// ahead; larger calls fetch exactly what they ask for. ReadAt is safe for
// concurrent use.
func (r *remoteFile) ReadAt(p []byte, off int64) (int, error) {
	if r.shut.Load() {
		return 0, r.errClosed("read")
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "readat", Path: r.e.Path, Err: fs.ErrInvalid}
	}
	if off >= r.size {
		return 0, io.EOF
	}
	want := min(int64(len(p)), r.size-off)
	var eof error
	if want < int64(len(p)) {
		eof = io.EOF
	}
	if r.mem.get(off, p[:want]) {
		return int(want), eof
	}
	fetch := want
	r.raMu.Lock()
	if off == r.raNext && off > 0 && want < r.fs.cfg.blockSize {
		r.raWindow = min(max(r.raWindow*2, r.fs.cfg.blockSize), r.fs.cfg.blockSize*int64(r.fs.cfg.readAhead))
		fetch = max(fetch, min(r.raWindow, r.size-off))
	} else {
		r.raWindow = 0
	}
	r.raNext = off + want
	r.raMu.Unlock()
	buf := p[:want]
	if fetch > want {
		buf = make([]byte, fetch)
	}
	rr := &rangeReader{f: r.fs, e: r.e, ctx: r.ctx, off: off, end: off + fetch}
	n, err := io.ReadFull(rr, buf)
	_ = rr.Close()
	if err != nil {
		if n > int(want) {
			n = int(want)
		}
		copy(p, buf[:n])
		return n, err
	}
	if fetch > want {
		copy(p, buf[:want])
		r.mem.put(off, buf)
	} else if want <= smallRead {
		r.mem.put(off, append([]byte(nil), buf...))
	}
	return int(want), eof
}

// OpenRange returns a reader of the n bytes at off, fetched with one
// streaming request (resumed from where it breaks, like Read). It is for
// readers that know the exact range they will read in order, such as a
// Parquet row group (arrowio uses it). The request is sent on the first
// Read; the caller must Close the reader. It is safe for concurrent use
// with every other method but Close.
func (r *remoteFile) OpenRange(off, n int64) (io.ReadCloser, error) {
	if r.shut.Load() {
		return nil, r.errClosed("read")
	}
	if off < 0 || n < 0 || off > r.size || n > r.size-off {
		return nil, &fs.PathError{Op: "read", Path: r.e.Path, Err: fs.ErrInvalid}
	}
	return &rangeReader{f: r.fs, e: r.e, ctx: r.ctx, off: off, end: off + n}, nil
}

// smallRead is the size up to which exact ReadAt results are kept in
// memory: footers and metadata are read again, column chunks rarely.
const smallRead = 256 << 10

// prefetch is a window whose request was started ahead of need.
type prefetch struct {
	off, end int64
	done     chan struct{}
	rr       *rangeReader
	err      error
}

func (r *remoteFile) startPrefetch(off, end int64) *prefetch {
	pf := &prefetch{off: off, end: end, done: make(chan struct{})}
	go func() {
		defer close(pf.done)
		body, err := r.fs.openRange(r.ctx, r.e, off, end)
		if err != nil {
			pf.err = err
			return
		}
		pf.rr = &rangeReader{f: r.fs, e: r.e, ctx: r.ctx, off: off, end: end, body: body}
	}()
	return pf
}

func (pf *prefetch) cancel() {
	if pf == nil {
		return
	}
	<-pf.done
	if pf.rr != nil {
		_ = pf.rr.Close()
	}
}

// Read reads sequentially from the current position. Sequential reads use
// windows that start at the block size and double up to
// BlockSize*ReadAhead, with the next window requested when three quarters
// of the current one are read. Reading a whole file from offset 0 also stores it in the
// Hub cache.
func (r *remoteFile) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, r.errClosed("read")
	}
	if r.pos >= r.size {
		r.finishDownload()
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if r.cur == nil || r.cur.off != r.pos || r.pos >= r.curEnd {
		if err := r.nextWindow(); err != nil {
			return 0, err
		}
	}
	n, err := r.cur.Read(p)
	if n > 0 {
		r.tee(r.pos, p[:n])
		r.pos += int64(n)
		if r.pos >= r.size {
			r.finishDownload()
		}
		r.maybePrefetch()
		return n, nil
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return 0, err
}

// nextWindow opens the window starting at r.pos, reusing a prefetched one.
func (r *remoteFile) nextWindow() error {
	continuing := r.cur != nil && r.pos == r.curEnd
	if r.cur != nil {
		_ = r.cur.Close()
		r.cur = nil
	}
	bs := r.fs.cfg.blockSize
	maxWindow := bs * int64(r.fs.cfg.readAhead)
	if continuing {
		r.window = min(max(r.window*2, bs), maxWindow)
	} else {
		r.window = bs
	}
	if r.pos == 0 && r.dl == nil && r.fs.cache != nil {
		r.dl = r.fs.cache.begin(r.e, r.fs.commit, r.fs.repo.Revision)
	}
	if pf := r.next; pf != nil {
		r.next = nil
		if pf.off == r.pos {
			<-pf.done
			if pf.err == nil {
				r.cur, r.curEnd = pf.rr, pf.end
			}
		} else {
			pf.cancel()
		}
	}
	if r.cur == nil {
		end := min(r.pos+r.window, r.size)
		r.cur = &rangeReader{f: r.fs, e: r.e, ctx: r.ctx, off: r.pos, end: end}
		r.curEnd = end
	}
	r.curStart = r.pos
	return nil
}

// maybePrefetch requests the next window once three quarters of the
// current one are read, so its first bytes are on the way when needed
// without two windows competing for the whole time.
func (r *remoteFile) maybePrefetch() {
	if r.next != nil || r.fs.cfg.readAhead <= 1 || r.curEnd >= r.size {
		return
	}
	if r.curEnd-r.pos > (r.curEnd-r.curStart)/4 {
		return
	}
	bs := r.fs.cfg.blockSize
	nextLen := min(max(r.window*2, bs), bs*int64(r.fs.cfg.readAhead))
	r.next = r.startPrefetch(r.curEnd, min(r.curEnd+nextLen, r.size))
}

// tee feeds sequential bytes to the cache download, if one is running.
func (r *remoteFile) tee(off int64, p []byte) {
	if r.dl != nil && !r.dl.write(off, p) {
		r.dl = nil
	}
}

func (r *remoteFile) finishDownload() {
	if r.dl != nil && r.dl.done() {
		r.cacheErr = r.dl.commit()
		r.dl = nil
	}
}

// WriteTo copies the rest of the file to w with a single streaming request
// (resumed where it breaks), the fastest way to read a whole file; from
// offset 0 it also fills the Hub cache. io.Copy uses it.
func (r *remoteFile) WriteTo(w io.Writer) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, r.errClosed("read")
	}
	r.dropWindows()
	if r.pos == 0 && r.dl == nil && r.fs.cache != nil {
		r.dl = r.fs.cache.begin(r.e, r.fs.commit, r.fs.repo.Revision)
	}
	rr := &rangeReader{f: r.fs, e: r.e, ctx: r.ctx, off: r.pos, end: r.size}
	defer rr.Close()
	bufp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bufp)
	buf := *bufp
	var total int64
	for r.pos < r.size {
		n, err := rr.Read(buf)
		if n > 0 {
			r.tee(r.pos, buf[:n])
			m, werr := w.Write(buf[:n])
			r.pos += int64(m)
			total += int64(m)
			if werr != nil {
				return total, werr
			}
			if m < n {
				return total, io.ErrShortWrite
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return total, err
		}
	}
	if r.pos < r.size {
		return total, io.ErrUnexpectedEOF
	}
	r.finishDownload()
	return total, nil
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

func (r *remoteFile) dropWindows() {
	if r.cur != nil {
		_ = r.cur.Close()
		r.cur = nil
	}
	r.next.cancel()
	r.next = nil
}

// Seek sets the position for Read (whence as in io.Seeker). Seeking past
// the end is allowed; reads there return io.EOF.
func (r *remoteFile) Seek(offset int64, whence int) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, r.errClosed("seek")
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = r.pos + offset
	case io.SeekEnd:
		abs = r.size + offset
	default:
		return 0, &fs.PathError{Op: "seek", Path: r.e.Path, Err: fs.ErrInvalid}
	}
	if abs < 0 {
		return 0, &fs.PathError{Op: "seek", Path: r.e.Path, Err: fs.ErrInvalid}
	}
	r.pos = abs
	return abs, nil
}

// Close releases connections and abandons an unfinished cache download.
// It returns the error of a finished download that failed verification.
func (r *remoteFile) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.shut.Store(true)
	r.cancel()
	r.dropWindows()
	if r.dl != nil {
		r.dl.abort()
		r.dl = nil
	}
	r.mem.reset()
	return r.cacheErr
}

func (r *remoteFile) Readdir(int) ([]os.FileInfo, error) {
	return nil, &fs.PathError{Op: "readdir", Path: r.e.Path, Err: errors.New("not a directory")}
}
func (r *remoteFile) Readdirnames(int) ([]string, error) {
	return nil, &fs.PathError{Op: "readdir", Path: r.e.Path, Err: errors.New("not a directory")}
}
func (r *remoteFile) Write([]byte) (int, error)          { return 0, r.fs.readOnly("write", r.e.Path) }
func (r *remoteFile) WriteAt([]byte, int64) (int, error) { return 0, r.fs.readOnly("write", r.e.Path) }
func (r *remoteFile) WriteString(string) (int, error)    { return 0, r.fs.readOnly("write", r.e.Path) }
func (r *remoteFile) Truncate(int64) error               { return r.fs.readOnly("truncate", r.e.Path) }
func (r *remoteFile) Sync() error                        { return nil }

// memCache keeps recently fetched byte ranges of one file, bounded in
// bytes, evicting the oldest first.
type memCache struct {
	mu    sync.Mutex
	limit int64
	used  int64
	ext   []extent
}

type extent struct {
	off  int64
	data []byte
}

func newMemCache(limit int64) *memCache { return &memCache{limit: limit} }

func (m *memCache) get(off int64, p []byte) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.ext) - 1; i >= 0; i-- {
		x := m.ext[i]
		if off >= x.off && off+int64(len(p)) <= x.off+int64(len(x.data)) {
			copy(p, x.data[off-x.off:])
			return true
		}
	}
	return false
}

func (m *memCache) put(off int64, data []byte) {
	if int64(len(data)) > m.limit {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ext = append(m.ext, extent{off, data})
	m.used += int64(len(data))
	for m.used > m.limit && len(m.ext) > 0 {
		m.used -= int64(len(m.ext[0].data))
		m.ext = m.ext[1:]
	}
}

func (m *memCache) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ext, m.used = nil, 0
}

// ---- directories and cached files ------------------------------------------

// dirFile is an open directory; Readdir lists it from the Hub.
type dirFile struct {
	fs     *FS
	e      *Entry
	mu     sync.Mutex
	offset int
}

func (d *dirFile) Name() string { return d.e.Path }

func (d *dirFile) Stat() (os.FileInfo, error) { return fileInfo{d.e}, nil }

// Readdir lists the directory like os.File.Readdir: n <= 0 returns all
// remaining entries, n > 0 at most n (io.EOF at the end).
func (d *dirFile) Readdir(n int) ([]os.FileInfo, error) {
	kids, err := d.fs.readDir(d.fs.ctx, d.e.Path)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	rest := kids[min(d.offset, len(kids)):]
	if n > 0 {
		if len(rest) == 0 {
			return nil, io.EOF
		}
		rest = rest[:min(n, len(rest))]
	}
	d.offset += len(rest)
	out := make([]os.FileInfo, len(rest))
	for i, e := range rest {
		out[i] = fileInfo{e}
	}
	return out, nil
}

func (d *dirFile) Readdirnames(n int) ([]string, error) {
	infos, err := d.Readdir(n)
	names := make([]string, len(infos))
	for i, fi := range infos {
		names[i] = fi.Name()
	}
	return names, err
}

func (d *dirFile) isDir(op string) error {
	return &fs.PathError{Op: op, Path: d.e.Path, Err: errors.New("is a directory")}
}
func (d *dirFile) Close() error                       { return nil }
func (d *dirFile) Read([]byte) (int, error)           { return 0, d.isDir("read") }
func (d *dirFile) ReadAt([]byte, int64) (int, error)  { return 0, d.isDir("read") }
func (d *dirFile) Seek(int64, int) (int64, error)     { return 0, d.isDir("seek") }
func (d *dirFile) Write([]byte) (int, error)          { return 0, d.fs.readOnly("write", d.e.Path) }
func (d *dirFile) WriteAt([]byte, int64) (int, error) { return 0, d.fs.readOnly("write", d.e.Path) }
func (d *dirFile) WriteString(string) (int, error)    { return 0, d.fs.readOnly("write", d.e.Path) }
func (d *dirFile) Truncate(int64) error               { return d.fs.readOnly("truncate", d.e.Path) }
func (d *dirFile) Sync() error                        { return nil }

// cachedFile is a file served from the local Hub cache.
type cachedFile struct {
	*os.File
	name string
	e    *Entry
}

func (c *cachedFile) Name() string               { return c.name }
func (c *cachedFile) Stat() (os.FileInfo, error) { return fileInfo{c.e}, nil }
func (c *cachedFile) ro() error {
	return &Error{Op: "write", Location: c.name, Message: "read-only", Kinds: []error{ErrReadOnly}}
}
func (c *cachedFile) Write([]byte) (int, error)          { return 0, c.ro() }
func (c *cachedFile) WriteAt([]byte, int64) (int, error) { return 0, c.ro() }
func (c *cachedFile) WriteString(string) (int, error)    { return 0, c.ro() }
func (c *cachedFile) Truncate(int64) error               { return c.ro() }

// Unwrap returns the cached file on disk, so that readers that look
// through wrappers (arrowio.FileUnwrapper) treat it as the local file it
// is: memory-mapped, read concurrently, never prebuffered.
func (c *cachedFile) Unwrap() afero.File { return c.File }

// LocalPath returns the path of the file in the Hub cache, for callers that
// want to memory-map it.
func (c *cachedFile) LocalPath() string { return c.File.Name() }
