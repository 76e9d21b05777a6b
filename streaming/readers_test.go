package streaming

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// openCounter is a filesystem that counts opens and closes per path.
type openCounter struct {
	afero.Fs
	mu     sync.Mutex
	opens  map[string]int
	closes map[string]int
}

func (c *openCounter) Open(name string) (afero.File, error) {
	f, err := c.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.opens[name]++
	c.mu.Unlock()
	return &countedFile{File: f, c: c}, nil
}

type countedFile struct {
	afero.File
	c    *openCounter
	once sync.Once
}

// Unwrap lets the readers see the in-memory file behind, whose ReadAt they
// must serialise.
func (f *countedFile) Unwrap() afero.File { return f.File }

func (f *countedFile) Close() error {
	f.once.Do(func() {
		f.c.mu.Lock()
		f.c.closes[f.Name()]++
		f.c.mu.Unlock()
	})
	return f.File.Close()
}

// TestParquetFilesStayOpen checks that a file's row groups are read through
// one open reader (its footer is not read again for each), that the number
// of files kept open is bounded, and that every file is closed at the end.
func TestParquetFilesStayOpen(t *testing.T) {
	const files, groups, rows = 6, 3, 40
	fsys := &openCounter{Fs: afero.NewMemMapFs(), opens: map[string]int{}, closes: map[string]int{}}
	var paths []string
	for f := range files {
		p := fmt.Sprintf("/d/part-%d.parquet", f)
		require.NoError(t, afero.WriteFile(fsys.Fs, p, parquetBytes(t, int64(f*groups*rows), rows, rows, rows), 0o644))
		paths = append(paths, p)
	}
	cases := []struct {
		name     string
		shuffle  bool
		maxOpens int // per file, after Open's own
	}{
		{"in order", false, 1},
		{"shuffled", true, groups},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := checkedMem(t)
			s, err := Open(context.Background(), paths, WithFs(fsys), WithAllocator(mem), WithChunkRows(16))
			require.NoError(t, err)
			require.Len(t, s.Shards(), files*groups)
			before := map[string]int{}
			fsys.mu.Lock()
			for p, n := range fsys.opens {
				before[p] = n
			}
			fsys.mu.Unlock()
			if tc.shuffle {
				s = s.Shuffle(9, 25)
			}
			got, _ := ids(t, s)
			requirePermutation(t, files*groups*rows, got)
			if !tc.shuffle {
				require.Equal(t, seq(files*groups*rows), got)
			}
			fsys.mu.Lock()
			defer fsys.mu.Unlock()
			for _, p := range paths {
				n := fsys.opens[p] - before[p]
				require.GreaterOrEqual(t, n, 1, p)
				require.LessOrEqual(t, n, tc.maxOpens, p)
				require.Equal(t, fsys.opens[p], fsys.closes[p], "%s: every open is closed", p)
			}
			require.Zero(t, s.src.(*fileSource).readers.numOpen())
		})
	}
}

// TestReaderPoolBound checks the pool's eviction: idle readers beyond
// maxIdleReaders are closed, least recently used first, and all are closed
// when the last user leaves.
func TestReaderPoolBound(t *testing.T) {
	fsys := &openCounter{Fs: afero.NewMemMapFs(), opens: map[string]int{}, closes: map[string]int{}}
	require.NoError(t, afero.WriteFile(fsys.Fs, "/a.parquet", parquetBytes(t, 0, 10), 0o644))
	var p readerPool
	p.hold()
	open := func() (*arrowioReader, error) { return openTestReader(fsys) }
	for i := range maxIdleReaders + 2 {
		_, release, err := p.acquire(i, open)
		require.NoError(t, err)
		release()
		release() // a second call does nothing
		require.Equal(t, min(i+1, maxIdleReaders), p.numOpen())
	}
	// File 0 and 1 were evicted; 2 is still open and reused.
	opens := fsys.opens["/a.parquet"]
	_, release, err := p.acquire(2, open)
	require.NoError(t, err)
	require.Equal(t, opens, fsys.opens["/a.parquet"])
	p.unhold()
	require.Equal(t, 1, p.numOpen(), "a reader in use stays open")
	release()
	require.Zero(t, p.numOpen())
	require.Equal(t, fsys.opens["/a.parquet"], fsys.closes["/a.parquet"])

	// A failed open is reported to the caller and not kept.
	_, _, err = p.acquire(7, func() (*arrowioReader, error) { return nil, fmt.Errorf("boom") })
	require.ErrorContains(t, err, "boom")
	require.Zero(t, p.numOpen())
}

type arrowioReader = arrowio.ParquetReader

func openTestReader(fsys afero.Fs) (*arrowio.ParquetReader, error) {
	return arrowio.OpenParquet(fsys, "/a.parquet")
}

// prefetchRecorder is a Source that records, in order, the shards a
// cursor asks it to prefetch ("p", i) and the shards it reads ("r", i).
type prefetchRecorder struct {
	Source
	mu     sync.Mutex
	events []prefetchEvent
}

type prefetchEvent struct {
	kind  string
	shard int
}

func (s *prefetchRecorder) record(kind string, i int) {
	s.mu.Lock()
	s.events = append(s.events, prefetchEvent{kind, i})
	s.mu.Unlock()
}

func (s *prefetchRecorder) prefetch(i int) { s.record("p", i) }

func (s *prefetchRecorder) Read(ctx context.Context, i int) iter.Seq2[arrow.RecordBatch, error] {
	s.record("r", i)
	return s.Source.Read(ctx, i)
}

// TestPrefetchFollowsEpochOrder checks that a cursor asks its source to
// prefetch the shards it reads next, in the epoch's order whether it is
// canonical, shuffled or split: every shard after the first two is
// prefetched before its read, and no shard is prefetched that is not read
// (a rank never fetches the shards of the ranks after it).
func TestPrefetchFollowsEpochOrder(t *testing.T) {
	rows := []int64{30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30, 30}
	cases := []struct {
		name  string
		setup func(*Stream) *Stream
	}{
		{"in order", func(s *Stream) *Stream { return s }},
		{"shuffled", func(s *Stream) *Stream { return s.Shuffle(5, 20) }},
		{"first of four ranks", func(s *Stream) *Stream { return s.SplitByNode(0, 4) }},
		{"shuffled, third of four ranks", func(s *Stream) *Stream { return s.Shuffle(5, 20).SplitByNode(2, 4) }},
		{"elastic, two ranks", func(s *Stream) *Stream { return s.Elastic(true).SplitByNode(1, 2) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := &prefetchRecorder{Source: makeSource(t, checkedMem(t), rows, 10)}
			_, _ = ids(t, tc.setup(newStream(t, src, WithChunkRows(10))))
			src.mu.Lock()
			defer src.mu.Unlock()
			prefetched := map[int]bool{}
			read := map[int]bool{}
			reads := 0
			for _, e := range src.events {
				switch e.kind {
				case "p":
					prefetched[e.shard] = true
				case "r":
					if reads >= 2 {
						require.True(t, prefetched[e.shard], "shard %d read without a prefetch first: %v", e.shard, src.events)
					}
					read[e.shard] = true
					reads++
				}
			}
			require.Greater(t, reads, 2)
			for i := range prefetched {
				require.True(t, read[i], "shard %d prefetched but never read: %v", i, src.events)
			}
		})
	}
}
