package dataset

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/internal/atomicfile"
	"github.com/spf13/afero"
)

// Cache is a directory of materialized datasets, one entry per fingerprint.
//
// An entry is a directory named by the fingerprint holding uncompressed
// Arrow IPC files (data-NNNNN.arrow) and quiver.json. It is built under a
// temporary name and renamed into place when complete, so a crash never
// leaves an entry that looks valid. A lock file per fingerprint
// (<fingerprint>.lock, flock(2)) makes one process compute an entry while
// others wait for it and then reuse it; readers hold a shared lock while
// they map an entry, so pruning skips entries in use.
//
// A Cache is safe for concurrent use by goroutines and processes.
type Cache struct {
	dir string
}

// metaFile is the name of an entry's metadata file.
const metaFile = "quiver.json"

var errLocked = errors.New("locked by another process")

// DefaultCacheDir returns $QUIVER_CACHE, else $XDG_CACHE_HOME/quiver, else
// ~/.cache/quiver.
func DefaultCacheDir() (string, error) {
	if d := os.Getenv("QUIVER_CACHE"); d != "" {
		return d, nil
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "quiver"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("quiver cache: no $QUIVER_CACHE, $XDG_CACHE_HOME or home directory: %w", err)
	}
	return filepath.Join(home, ".cache", "quiver"), nil
}

// OpenCache opens (creating if needed) the cache in dir.
func OpenCache(dir string) (*Cache, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("quiver cache: %w", err)
	}
	return &Cache{dir: abs}, nil
}

// Dir returns the cache directory.
func (c *Cache) Dir() string { return c.dir }

// Entry describes one cache entry.
type Entry struct {
	Fingerprint string    `json:"fingerprint"`
	Description string    `json:"description"`
	Created     time.Time `json:"created"`
	Rows        int64     `json:"rows"`
	// Files are the data files, relative to Dir.
	Files []string `json:"files"`
	// BatchRows[k][i] is the row count of batch i of Files[k], recorded
	// when the entry was written so that opening it reads no batch
	// header (its cost does not grow with the data). Entries written
	// without it (older versions) are opened by reading the headers.
	BatchRows [][]int64 `json:"batch_rows,omitempty"`
	// Dir is the entry's directory; Bytes the size of its files; Used the
	// last time it was opened.
	Dir   string    `json:"-"`
	Bytes int64     `json:"-"`
	Used  time.Time `json:"-"`
}

func validFingerprint(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func (c *Cache) entryDir(fp string) string { return filepath.Join(c.dir, fp) }
func (c *Cache) lockPath(fp string) string { return filepath.Join(c.dir, fp+".lock") }
func (c *Cache) metaPath(fp string) string { return filepath.Join(c.dir, fp, metaFile) }
func tempName(prefix string) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "." + prefix + atomicfile.TempMarker + hex.EncodeToString(b[:]), nil
}

// readEntry reads the metadata of entry fp; ok is false when the entry does
// not exist (or is not complete).
func (c *Cache) readEntry(fp string) (Entry, bool, error) {
	raw, err := os.ReadFile(c.metaPath(fp))
	if errors.Is(err, os.ErrNotExist) {
		return Entry{}, false, nil
	}
	if err != nil {
		return Entry{}, false, err
	}
	var e Entry
	if err := json.Unmarshal(raw, &e); err != nil || e.Fingerprint != fp {
		return Entry{}, false, fmt.Errorf("quiver cache: entry %s: bad %s", fp, metaFile)
	}
	e.Dir = c.entryDir(fp)
	des, err := os.ReadDir(e.Dir)
	if err != nil {
		return Entry{}, false, err
	}
	for _, de := range des {
		if info, err := de.Info(); err == nil {
			e.Bytes += info.Size()
		}
	}
	if info, err := os.Stat(e.Dir); err == nil {
		e.Used = info.ModTime()
	}
	return e, true, nil
}

