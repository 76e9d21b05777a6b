package hubfs

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// hubCache is one repository's folder in the Hugging Face hub cache:
//
//	{root}/{type}s--{ns}--{name}/refs/{revision}       commit id, no newline
//	{root}/{type}s--{ns}--{name}/blobs/{etag}          complete content
//	{root}/{type}s--{ns}--{name}/blobs/{etag}.incomplete
//	{root}/{type}s--{ns}--{name}/snapshots/{commit}/{path} -> ../../blobs/{etag}
//	{root}/{type}s--{ns}--{name}/trees/{commit}.json   full listing
//	{root}/{type}s--{ns}--{name}/.no_exist/{commit}/{path}  empty: no such file at commit
//	{root}/.locks/{type}s--{ns}--{name}/{etag}.lock
//
// Every path it builds is checked to stay inside root.
type hubCache struct {
	root       string
	folder     string // "{type}s--{ns}--{name}"
	dir        string // root/folder
	noSymlinks bool
}

func newHubCache(root string, repo RepoRef, noSymlinks bool) (*hubCache, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	folder := repo.Type.plural() + "--" + strings.ReplaceAll(repo.ID, "/", "--")
	return &hubCache{root: abs, folder: folder, dir: filepath.Join(abs, folder), noSymlinks: noSymlinks}, nil
}

// join builds a path under the repo folder from "/"-separated parts and
// refuses anything that would leave the cache root.
func (h *hubCache) join(parts ...string) (string, error) {
	p := filepath.Join(append([]string{h.dir}, parts...)...)
	rel, err := filepath.Rel(h.root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%w: cache path %q leaves the cache", ErrUnsafePath, strings.Join(parts, "/"))
	}
	return p, nil
}

// resolveRef returns the commit of rev from refs/, or rev itself when it
// is a commit id.
func (h *hubCache) resolveRef(rev string) (string, bool) {
	if isHex(rev, 40) {
		return rev, true
	}
	if checkRevision(rev) != nil {
		return "", false
	}
	p, err := h.join("refs", filepath.FromSlash(rev))
	if err != nil {
		return "", false
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", false
	}
	c := strings.TrimSpace(string(b))
	return c, isHex(c, 40)
}

// writeRef records refs/{rev} = commit, atomically.
func (h *hubCache) writeRef(rev, commit string) error {
	if rev == commit || checkRevision(rev) != nil || !isHex(commit, 40) {
		return nil
	}
	if old, ok := h.resolveRef(rev); ok && old == commit {
		return nil
	}
	p, err := h.join("refs", filepath.FromSlash(rev))
	if err != nil {
		return err
	}
	return writeFileAtomic(p, []byte(commit))
}

func writeFileAtomic(p string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp := p + ".tmp-" + randHex()
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}

func randHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// noExistPath returns .no_exist/{commit}/{p}, huggingface_hub's marker that p
// does not exist at commit.
func (h *hubCache) noExistPath(commit, p string) (string, error) {
	if !isHex(commit, 40) || checkRepoPath(p) != nil {
		return "", fmt.Errorf("%w: %q", ErrUnsafePath, p)
	}
	return h.join(".no_exist", commit, filepath.FromSlash(p))
}

// knownMissing reports whether a .no_exist marker says p does not exist at
// commit (markers are written by hubfs and by huggingface_hub alike).
func (h *hubCache) knownMissing(commit, p string) bool {
	np, err := h.noExistPath(commit, p)
	if err != nil {
		return false
	}
	st, err := os.Stat(np)
	return err == nil && st.Mode().IsRegular()
}

// markMissing writes the .no_exist marker of p at commit: an empty file.
func (h *hubCache) markMissing(commit, p string) error {
	np, err := h.noExistPath(commit, p)
	if err != nil {
		return err
	}
	if h.knownMissing(commit, p) {
		return nil
	}
	return writeFileAtomic(np, nil)
}

// snapshot returns snapshots/{commit}/{p}.
func (h *hubCache) snapshot(commit, p string) (string, error) {
	if !isHex(commit, 40) || checkRepoPath(p) != nil {
		return "", fmt.Errorf("%w: %q", ErrUnsafePath, p)
	}
	return h.join("snapshots", commit, filepath.FromSlash(p))
}

