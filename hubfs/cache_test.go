package hubfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/quiverdata/quiver/hubfs/hubtest"
)

// incompleteFiles lists *.incomplete files under root.
func incompleteFiles(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".incomplete") {
			out = append(out, p)
		}
		return nil
	})
	return out
}

func TestCacheWriteThenOffline(t *testing.T) {
	srv, files, commit := sampleHub(t)
	cache := t.TempDir()
	ctx := context.Background()
	opts := func(extra ...Option) []Option {
		return append([]Option{WithCacheDir(cache)}, extra...)
	}
	f := openRepo(t, srv, sampleID, opts()...)
	// One file through Read, one through io.Copy (WriteTo).
	got, err := afero.ReadFile(f, "data/big.bin")
	if err != nil || !bytes.Equal(got, files["data/big.bin"]) {
		t.Fatalf("ReadFile: %v", err)
	}
	rf, err := f.Open("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, rf); err != nil {
		t.Fatal(err)
	}
	if err := rf.Close(); err != nil {
		t.Fatal(err)
	}

	repoDir := filepath.Join(cache, "datasets--org--sample")
	ref, err := os.ReadFile(filepath.Join(repoDir, "refs", "main"))
	if err != nil || string(ref) != commit {
		t.Fatalf("refs/main = %q, %v; want %s", ref, err, commit)
	}
	for name, etag := range map[string]string{
		"data/big.bin": hubtest.SHA256(files["data/big.bin"]),
		"README.md":    hubtest.GitBlobID(files["README.md"]),
	} {
		blob, err := os.ReadFile(filepath.Join(repoDir, "blobs", etag))
		if err != nil || !bytes.Equal(blob, files[name]) {
			t.Fatalf("blob of %s: %v", name, err)
		}
		snap := filepath.Join(repoDir, "snapshots", commit, filepath.FromSlash(name))
		target, err := os.Readlink(snap)
		if err != nil || filepath.IsAbs(target) || filepath.Base(target) != etag {
			t.Fatalf("snapshot link of %s = %q, %v", name, target, err)
		}
	}
	if inc := incompleteFiles(t, cache); len(inc) != 0 {
		t.Fatalf("incomplete files left: %v", inc)
	}

	// Online again: cached files open without transferring content.
	srv.ResetStats()
	g := openRepo(t, srv, sampleID, opts()...)
	if got, err := afero.ReadFile(g, "data/big.bin"); err != nil || !bytes.Equal(got, files["data/big.bin"]) {
		t.Fatalf("cached read: %v", err)
	}
	if st := srv.Stats(); st.FileBytes != 0 || st.Resolves != 0 {
		t.Errorf("cached read transferred %d bytes in %d resolves", st.FileBytes, st.Resolves)
	}

	// Offline: no request at all.
	srv.ResetStats()
	off := openRepo(t, srv, sampleID, opts(WithOffline(true))...)
	if off.Commit() != commit || !off.Offline() {
		t.Fatalf("offline commit %s offline=%v", off.Commit(), off.Offline())
	}
	checkAllReads(t, off, "data/big.bin", files["data/big.bin"])
	checkAllReads(t, off, "README.md", files["README.md"])
	if id, err := off.Identity("data/big.bin"); err != nil || !strings.HasSuffix(id, "#"+hubtest.SHA256(files["data/big.bin"])) {
		t.Errorf("offline identity %q, %v", id, err)
	}
	_, err = off.Open("other/medium.bin")
	if !errors.Is(err, ErrOffline) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("offline open of an uncached file: %v", err)
	}
	if st := srv.Stats(); st.Requests != 0 {
		t.Fatalf("offline mode sent %d requests", st.Requests)
	}
	// HF_HUB_OFFLINE works like WithOffline.
	t.Setenv("HF_HUB_OFFLINE", "1")
	if env, err := Open(ctx, RepoRef{Type: Dataset, ID: "org/sample"}, WithEndpoint(srv.URL), WithCacheDir(cache)); err != nil || !env.Offline() {
		t.Fatalf("HF_HUB_OFFLINE: %v", err)
	}
	t.Setenv("HF_HUB_OFFLINE", "")
	if _, err := Open(ctx, RepoRef{Type: Dataset, ID: "org/sample", Revision: "v9"}, serverOpts(srv, opts(WithOffline(true))...)...); !errors.Is(err, ErrOffline) {
		t.Fatalf("offline unknown revision: %v", err)
	}

	// A full listing is cached too, so offline Stat and Walk see every file.
	if _, err := f.Walk(ctx, ""); err != nil {
		t.Fatal(err)
	}
	off2 := openRepo(t, srv, sampleID, opts(WithOffline(true))...)
	if fi, err := off2.Stat("other/medium.bin"); err != nil || fi.Size() != 50_000 {
		t.Fatalf("offline Stat from trees/: %v", err)
	}
	if _, err := off2.Stat("missing.txt"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("offline Stat of a missing file: %v", err)
	}
	all, err := off2.Walk(ctx, "")
	if err != nil || len(all) < len(files) {
		t.Fatalf("offline walk: %d entries, %v", len(all), err)
	}

	// An unreachable Hub falls back to the cache.
	srv.Close()
	fb := openRepo(t, srv, sampleID, opts(WithRetries(0))...)
	if !fb.Offline() {
		t.Fatal("fallback: the FS is not offline")
	}
	if got, err := afero.ReadFile(fb, "README.md"); err != nil || !bytes.Equal(got, files["README.md"]) {
		t.Fatalf("fallback read: %v", err)
	}
}

