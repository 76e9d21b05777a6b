package hubfs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/afero"
)

// FS is a read-only afero.Fs over one Hub repository at one commit.
//
// Open resolves the revision to a commit once; every listing and read then
// uses that commit, so a branch moving underneath changes nothing. Names
// are "/"-separated repo paths; a leading "/" is ignored. Listings and Stat
// results are cached for the FS's lifetime. Files read sequentially from
// the start are written into the Hugging Face cache (when enabled) and
// later opened from it without any request.
//
// An FS is safe for concurrent use. Its afero methods take no context;
// Close cancels requests in flight. Writes fail with ErrReadOnly.
type FS struct {
	cfg     *config
	c       *client
	repo    RepoRef
	commit  string
	offline bool
	cache   *hubCache // nil when disabled

	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	entries map[string]*Entry   // known entries; nil value = known missing
	dirs    map[string][]*Entry // listed directories
	full    bool                // entries holds the whole tree
	locs    map[string]cachedLoc
	// resolving holds, per path, a channel closed when the request that
	// is resolving the path's location ends, so that concurrent first
	// reads of a file resolve it once.
	resolving map[string]chan struct{}
	walked    map[string]bool // directories listed recursively
}

var (
	_ afero.Fs = (*FS)(nil)
)

// Open opens repo at its revision ("" = main). It resolves the revision to
// a commit through the repo info endpoint (one request), or, offline or
// when the Hub is unreachable, through the local cache's refs. Errors are
// *Error values: a missing repo or revision wraps fs.ErrNotExist, a private
// or gated one fs.ErrPermission, an offline cache miss ErrOffline. ctx
// bounds only this call.
func Open(ctx context.Context, repo RepoRef, opts ...Option) (*FS, error) {
	return openFS(ctx, repo, newConfig(opts))
}

func openFS(ctx context.Context, repo RepoRef, cfg *config) (*FS, error) {
	if repo.Type == "" {
		repo.Type = Model
	}
	if _, ok := typeNamesByType[repo.Type]; !ok {
		return nil, fmt.Errorf("hubfs: unknown repo type %q", repo.Type)
	}
	ns, name, ok := strings.Cut(repo.ID, "/")
	if !ok || !repoPart.MatchString(ns) || !repoPart.MatchString(name) || strings.Contains(repo.ID, "..") {
		return nil, fmt.Errorf("hubfs: invalid repo id %q", repo.ID)
	}
	rev := repo.rev()
	if err := checkRevision(rev); err != nil {
		return nil, fmt.Errorf("hubfs: %w", err)
	}
	repo.Revision = rev
	c, err := newClient(cfg, repo)
	if err != nil {
		return nil, err
	}
	f := &FS{cfg: cfg, c: c, repo: repo, entries: map[string]*Entry{}, dirs: map[string][]*Entry{},
		locs: map[string]cachedLoc{}}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	if cfg.cacheDir != "" {
		if f.cache, err = newHubCache(cfg.cacheDir, repo, cfg.noSymlinks); err != nil {
			return nil, err
		}
	}
	if cfg.offline {
		return f.openOffline(nil)
	}
	commit, err := c.repoInfo(ctx, rev)
	if err != nil {
		if unreachable(err) && f.cache != nil && ctx.Err() == nil {
			return f.openOffline(err)
		}
		return nil, err
	}
	f.commit = commit
	return f, nil
}

var typeNamesByType = map[RepoType]bool{Model: true, Dataset: true, Space: true, Kernel: true, Bucket: true}

// unreachable reports whether err means the Hub could not be reached (no
// answer, or only 5xx), which allows the cache fallback.
func unreachable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Status == 0 && errors.Is(err, ErrServer) || e.Status >= 500
}

func (f *FS) openOffline(cause error) (*FS, error) {
	if f.cache != nil {
		if commit, ok := f.cache.resolveRef(f.repo.Revision); ok {
			f.commit, f.offline = commit, true
			return f, nil
		}
	}
	return nil, &Error{Op: "open", Location: f.repo.String(),
		Message: "revision not in the local cache", Kinds: []error{ErrOffline, fs.ErrNotExist}, Cause: cause}
}