// open opens a cached file of commit; the etag comes from the blob link.
func (h *hubCache) open(commit, p string) (*os.File, *Entry, error) {
	sp, err := h.snapshot(commit, p)
	if err != nil {
		return nil, nil, err
	}
	f, err := os.Open(sp)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		_ = f.Close()
		return nil, nil, fs.ErrNotExist
	}
	e := &Entry{Type: "file", Path: p, Size: st.Size(), Commit: commit, ModTime: st.ModTime()}
	h.fillEtag(sp, e)
	return f, e, nil
}

// fillEtag sets e's OID or LFS oid from the snapshot's symlink target.
func (h *hubCache) fillEtag(sp string, e *Entry) {
	target, err := os.Readlink(sp)
	if err != nil {
		return
	}
	etag := filepath.Base(target)
	switch {
	case isHex(etag, 64):
		e.LFS = &LFSInfo{OID: etag, Size: e.Size}
	case isHex(etag, 40):
		e.OID = etag
	}
}

// treeFile is trees/{commit}.json as huggingface_hub writes it.
type treeFile struct {
	FormatVersion int                  `json:"format_version"`
	Files         map[string]treeEntry `json:"files"`
}

type treeEntry struct {
	Size      int64  `json:"size"`
	BlobID    string `json:"blob_id"`
	LFSSHA256 string `json:"lfs_sha256,omitempty"`
	LFSSize   int64  `json:"lfs_size,omitempty"`
	XetHash   string `json:"xet_hash,omitempty"`
}

// writeTree stores the full file listing of commit.
func (h *hubCache) writeTree(commit string, entries []*Entry) error {
	if !isHex(commit, 40) {
		return nil
	}
	tf := treeFile{FormatVersion: 1, Files: map[string]treeEntry{}}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		te := treeEntry{Size: e.realSize(), BlobID: e.OID, XetHash: e.XetHash}
		if e.LFS != nil {
			te.LFSSHA256, te.LFSSize = e.LFS.OID, e.LFS.Size
		}
		tf.Files[e.Path] = te
	}
	b, err := json.Marshal(tf)
	if err != nil {
		return err
	}
	p, err := h.join("trees", commit+".json")
	if err != nil {
		return err
	}
	return writeFileAtomic(p, b)
}

// list returns every file and directory known locally at commit: the full
// trees/{commit}.json when present, else the (usually partial) snapshot.
// complete reports which one it was.
func (h *hubCache) list(commit string) (entries []*Entry, complete bool, err error) {
	if p, err := h.join("trees", commit+".json"); err == nil {
		if b, err := os.ReadFile(p); err == nil {
			var tf treeFile
			if json.Unmarshal(b, &tf) == nil && tf.FormatVersion == 1 {
				dirs := map[string]bool{}
				for fp, te := range tf.Files {
					if checkRepoPath(fp) != nil || fp == "" {
						return nil, false, fmt.Errorf("%w: cached listing entry %q", ErrUnsafePath, fp)
					}
					e := &Entry{Type: "file", Path: fp, OID: te.BlobID, Size: te.Size, XetHash: te.XetHash, Commit: commit}
					if te.LFSSHA256 != "" {
						e.LFS = &LFSInfo{OID: te.LFSSHA256, Size: te.LFSSize}
					}
					entries = append(entries, e)
					for d := path.Dir(fp); d != "."; d = path.Dir(d) {
						dirs[d] = true
					}
				}
				for d := range dirs {
					entries = append(entries, &Entry{Type: "directory", Path: d, Commit: commit})
				}
				sort.Slice(entries, func(i, j int) bool { return entries[i].Path < entries[j].Path })
				return entries, true, nil
			}
		}
	}
	root, err := h.join("snapshots", commit)
	if err != nil {
		return nil, false, err
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if p == root {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			entries = append(entries, &Entry{Type: "directory", Path: rel, Commit: commit})
			return nil
		}
		st, err := os.Stat(p) // follow the blob link
		if err != nil || !st.Mode().IsRegular() {
			return nil
		}
		e := &Entry{Type: "file", Path: rel, Size: st.Size(), Commit: commit, ModTime: st.ModTime()}
		h.fillEtag(p, e)
		entries = append(entries, e)
		return nil
	})
	return entries, false, err
}

// download writes one blob into the cache while its bytes stream past.
// Bytes must arrive in order from offset 0; commit verifies size and hash
// and only then renames blobs/{etag}.incomplete into place and links the
// snapshot, so an incomplete download never looks complete.
type download struct {
	h        *hubCache
	e        *Entry
	commitID string
	rev      string
	f        *os.File
	lock     *os.File
	tmp      string
	hash     hash.Hash
	written  int64
	size     int64
}