func TestCacheIncompleteNeverVisible(t *testing.T) {
	srv, files, commit := sampleHub(t)
	cache := t.TempDir()
	f := openRepo(t, srv, sampleID, WithBlockSize(8192), WithCacheDir(cache))
	repoDir := filepath.Join(cache, "datasets--org--sample")
	etag := hubtest.SHA256(files["data/big.bin"])
	blob := filepath.Join(repoDir, "blobs", etag)
	snap := filepath.Join(repoDir, "snapshots", commit, "data", "big.bin")

	// Half read: only the .incomplete exists.
	file, err := f.Open("data/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	half := make([]byte, 150_000)
	if _, err := io.ReadFull(file, half); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(blob + ".incomplete"); err != nil {
		t.Fatalf("no .incomplete during the download: %v", err)
	}
	for _, p := range []string{blob, snap} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("%s visible before the download finished", p)
		}
	}
	// Closing early drops it.
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	if inc := incompleteFiles(t, cache); len(inc) != 0 {
		t.Fatalf("incomplete left after close: %v", inc)
	}
	if _, err := os.Lstat(snap); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("snapshot visible after an abandoned download")
	}

	// A download broken for good leaves nothing either.
	g := openRepo(t, srv, sampleID, WithRetries(0), WithCacheDir(cache))
	file, err = g.Open("data/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	srv.Schedule(hubtest.FaultNone, hubtest.FaultReset) // the resolve hop passes, the CDN body breaks
	if _, err := io.Copy(io.Discard, file); err == nil {
		t.Fatal("copy through a reset succeeded without retries")
	}
	_ = file.Close()
	if inc := incompleteFiles(t, cache); len(inc) != 0 {
		t.Fatalf("incomplete left after failure: %v", inc)
	}
	if _, err := os.Lstat(blob); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("blob visible after a failed download")
	}

	// Seeking away abandons the download; the data read is still right.
	file, _ = f.Open("data/big.bin")
	buf := make([]byte, 100)
	_, _ = file.Read(buf)
	_, _ = file.Seek(200_000, io.SeekStart)
	rest, err := io.ReadAll(file)
	if err != nil || !bytes.Equal(rest, files["data/big.bin"][200_000:]) {
		t.Fatalf("read after seek: %v", err)
	}
	_ = file.Close()
	if _, err := os.Lstat(blob); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("blob made from a non-contiguous read")
	}
}

