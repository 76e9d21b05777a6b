package streaming

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"
)

// readCache keeps whole copies of remote files in a local directory, at
// most max bytes, evicting the least recently used. Files are named by a
// hash of their identity (which pins the Hub commit and ETag), so a cached
// copy is never stale. Copies are written under a temporary name and
// renamed, so processes may share the directory.
type readCache struct {
	dir string
	max int64
	mu  sync.Mutex
	// pins counts, per copy, callers between local and their open of it:
	// eviction skips pinned copies, so a copy is never removed between
	// being handed out and being opened (an open copy survives removal).
	pins map[string]int
	// over is set when an eviction left the cache above max because the
	// copies it needed to remove were pinned: the last unpin evicts.
	over bool
}

const cacheTemp = ".part-"

// path returns where the copy of ref lives.
func (c *readCache) path(ref fileRef) string {
	sum := sha256.Sum256([]byte(ref.name))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:16])+"-"+path.Base(ref.path)) // keeps the extension
}

// local returns the path of the cached copy of ref, fetching it first if
// fetch is set; ok is false when there is no copy (or the file does not
// fit in the cache): read it remotely then. A copy returned is pinned:
// the caller calls unpin(p) once it has opened it.
func (c *readCache) local(ref fileRef, fetch bool) (p string, ok bool, err error) {
	p = c.path(ref)
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		if ok {
			if c.pins == nil {
				c.pins = map[string]int{}
			}
			c.pins[p]++
		}
	}()
	now := time.Now()
	if _, err := os.Stat(p); err == nil {
		_ = os.Chtimes(p, now, now) // most recently used
		return p, true, nil
	}
	if !fetch {
		return "", false, nil
	}
	st, err := ref.fs.Stat(ref.path)
	if err != nil {
		return "", false, err
	}
	if st.Size() > c.max {
		return "", false, nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return "", false, err
	}
	if err := c.evict(c.max - st.Size()); err != nil {
		return "", false, err
	}
	src, err := ref.fs.Open(ref.path)
	if err != nil {
		return "", false, err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(c.dir, cacheTemp)
	if err != nil {
		return "", false, err
	}
	_, err = io.Copy(tmp, src)
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return "", false, fmt.Errorf("caching %s: %w", ref.name, err)
	}
	return p, true, nil
}

// unpin releases a pin that local took on p, and finishes an eviction
// that pins held up.
func (c *readCache) unpin(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pins[p]--; c.pins[p] <= 0 {
		delete(c.pins, p)
	}
	if c.over && len(c.pins) == 0 {
		c.over = false
		_ = c.evict(c.max) // best effort: a failure here only delays eviction
	}
}

// evict removes least recently used copies, other than pinned ones, until
// they take at most keep bytes.
func (c *readCache) evict(keep int64) error {
	entries, err := os.ReadDir(c.dir)
	if err != nil {
		return err
	}
	type file struct {
		path string
		size int64
		used time.Time
	}
	var files []file
	var total int64
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), cacheTemp) {
			continue
		}
		info, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		files = append(files, file{filepath.Join(c.dir, e.Name()), info.Size(), info.ModTime()})
		total += info.Size()
	}
	sort.Slice(files, func(i, j int) bool { return files[i].used.Before(files[j].used) })
	for _, f := range files {
		if total <= keep {
			break
		}
		if c.pins[f.path] > 0 {
			c.over = true
			continue
		}
		if err := os.Remove(f.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		total -= f.size
	}
	return nil
}

// cached returns where to read ref from: its cached copy on the OS
// filesystem when the cache applies, ref itself otherwise. With fetch
// unset, only an existing copy is used. The caller calls opened once it
// has opened the file (until then a cached copy cannot be evicted).
func (s *fileSource) cached(ref fileRef, fetch bool) (f fileRef, opened func(), err error) {
	if s.cache == nil || !ref.remote {
		return ref, func() {}, nil
	}
	p, ok, err := s.cache.local(ref, fetch)
	if err != nil || !ok {
		return ref, func() {}, err
	}
	var once sync.Once
	return fileRef{fs: afero.NewOsFs(), path: p, name: ref.name}, func() { once.Do(func() { s.cache.unpin(p) }) }, nil
}
