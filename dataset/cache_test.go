package dataset

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultCacheDir(t *testing.T) {
	t.Setenv("QUIVER_CACHE", "/q")
	t.Setenv("XDG_CACHE_HOME", "/x")
	d, err := DefaultCacheDir()
	require.NoError(t, err)
	assert.Equal(t, "/q", d)
	t.Setenv("QUIVER_CACHE", "")
	d, _ = DefaultCacheDir()
	assert.Equal(t, "/x/quiver", d)
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	d, _ = DefaultCacheDir()
	assert.Equal(t, "/home/u/.cache/quiver", d)
}

func TestPrune(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	c, err := OpenCache(dir)
	require.NoError(t, err)
	base := newTestDataset(t, 1000, 100, WithCache(c))
	kept, err := base.Shuffle(1).Flatten(ctx) // entry in use while kept lives
	require.NoError(t, err)
	func() {
		_, err := base.Shuffle(2).Flatten(ctx) // dropped at once
		require.NoError(t, err)
	}()
	es, err := c.Entries()
	require.NoError(t, err)
	require.Len(t, es, 2)
	size, err := c.Size()
	require.NoError(t, err)
	assert.Equal(t, es[0].Bytes+es[1].Bytes, size)
	assert.Greater(t, size, int64(1000*8))

	// Nothing is old enough.
	rep, err := c.Prune(ctx, PruneOptions{OlderThan: time.Hour})
	require.NoError(t, err)
	assert.Empty(t, rep.Removed)

	// Everything unused goes; the entry kept open stays. The dropped one is
	// released by the garbage collector, so allow it a moment.
	deadline := time.Now().Add(5 * time.Second)
	var removed int
	for removed == 0 && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
		rep, err = c.Prune(ctx, PruneOptions{All: true})
		require.NoError(t, err)
		removed += len(rep.Removed)
	}
	assert.Equal(t, 1, removed)
	assert.Equal(t, 1, rep.InUse, "the kept entry is in use")
	es, _ = c.Entries()
	require.Len(t, es, 1)
	assert.Equal(t, kept.Fingerprint(), es[0].Fingerprint)
	assert.Equal(t, ids(t, kept, 0), ids(t, base.Shuffle(1), 0), "the kept dataset still reads")
	runtime.KeepAlive(kept)

	// A lookup of a removed entry misses; a bogus one is an error.
	_, ok, err := c.Lookup(base.Shuffle(2).Fingerprint())
	require.NoError(t, err)
	assert.False(t, ok)
	_, _, err = c.Lookup("../etc")
	assert.Error(t, err)
	_, err = os.Stat(filepath.Join(dir, base.Shuffle(2).Fingerprint()))
	assert.True(t, os.IsNotExist(err))
}