func TestCacheRejectsWrongHash(t *testing.T) {
	h, err := newHubCache(t.TempDir(), RepoRef{Type: Dataset, ID: "o/r"}, false)
	if err != nil {
		t.Fatal(err)
	}
	commit := "0123456789abcdef0123456789abcdef01234567"
	data := []byte("hello")
	e := &Entry{Type: "file", Path: "a.txt", OID: hubtest.GitBlobID([]byte("other")), Size: int64(len(data))}
	d := h.begin(e, commit, "main")
	if d == nil {
		t.Fatal("no download started")
	}
	d.write(0, data)
	if err := d.commit(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("commit = %v, want ErrCorrupt", err)
	}
	if inc := incompleteFiles(t, h.root); len(inc) != 0 {
		t.Fatalf("incomplete left: %v", inc)
	}
	if _, _, err := h.open(commit, "a.txt"); err == nil {
		t.Fatal("corrupt download visible")
	}
	// The right hash commits, and copies work without symlinks.
	h.noSymlinks = true
	e.OID = hubtest.GitBlobID(data)
	d = h.begin(e, commit, "main")
	d.write(0, data)
	if err := d.commit(); err != nil {
		t.Fatal(err)
	}
	f, _, err := h.open(commit, "a.txt")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if string(got) != "hello" {
		t.Fatalf("got %q", got)
	}
}

func TestOfflineReadsPythonLayout(t *testing.T) {
	testEnv(t)
	// A cache as huggingface_hub leaves it.
	cache := t.TempDir()
	commit := "89abcdef0123456789abcdef0123456789abcdef"
	data := []byte("id,text\n1,hello\n")
	etag := hubtest.GitBlobID(data)
	repo := filepath.Join(cache, "datasets--someone--thing")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(repo, "blobs"), 0o755))
	must(os.MkdirAll(filepath.Join(repo, "refs", "refs", "convert"), 0o755))
	must(os.MkdirAll(filepath.Join(repo, "snapshots", commit, "data"), 0o755))
	must(os.WriteFile(filepath.Join(repo, "blobs", etag), data, 0o644))
	must(os.WriteFile(filepath.Join(repo, "refs", "refs", "convert", "parquet"), []byte(commit), 0o644))
	must(os.Symlink("../../../blobs/"+etag, filepath.Join(repo, "snapshots", commit, "data", "train.csv")))

	res, err := Resolve(context.Background(), "hf://datasets/someone/thing@refs/convert/parquet/data/*.csv",
		WithCacheDir(cache), WithOffline(true), WithEndpoint("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Commit != commit || len(res.Paths) != 1 || res.Paths[0] != "data/train.csv" {
		t.Fatalf("resolved %+v", res)
	}
	got, err := afero.ReadFile(res.Fs, "data/train.csv")
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read: %q, %v", got, err)
	}
	id, err := res.Identity("data/train.csv")
	if err != nil || id != "hf://datasets/someone/thing@"+commit+"/data/train.csv#"+etag {
		t.Fatalf("identity %q, %v", id, err)
	}
}

func TestDownload(t *testing.T) {
	srv, files, commit := sampleHub(t)
	cache := t.TempDir()
	ctx := context.Background()
	f := openRepo(t, srv, sampleID, WithCacheDir(cache))
	for range 2 { // the second call is served from the cache
		srv.ResetStats()
		p, err := f.Download(ctx, "data/big.bin")
		if err != nil {
			t.Fatal(err)
		}
		if want := filepath.Join(cache, "datasets--org--sample", "snapshots", commit, "data", "big.bin"); p != want {
			t.Fatalf("path %s, want %s", p, want)
		}
		got, err := os.ReadFile(p)
		if err != nil || !bytes.Equal(got, files["data/big.bin"]) {
			t.Fatalf("downloaded content: %v", err)
		}
	}
	if st := srv.Stats(); st.Requests != 0 {
		t.Errorf("cached Download sent %d requests", st.Requests)
	}
	if _, err := f.Download(ctx, "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	g := openRepo(t, srv, sampleID)
	if _, err := g.Download(ctx, "README.md"); !errors.Is(err, ErrNoCache) {
		t.Errorf("no cache: %v", err)
	}
}