// Commit returns the 40-hex commit every read uses.
func (f *FS) Commit() string { return f.commit }

// Repo returns the repository, with the revision as requested.
func (f *FS) Repo() RepoRef { return f.repo }

// Offline reports whether f serves only from the local cache.
func (f *FS) Offline() bool { return f.offline }

// Name returns "hubfs".
func (f *FS) Name() string { return "hubfs" }

// Close cancels requests in flight. Files opened from f stop working.
func (f *FS) Close() error {
	f.cancel()
	return nil
}

// IOFS returns an io/fs view of f (fs.FS, fs.StatFS, fs.ReadDirFS,
// fs.ReadFileFS, fs.GlobFS).
func (f *FS) IOFS() fs.FS { return afero.NewIOFS(f) }

// clean turns a name into a repo path ("" is the root) or an error.
func (f *FS) clean(op, name string) (string, error) {
	p := strings.TrimLeft(name, "/")
	if p != "" {
		p = path.Clean(p)
	}
	if p == "." {
		p = ""
	}
	if err := checkRepoPath(p); err != nil || strings.HasPrefix(p, "../") || p == ".." {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return p, nil
}

func (f *FS) notExist(op, p string) error {
	return &Error{Op: op, Location: f.location(p), Code: "EntryNotFound",
		Message: "no such file or directory", Kinds: []error{fs.ErrNotExist}}
}

// location renders p at the resolved commit.
func (f *FS) location(p string) string {
	return URL{Repo: RepoRef{Type: f.repo.Type, ID: f.repo.ID, Revision: f.commit}, Path: p}.String()
}

var rootEntry = Entry{Type: "directory"}

// Stat returns the FileInfo of name. Its Sys() is the *Entry.
func (f *FS) Stat(name string) (os.FileInfo, error) {
	p, err := f.clean("stat", name)
	if err != nil {
		return nil, err
	}
	e, err := f.stat(f.ctx, p)
	if err != nil {
		return nil, err
	}
	return fileInfo{e}, nil
}

// Entry returns the Hub's entry for name (file or directory).
func (f *FS) Entry(name string) (*Entry, error) {
	p, err := f.clean("stat", name)
	if err != nil {
		return nil, err
	}
	return f.stat(f.ctx, p)
}

func (f *FS) stat(ctx context.Context, p string) (*Entry, error) {
	if p == "" {
		e := rootEntry
		e.Commit = f.commit
		return &e, nil
	}
	f.mu.Lock()
	e, known := f.entries[p]
	_, parentListed := f.dirs[parentDir(p)]
	full := f.full
	f.mu.Unlock()
	if known || parentListed || full {
		if e == nil {
			return nil, f.notExist("stat", p)
		}
		return e, nil
	}
	if f.cache != nil && f.cache.knownMissing(f.commit, p) {
		// The cache knows the file is absent at this commit, which
		// cannot change: no request, online or off.
		f.mu.Lock()
		f.entries[p] = nil
		f.mu.Unlock()
		return nil, f.notExist("stat", p)
	}
	if f.offline {
		if err := f.loadOffline(); err != nil {
			return nil, err
		}
		f.mu.Lock()
		e = f.entries[p]
		complete := f.full
		f.mu.Unlock()
		if e == nil {
			if complete {
				return nil, f.notExist("stat", p)
			}
			return nil, &Error{Op: "stat", Location: f.location(p), Message: "not in the local cache",
				Kinds: []error{ErrOffline, fs.ErrNotExist}}
		}
		return e, nil
	}
	got, err := f.c.pathsInfo(ctx, f.commit, []string{p})
	if err != nil {
		return nil, err
	}
	for i := range got {
		if got[i].Path == p {
			e := &got[i]
			f.mu.Lock()
			f.entries[p] = e
			f.mu.Unlock()
			return e, nil
		}
	}
	f.mu.Lock()
	f.entries[p] = nil
	f.mu.Unlock()
	if f.cache != nil {
		_ = f.cache.markMissing(f.commit, p) // best effort, like huggingface_hub
	}
	return nil, f.notExist("stat", p)
}

func parentDir(p string) string {
	d := path.Dir(p)
	if d == "." {
		return ""
	}
	return d
}

// loadOffline fills the entry cache from the local cache's listing.
func (f *FS) loadOffline() error {
	f.mu.Lock()
	done := len(f.dirs) > 0
	f.mu.Unlock()
	if done {
		return nil
	}
	if f.cache == nil {
		return &Error{Op: "readdir", Location: f.location(""), Message: "no cache", Kinds: []error{ErrOffline, fs.ErrNotExist}}
	}
	list, complete, err := f.cache.list(f.commit)
	if err != nil {
		return &Error{Op: "readdir", Location: f.location(""), Message: "reading the local cache", Cause: err,
			Kinds: []error{ErrOffline}}
	}
	f.remember(list, "", true)
	f.mu.Lock()
	f.full = complete
	f.mu.Unlock()
	return nil
}

// remember records a listing of dir (recursive or not) in the caches.
func (f *FS) remember(list []*Entry, dir string, recursive bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	children := map[string][]*Entry{}
	if !recursive {
		children[dir] = nil
	}
	for _, e := range list {
		f.entries[e.Path] = e
		if recursive {
			if e.IsDir() {
				if _, ok := children[e.Path]; !ok {
					children[e.Path] = nil
				}
			}
		}
		children[parentDir(e.Path)] = append(children[parentDir(e.Path)], e)
	}
	if recursive {
		if _, ok := children[dir]; !ok {
			children[dir] = nil
		}
	}
	for d, kids := range children {
		sort.Slice(kids, func(i, j int) bool { return kids[i].Path < kids[j].Path })
		f.dirs[d] = kids
	}
	if recursive && dir == "" {
		f.full = true
	}
}

// ReadDir lists the directory name, sorted by path.
func (f *FS) ReadDir(name string) ([]*Entry, error) {
	p, err := f.clean("readdir", name)
	if err != nil {
		return nil, err
	}
	return f.readDir(f.ctx, p)
}

func (f *FS) readDir(ctx context.Context, p string) ([]*Entry, error) {
	f.mu.Lock()
	kids, ok := f.dirs[p]
	e, known := f.entries[p]
	full := f.full
	f.mu.Unlock()
	if ok {
		return kids, nil
	}
	if (known && (e == nil || !e.IsDir())) || (full && p != "") {
		if e != nil && !e.IsDir() {
			return nil, &Error{Op: "readdir", Location: f.location(p), Message: "not a directory",
				Kinds: []error{fs.ErrInvalid}}
		}
		return nil, f.notExist("readdir", p)
	}
	if f.offline {
		if err := f.loadOffline(); err != nil {
			return nil, err
		}
		f.mu.Lock()
		kids, ok = f.dirs[p]
		f.mu.Unlock()
		if !ok {
			return nil, &Error{Op: "readdir", Location: f.location(p), Message: "not in the local cache",
				Kinds: []error{ErrOffline, fs.ErrNotExist}}
		}
		return kids, nil
	}
	list, err := f.c.tree(ctx, f.commit, p, false)
	if err != nil {
		var he *Error
		if errors.As(err, &he) && he.Status == 404 && he.Code == "EntryNotFound" && p != "" {
			// A tree request on a file path 404s too: tell the two apart.
			if e, serr := f.stat(ctx, p); serr == nil && !e.IsDir() {
				return nil, &Error{Op: "readdir", Location: f.location(p), Message: "not a directory",
					Kinds: []error{fs.ErrInvalid}}
			}
		}
		return nil, err
	}
	ptrs := make([]*Entry, len(list))
	for i := range list {
		ptrs[i] = &list[i]
	}
	f.remember(ptrs, p, false)
	f.mu.Lock()
	kids = f.dirs[p]
	f.mu.Unlock()
	return kids, nil
}

// Walk lists every entry under dir (recursively, directories included),
// sorted by path, with one paginated tree request. A full listing of the
// root is also written to the cache's trees/{commit}.json.
func (f *FS) Walk(ctx context.Context, dir string) ([]*Entry, error) {
	p, err := f.clean("walk", dir)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	full := f.full || f.walkedLocked(p)
	f.mu.Unlock()
	if f.offline && !full {
		if err := f.loadOffline(); err != nil {
			return nil, err
		}
		full = true // the local listing is all there is
	}
	if !full {
		list, err := f.c.tree(ctx, f.commit, p, true)
		if err != nil {
			return nil, err
		}
		ptrs := make([]*Entry, len(list))
		for i := range list {
			ptrs[i] = &list[i]
		}
		f.remember(ptrs, p, true)
		f.mu.Lock()
		if f.walked == nil {
			f.walked = map[string]bool{}
		}
		f.walked[p] = true
		f.mu.Unlock()
		if p == "" && f.cache != nil {
			_ = f.cache.writeTree(f.commit, ptrs)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if e, ok := f.entries[p]; p != "" && (!ok || e == nil) {
		if _, listed := f.dirs[p]; !listed {
			return nil, f.notExist("walk", p)
		}
	}
	var out []*Entry
	for ep, e := range f.entries {
		if e != nil && (p == "" || strings.HasPrefix(ep, p+"/")) {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// walkedLocked reports whether p or a directory above it was listed
// recursively, so that every entry under p is known. f.mu is held.
func (f *FS) walkedLocked(p string) bool {
	for d := p; ; d = parentDir(d) {
		if f.walked[d] {
			return true
		}
		if d == "" {
			return false
		}
	}
}

// Open opens name for reading. A directory can be listed with Readdir.
func (f *FS) Open(name string) (afero.File, error) {
	p, err := f.clean("open", name)
	if err != nil {
		return nil, err
	}
	if p != "" && f.cache != nil {
		if osf, e, err := f.cache.open(f.commit, p); err == nil {
			return &cachedFile{File: osf, name: p, e: e}, nil
		}
	}
	e, err := f.stat(f.ctx, p)
	if err != nil {
		var he *Error
		if f.offline && errors.As(err, &he) {
			he.Op = "open"
		}
		return nil, err
	}
	if e.IsDir() {
		return &dirFile{fs: f, e: e}, nil
	}
	if f.offline {
		return nil, &Error{Op: "open", Location: f.location(p), Message: "content not in the local cache",
			Kinds: []error{ErrOffline, fs.ErrNotExist}}
	}
	return newRemoteFile(f, e), nil
}

// OpenFile opens name for reading; any write flag fails with ErrReadOnly.
func (f *FS) OpenFile(name string, flag int, _ os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_APPEND|os.O_CREATE|os.O_TRUNC) != 0 {
		return nil, f.readOnly("open", name)
	}
	return f.Open(name)
}

func (f *FS) readOnly(op, name string) error {
	return &Error{Op: op, Location: f.location(strings.TrimLeft(name, "/")), Message: "read-only",
		Kinds: []error{ErrReadOnly}}
}

// Create fails with ErrReadOnly.
func (f *FS) Create(name string) (afero.File, error) { return nil, f.readOnly("create", name) }

// Mkdir fails with ErrReadOnly.
func (f *FS) Mkdir(name string, _ os.FileMode) error { return f.readOnly("mkdir", name) }

// MkdirAll fails with ErrReadOnly.
func (f *FS) MkdirAll(name string, _ os.FileMode) error { return f.readOnly("mkdir", name) }

// Remove fails with ErrReadOnly.
func (f *FS) Remove(name string) error { return f.readOnly("remove", name) }

// RemoveAll fails with ErrReadOnly.
func (f *FS) RemoveAll(name string) error { return f.readOnly("remove", name) }

// Rename fails with ErrReadOnly.
func (f *FS) Rename(oldname, _ string) error { return f.readOnly("rename", oldname) }

// Chmod fails with ErrReadOnly.
func (f *FS) Chmod(name string, _ os.FileMode) error { return f.readOnly("chmod", name) }

// Chown fails with ErrReadOnly.
func (f *FS) Chown(name string, _, _ int) error { return f.readOnly("chown", name) }

// Chtimes fails with ErrReadOnly.
func (f *FS) Chtimes(name string, _, _ time.Time) error { return f.readOnly("chtimes", name) }

// Identity returns the fingerprint identity of a file:
// "hf://TYPE/NS/NAME@COMMIT/PATH#ETAG" (repo + resolved commit + path +
// etag).
func (f *FS) Identity(name string) (string, error) {
	e, err := f.Entry(name)
	if err != nil {
		return "", err
	}
	return f.location(e.Path) + "#" + e.ETag(), nil
}

// fileInfo adapts an Entry to fs.FileInfo.
type fileInfo struct{ e *Entry }

func (i fileInfo) Name() string {
	if i.e.Path == "" {
		return "."
	}
	return path.Base(i.e.Path)
}
func (i fileInfo) Size() int64 {
	if i.e.IsDir() {
		return 0
	}
	return i.e.realSize()
}
func (i fileInfo) Mode() fs.FileMode {
	if i.e.IsDir() {
		return fs.ModeDir | 0o555
	}
	return 0o444
}
func (i fileInfo) ModTime() time.Time { return i.e.ModTime }
func (i fileInfo) IsDir() bool        { return i.e.IsDir() }
func (i fileInfo) Sys() any           { return i.e }

// cachedLoc is a resolved download location kept until it expires.
type cachedLoc struct {
	u       *url.URL
	expires time.Time
}

// locationExpiry reads a signed URL's expiry (Expires=unix, or
// X-Amz-Date + X-Amz-Expires); unsigned same-host URLs last an hour and
// unknown foreign ones five minutes.
func locationExpiry(u *url.URL, foreign bool, now time.Time) time.Time {
	q := u.Query()
	if s, err := strconv.ParseInt(q.Get("Expires"), 10, 64); err == nil {
		return time.Unix(s, 0)
	}
	if d, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date")); err == nil {
		if s, err := strconv.Atoi(q.Get("X-Amz-Expires")); err == nil {
			return d.Add(time.Duration(s) * time.Second)
		}
	}
	if foreign {
		return now.Add(5 * time.Minute)
	}
	return now.Add(time.Hour)
}

// ErrNoCache: Download needs the Hub cache, which is disabled.
var ErrNoCache = errors.New("hubfs: the Hub cache is disabled")

// Download makes sure the file name is complete in the Hub cache and
// returns its local path (snapshots/COMMIT/PATH), for callers that want to
// memory-map it. A cached file costs no request; otherwise the file is
// streamed once, checked against its hash and committed. It fails with
// ErrNoCache when the cache is disabled, and when another process holds
// the blob's download lock.
func (f *FS) Download(ctx context.Context, name string) (string, error) {
	p, err := f.clean("download", name)
	if err != nil {
		return "", err
	}
	if f.cache == nil {
		return "", &Error{Op: "download", Location: f.location(p), Kinds: []error{ErrNoCache}}
	}
	if osf, _, err := f.cache.open(f.commit, p); err == nil {
		_ = osf.Close()
		return f.cache.snapshot(f.commit, p)
	}
	file, err := f.Open(p)
	if err != nil {
		return "", err
	}
	rf, ok := file.(*remoteFile)
	if !ok {
		_ = file.Close()
		return "", &Error{Op: "download", Location: f.location(p), Message: "not a file", Kinds: []error{fs.ErrInvalid}}
	}
	stop := context.AfterFunc(ctx, rf.cancel)
	defer stop()
	_, err = rf.WriteTo(io.Discard)
	if cerr := rf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", err
	}
	osf, _, err := f.cache.open(f.commit, p)
	if err != nil {
		return "", &Error{Op: "download", Location: f.location(p), Message: "not cached (locked by another process?)",
			Kinds: []error{ErrNoCache}, Cause: err}
	}
	_ = osf.Close()
	return f.cache.snapshot(f.commit, p)
}