// begin starts caching e, or returns nil when it cannot or need not: the
// etag is not a content hash, the blob exists already (then the snapshot
// link is made), or another process holds the blob's lock.
func (h *hubCache) begin(e *Entry, commit, rev string) *download {
	etag := e.ETag()
	var hs hash.Hash
	switch {
	case isHex(etag, 64):
		hs = sha256.New()
	case isHex(etag, 40):
		hs = sha1.New()
		fmt.Fprintf(hs, "blob %d\x00", e.realSize())
	default:
		return nil
	}
	blob, err := h.join("blobs", etag)
	if err != nil {
		return nil
	}
	if st, err := os.Stat(blob); err == nil && st.Size() == e.realSize() {
		_ = h.link(commit, e.Path, etag)
		_ = h.writeRef(rev, commit)
		return nil
	}
	lockPath := filepath.Join(h.root, ".locks", h.folder, etag+".lock")
	if err := os.MkdirAll(filepath.Dir(lockPath), 0o755); err != nil {
		return nil
	}
	lock, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil
	}
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = lock.Close()
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		unlock(lock)
		return nil
	}
	tmp := blob + ".incomplete"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		unlock(lock)
		return nil
	}
	return &download{h: h, e: e, commitID: commit, rev: rev, f: f, lock: lock, tmp: tmp,
		hash: hs, size: e.realSize()}
}

func unlock(lock *os.File) {
	_ = unix.Flock(int(lock.Fd()), unix.LOCK_UN)
	_ = lock.Close()
}

// write appends p, which must start at offset off; anything else (a seek,
// a gap) abandons the download.
func (d *download) write(off int64, p []byte) bool {
	if d == nil || d.f == nil {
		return false
	}
	if off != d.written {
		d.abort()
		return false
	}
	if _, err := d.f.Write(p); err != nil {
		d.abort()
		return false
	}
	d.hash.Write(p)
	d.written += int64(len(p))
	return true
}

// done reports whether every byte arrived.
func (d *download) done() bool { return d != nil && d.f != nil && d.written == d.size }

// commit finishes a complete download; on a hash mismatch it removes the
// partial file and returns an error wrapping ErrCorrupt.
func (d *download) commit() error {
	if d == nil || d.f == nil {
		return nil
	}
	defer unlock(d.lock)
	f := d.f
	d.f = nil
	if err := f.Sync(); err != nil {
		_ = f.Close()
		_ = os.Remove(d.tmp)
		return err
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(d.tmp)
		return err
	}
	etag := d.e.ETag()
	if got := hex.EncodeToString(d.hash.Sum(nil)); got != etag || d.written != d.size {
		_ = os.Remove(d.tmp)
		return fmt.Errorf("%w: %s has hash %s, want %s", ErrCorrupt, d.e.Path, got, etag)
	}
	blob := strings.TrimSuffix(d.tmp, ".incomplete")
	if err := os.Rename(d.tmp, blob); err != nil {
		_ = os.Remove(d.tmp)
		return err
	}
	if err := d.h.link(d.commitID, d.e.Path, etag); err != nil {
		return err
	}
	return d.h.writeRef(d.rev, d.commitID)
}

// abort drops a partial download.
func (d *download) abort() {
	if d == nil || d.f == nil {
		return
	}
	_ = d.f.Close()
	d.f = nil
	_ = os.Remove(d.tmp)
	unlock(d.lock)
}

// link makes snapshots/{commit}/{p} point at blobs/{etag}: a relative
// symlink, or a copy when symlinks are disabled or unsupported.
func (h *hubCache) link(commit, p, etag string) error {
	sp, err := h.snapshot(commit, p)
	if err != nil {
		return err
	}
	blob, err := h.join("blobs", etag)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(sp), 0o755); err != nil {
		return err
	}
	tmp := sp + ".tmp-" + randHex()
	if !h.noSymlinks {
		rel, err := filepath.Rel(filepath.Dir(sp), blob)
		if err == nil {
			if err = os.Symlink(rel, tmp); err == nil {
				if err = os.Rename(tmp, sp); err == nil {
					return nil
				}
				_ = os.Remove(tmp)
			}
		}
	}
	return copyFileAtomic(blob, sp)
}

// copyFileAtomic copies src to dst through a temporary file and a rename.
func copyFileAtomic(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp-" + randHex()
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		_ = out.Close()
		_ = os.Remove(tmp)
		return err
	}
	if err := out.Close(); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dst); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return nil
}