// Lookup returns the entry for fingerprint fp, if present.
func (c *Cache) Lookup(fp string) (Entry, bool, error) {
	if !validFingerprint(fp) {
		return Entry{}, false, fmt.Errorf("quiver cache: %q is not a fingerprint", fp)
	}
	return c.readEntry(fp)
}

// Entries lists the complete entries, newest use first.
func (c *Cache) Entries() ([]Entry, error) {
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, de := range des {
		if !de.IsDir() || !validFingerprint(de.Name()) {
			continue
		}
		e, ok, err := c.readEntry(de.Name())
		if err != nil || !ok {
			continue // damaged entries are left to Prune
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return b.Used.Compare(a.Used) })
	return out, nil
}

// Size returns the total size in bytes of the complete entries.
func (c *Cache) Size() (int64, error) {
	es, err := c.Entries()
	var n int64
	for _, e := range es {
		n += e.Bytes
	}
	return n, err
}

// PruneOptions selects what Prune removes. Entries in use by any process
// (mapped by an open dataset) are never removed.
type PruneOptions struct {
	// OlderThan removes entries not used for this long (0: no age limit).
	OlderThan time.Duration
	// MaxBytes removes least recently used entries until the cache holds
	// at most this many bytes (0: no size limit).
	MaxBytes int64
	// All removes every entry not in use.
	All bool
	// DryRun reports what would be removed without removing it.
	DryRun bool
}

// PruneReport says what Prune did.
type PruneReport struct {
	Removed      []Entry
	RemovedBytes int64
	// InUse counts entries kept because a process had them open.
	InUse int
	// Temporaries counts abandoned temporary directories removed
	// (leftovers of crashed processes).
	Temporaries int
}

// Prune removes entries selected by opts, plus abandoned temporaries.
func (c *Cache) Prune(ctx context.Context, opts PruneOptions) (PruneReport, error) {
	var rep PruneReport
	des, err := os.ReadDir(c.dir)
	if err != nil {
		return rep, err
	}
	for _, de := range des {
		if de.IsDir() && atomicfile.IsTemp(de.Name()) {
			if removed, _ := c.removeTemp(ctx, filepath.Join(c.dir, de.Name()), opts.DryRun); removed {
				rep.Temporaries++
			}
		}
	}
	entries, err := c.Entries()
	if err != nil {
		return rep, err
	}
	total, err := c.Size()
	if err != nil {
		return rep, err
	}
	now := time.Now()
	// Oldest use first, so a size limit removes least recently used.
	slices.Reverse(entries)
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		old := opts.OlderThan > 0 && now.Sub(e.Used) > opts.OlderThan
		big := opts.MaxBytes > 0 && total > opts.MaxBytes
		if !opts.All && !old && !big {
			continue
		}
		removed, err := c.remove(ctx, e, opts.DryRun)
		if err != nil {
			return rep, err
		}
		if !removed {
			rep.InUse++
			continue
		}
		rep.Removed = append(rep.Removed, e)
		rep.RemovedBytes += e.Bytes
		total -= e.Bytes
	}
	return rep, nil
}

// remove deletes entry e unless a process holds its lock. The entry is
// first renamed to a temporary name, so it disappears atomically.
func (c *Cache) remove(ctx context.Context, e Entry, dry bool) (bool, error) {
	lf, err := os.OpenFile(c.lockPath(e.Fingerprint), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return false, err
	}
	defer lf.Close()
	if err := flock(ctx, lf, true, false); err != nil {
		if errors.Is(err, errLocked) {
			return false, nil
		}
		return false, err
	}
	defer funlock(lf)
	if dry {
		return true, nil
	}
	tmp, err := tempName(e.Fingerprint)
	if err != nil {
		return false, err
	}
	tmp = filepath.Join(c.dir, tmp)
	if err := os.Rename(e.Dir, tmp); err != nil {
		return false, err
	}
	return true, os.RemoveAll(tmp)
}

// removeTemp removes an abandoned temporary directory: one whose builder
// no longer holds the lock on it.
func (c *Cache) removeTemp(ctx context.Context, dir string, dry bool) (bool, error) {
	f, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if err := flock(ctx, f, true, false); err != nil {
		return false, nil
	}
	if dry {
		return true, nil
	}
	return true, os.RemoveAll(dir)
}

