package hubfs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/afero"
)

// TestNoExistMarkers checks huggingface_hub's .no_exist markers: a file
// the Hub says is missing at a commit gets an empty marker in the cache,
// and a marker (ours or Python's) answers "missing" without a request,
// online and offline.
func TestNoExistMarkers(t *testing.T) {
	srv, _, commit := sampleHub(t)
	cache := t.TempDir()
	open := func(offline bool) *FS {
		t.Helper()
		return openRepo(t, srv, sampleID, WithCacheDir(cache), WithOffline(offline))
	}
	marker := func(p string) string {
		return filepath.Join(cache, "datasets--org--sample", ".no_exist", commit, filepath.FromSlash(p))
	}
	isMissing := func(f *FS, p string) {
		t.Helper()
		_, err := f.Stat(p)
		if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrOffline) {
			t.Fatalf("stat %s: %v, want a plain fs.ErrNotExist", p, err)
		}
	}

	f := open(false)
	// Download a file so that refs/main exists for the offline opens.
	if _, err := f.Download(context.Background(), "README.md"); err != nil {
		t.Fatal(err)
	}
	srv.ResetStats()
	isMissing(f, "data/missing.jsonl")
	if st := srv.Stats(); st.Requests != 1 {
		t.Fatalf("%d requests to learn a file is missing, want 1", st.Requests)
	}
	if st, err := os.Stat(marker("data/missing.jsonl")); err != nil || st.Size() != 0 {
		t.Fatalf("marker: %v", err)
	}
	if _, err := os.Stat(marker("README.md")); err == nil {
		t.Fatal("a marker was written for a file that exists")
	}

	// A new session asks nothing about the file.
	f = open(false)
	srv.ResetStats()
	isMissing(f, "data/missing.jsonl")
	if st := srv.Stats(); st.Requests != 0 {
		t.Fatalf("%d requests for a file known missing, want 0", st.Requests)
	}

	// Offline, the partial cache cannot tell what is missing, but the
	// markers can, including one written by huggingface_hub.
	if err := os.MkdirAll(filepath.Dir(marker("python/side.txt")), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(marker("python/side.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	off := open(true)
	isMissing(off, "data/missing.jsonl")
	isMissing(off, "python/side.txt")
	if _, err := off.Stat("other/unknown.bin"); !errors.Is(err, ErrOffline) {
		t.Fatalf("offline stat of a file with no marker: %v, want ErrOffline", err)
	}
	if _, err := off.Open("python/side.txt"); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrOffline) {
		t.Fatalf("offline open of a file known missing: %v", err)
	}
}

// TestWalkListsOnce walks a sub-folder twice and one below it: the Hub is
// asked for the folder's tree once.
func TestWalkListsOnce(t *testing.T) {
	srv, _, _ := sampleHub(t)
	f := openRepo(t, srv, sampleID)
	srv.ResetStats()
	var counts []int
	for _, dir := range []string{"data", "data", "data/nested", "data/nested/deep"} {
		entries, err := f.Walk(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		counts = append(counts, len(entries))
	}
	if st := srv.Stats(); st.Requests != 1 {
		t.Fatalf("%d requests for four walks under one folder, want 1", st.Requests)
	}
	// data: big.bin, nested, nested/deep, nested/deep/file.txt, test and
	// train jsonl; nested: deep, deep/file.txt; deep: file.txt.
	if want := []int{6, 6, 2, 1}; !equalInts(counts, want) {
		t.Fatalf("walk sizes %v, want %v", counts, want)
	}
	if _, err := f.Walk(context.Background(), "data/nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("walk of a missing folder under a walked one: %v", err)
	}
	if st := srv.Stats(); st.Requests != 1 {
		t.Fatalf("%d requests after walking a missing folder, want still 1", st.Requests)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestCachedFileUnwraps checks that a file served from the Hub cache shows
// readers the *os.File behind it.
func TestCachedFileUnwraps(t *testing.T) {
	srv, _, _ := sampleHub(t)
	f := openRepo(t, srv, sampleID, WithCacheDir(t.TempDir()))
	if _, err := f.Download(context.Background(), "data/big.bin"); err != nil {
		t.Fatal(err)
	}
	file := openFile(t, f, "data/big.bin")
	u, ok := file.(interface{ Unwrap() afero.File })
	if !ok {
		t.Fatalf("%T has no Unwrap", file)
	}
	if _, ok := u.Unwrap().(*os.File); !ok {
		t.Fatalf("Unwrap gives %T, want *os.File", u.Unwrap())
	}
}
