package streaming

import (
	"context"
	"fmt"
	"sync"
	"testing"

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

// TestShardAhead checks which shards are fetched ahead as reads start: in
// canonical order (even when a shard's read starts just before the one
// before it), the next two not started; in shuffled order, none.
func TestShardAhead(t *testing.T) {
	cases := []struct {
		name   string
		starts []int
		want   [][]int // shards to fetch ahead at each start
	}{
		{"in order", []int{0, 1, 2, 3, 4}, [][]int{{1, 2}, {2, 3}, {3, 4}, {4, 5}, {5}}},
		// 2 asks for 4 again: the reader skips a group already fetched.
		{"pairs out of order", []int{1, 0, 3, 2}, [][]int{nil, {2}, {4, 5}, {4}}},
		{"shuffled", []int{5, 2, 8}, [][]int{nil, nil, nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var a shardAhead
			for k, i := range tc.starts {
				require.Equal(t, tc.want[k], a.next(i, 6), "start of shard %d", i)
			}
		})
	}
}
