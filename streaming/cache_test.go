package streaming

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// TestReadCacheKeepsPinnedCopies checks that a copy handed out by local
// survives evictions until its caller has opened it (unpin), and that the
// eviction it held up happens then: before pins, a copy could vanish
// between local and the reader's open, and the read failed with "no such
// file or directory".
func TestReadCacheKeepsPinnedCopies(t *testing.T) {
	remote := afero.NewMemMapFs()
	for name, size := range map[string]int{"a.bin": 600, "b.bin": 700} {
		require.NoError(t, afero.WriteFile(remote, name, make([]byte, size), 0o644))
	}
	c := &readCache{dir: t.TempDir(), max: 1000}
	ref := func(name string) fileRef {
		return fileRef{fs: remote, path: name, name: "hf://x/" + name, remote: true}
	}

	pa, ok, err := c.local(ref("a.bin"), true) // pinned
	require.NoError(t, err)
	require.True(t, ok)
	// Fetching b needs a's room, but a is pinned: both stay for now.
	pb, ok, err := c.local(ref("b.bin"), true)
	require.NoError(t, err)
	require.True(t, ok)
	require.FileExists(t, pa, "a pinned copy was evicted")
	require.FileExists(t, pb)

	c.unpin(pb)
	require.FileExists(t, pa, "a copy still pinned was evicted")
	c.unpin(pa) // the last pin: the held-up eviction runs
	var total int64
	entries, err := os.ReadDir(c.dir)
	require.NoError(t, err)
	for _, e := range entries {
		info, err := os.Stat(filepath.Join(c.dir, e.Name()))
		require.NoError(t, err)
		total += info.Size()
	}
	require.LessOrEqual(t, total, c.max, "the cache stayed over its limit after the pins were released")
}