// heldEntry is an entry opened for reading: the shared lock is held until
// release.
type heldEntry struct {
	Entry
	lock *os.File
}

func (h *heldEntry) Close() error {
	if h.lock == nil {
		return nil
	}
	err := h.lock.Close() // closing drops the flock
	h.lock = nil
	return err
}

// build returns entry fp, computing it with fill if absent. fill writes
// the entry's data files into dir and returns the row count and file names.
// Concurrent callers, in this or other processes, wait for one of them to
// compute the entry and then share it. On error nothing is left behind.
// The returned entry holds a shared lock until closed.
func (c *Cache) build(ctx context.Context, fp, desc string, fill func(ctx context.Context, dir string) (rows int64, files []string, err error)) (*heldEntry, error) {
	lf, err := os.OpenFile(c.lockPath(fp), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("quiver cache: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			lf.Close()
		}
	}()
	// Fast path: readers share the lock.
	if err := flock(ctx, lf, false, true); err != nil {
		return nil, err
	}
	if e, found, err := c.readEntry(fp); err == nil && found {
		ok = true
		c.touch(fp)
		return &heldEntry{Entry: e, lock: lf}, nil
	}
	// Slow path: become the builder, or wait for the one at work.
	if err := funlock(lf); err != nil {
		return nil, err
	}
	if err := flock(ctx, lf, true, true); err != nil {
		return nil, err
	}
	if e, found, err := c.readEntry(fp); err == nil && found {
		if err := flock(ctx, lf, false, true); err != nil { // downgrade
			return nil, err
		}
		ok = true
		c.touch(fp)
		return &heldEntry{Entry: e, lock: lf}, nil
	}
	name, err := tempName(fp)
	if err != nil {
		return nil, err
	}
	tmp := filepath.Join(c.dir, name)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("quiver cache: %w", err)
	}
	td, err := os.Open(tmp)
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	defer td.Close()
	_ = flock(ctx, td, true, false) // marks the temporary as alive for Prune
	rows, files, err := fill(ctx, tmp)
	var e Entry
	if err == nil {
		e = Entry{Fingerprint: fp, Description: desc, Created: time.Now().UTC(), Rows: rows, Files: files}
		e.BatchRows, err = batchRowsOf(tmp, files)
	}
	if err == nil {
		err = writeJSON(filepath.Join(tmp, metaFile), e)
	}
	if err == nil {
		err = syncDir(tmp)
	}
	if err == nil {
		err = os.Rename(tmp, c.entryDir(fp))
		if err != nil {
			err = fmt.Errorf("quiver cache: install entry %s: %w", fp, err)
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return nil, err
	}
	_ = syncDir(c.dir)
	if err := flock(ctx, lf, false, true); err != nil {
		return nil, err
	}
	e, found, err := c.readEntry(fp)
	if err != nil || !found {
		return nil, fmt.Errorf("quiver cache: entry %s vanished after install: %v", fp, err)
	}
	ok = true
	return &heldEntry{Entry: e, lock: lf}, nil
}

func (c *Cache) touch(fp string) {
	now := time.Now()
	_ = os.Chtimes(c.entryDir(fp), now, now)
}

func writeJSON(path string, v any) error {
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(raw, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// dataFileName names data file i of an entry.
func dataFileName(i int) string { return fmt.Sprintf("data-%05d.arrow", i) }

// batchRowsOf reads the per-batch row counts of the Arrow files in dir
// (just written, so their headers are in the page cache) for Entry.BatchRows.
func batchRowsOf(dir string, files []string) ([][]int64, error) {
	out := make([][]int64, len(files))
	for k, name := range files {
		f, err := arrowio.OpenArrowFile(afero.NewOsFs(), filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("quiver cache: %w", err)
		}
		rows := make([]int64, f.NumBatches())
		for i := range rows {
			rows[i] = f.BatchRows(i)
		}
		out[k] = rows
		if err := f.Close(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
