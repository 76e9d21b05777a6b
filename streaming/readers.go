package streaming

import (
	"sync"

	"github.com/quiverdata/quiver/arrowio"
)

// maxIdleReaders bounds how many Parquet files a fileSource keeps open
// while none of their row groups is being read.
const maxIdleReaders = 4

// readerPool keeps Parquet files open between the reads of their row
// groups, so that a file's footer is read (over the network: requested)
// once per stream rather than once per row group. A reader stays open while
// a read uses it; once idle it is kept, up to maxIdleReaders files, the
// least recently used closed first, and every idle reader is closed when
// no cursor uses the source any more. It is safe for concurrent use.
type readerPool struct {
	mu      sync.Mutex
	entries map[int]*pooled // by file index
	users   int             // cursors reading the source
	clock   int64
}

type pooled struct {
	ready chan struct{} // closed once r or err is set
	r     *arrowio.ParquetReader
	err   error
	refs  int
	used  int64 // clock at the last release
}

// hold and unhold bracket a cursor's use of the source.
func (p *readerPool) hold() {
	p.mu.Lock()
	p.users++
	p.mu.Unlock()
}

func (p *readerPool) unhold() {
	p.mu.Lock()
	p.users--
	idle := p.evictLocked()
	p.mu.Unlock()
	closeReaders(idle)
}

// acquire returns the open reader of file i, opening it with open if the
// pool has none, and the function that gives it back. A failed open is not
// kept: the next acquire tries again.
func (p *readerPool) acquire(i int, open func() (*arrowio.ParquetReader, error)) (*arrowio.ParquetReader, func(), error) {
	p.mu.Lock()
	if p.entries == nil {
		p.entries = map[int]*pooled{}
	}
	e, ok := p.entries[i]
	if ok {
		e.refs++
		p.mu.Unlock()
		<-e.ready
	} else {
		e = &pooled{ready: make(chan struct{}), refs: 1}
		p.entries[i] = e
		p.mu.Unlock()
		e.r, e.err = open()
		close(e.ready)
	}
	if e.err != nil {
		p.mu.Lock()
		e.refs--
		if p.entries[i] == e {
			delete(p.entries, i)
		}
		p.mu.Unlock()
		return nil, nil, e.err
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			p.mu.Lock()
			e.refs--
			p.clock++
			e.used = p.clock
			idle := p.evictLocked()
			p.mu.Unlock()
			closeReaders(idle)
		})
	}
	return e.r, release, nil
}

// evictLocked removes the idle readers to close: all of them when no
// cursor uses the source, else the least recently used beyond
// maxIdleReaders.
func (p *readerPool) evictLocked() []*arrowio.ParquetReader {
	var idle []int
	for i, e := range p.entries {
		if e.refs == 0 && e.r != nil {
			idle = append(idle, i)
		}
	}
	keep := maxIdleReaders
	if p.users <= 0 {
		keep = 0
	}
	var out []*arrowio.ParquetReader
	for len(idle) > keep {
		oldest := 0
		for k, i := range idle {
			if p.entries[i].used < p.entries[idle[oldest]].used {
				oldest = k
			}
		}
		out = append(out, p.entries[idle[oldest]].r)
		delete(p.entries, idle[oldest])
		idle = append(idle[:oldest], idle[oldest+1:]...)
	}
	return out
}

// numOpen returns how many readers the pool holds (for tests).
func (p *readerPool) numOpen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.entries)
}

func closeReaders(rs []*arrowio.ParquetReader) {
	for _, r := range rs {
		r.Close()
	}
}

// prefetch starts fetching shard i (see prefetcher) when it is a row group
// of a remote Parquet file read without the read cache. The file's reader
// stays in the pool, holding the fetched bytes, for the shard's read.
// Opening a file sends no request: its footer is kept.
func (s *fileSource) prefetch(i int) {
	if s.cache != nil || s.shards[i].RowGroup < 0 || !s.files[s.fileOf[i]].remote {
		return
	}
	f := s.files[s.fileOf[i]]
	r, release, err := s.readers.acquire(s.fileOf[i], func() (*arrowio.ParquetReader, error) {
		return arrowio.OpenParquetFooter(f.fs, f.path, s.footers[s.fileOf[i]], s.readOpts...)
	})
	if err != nil {
		return // the shard's own read reports it
	}
	r.Prefetch(s.shards[i].RowGroup)
	release()
}
