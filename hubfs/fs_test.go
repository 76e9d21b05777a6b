package hubfs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/spf13/afero"

	"github.com/quiverdata/quiver/hubfs/hubtest"
)

func TestListingPagination(t *testing.T) {
	srv, files, commit := sampleHub(t)
	srv.SetPageSize(2)
	ctx := context.Background()
	f := openRepo(t, srv, sampleID)
	defer f.Close()
	if f.Commit() != commit {
		t.Fatalf("commit %s, want %s", f.Commit(), commit)
	}

	srv.ResetStats()
	root, err := f.ReadDir("/")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range root {
		names = append(names, e.Path)
	}
	want := []string{".gitattributes", "README.md", "data", "other", "shards"}
	if !slices.Equal(names, want) {
		t.Fatalf("root listing %v, want %v", names, want)
	}
	if got := srv.Stats().HubRequests; got != 3 { // 5 entries, 2 per page
		t.Errorf("root listing took %d requests, want 3 pages", got)
	}

	// Walk the whole tree and compare with what was committed.
	all, err := f.Walk(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var gotFiles []string
	for _, e := range all {
		if !e.IsDir() {
			gotFiles = append(gotFiles, e.Path)
			if e.Size != int64(len(files[e.Path])) {
				t.Errorf("%s: size %d, want %d", e.Path, e.Size, len(files[e.Path]))
			}
		}
	}
	wantFiles := slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	})
	if !slices.Equal(gotFiles, wantFiles) {
		t.Fatalf("walk %v, want %v", gotFiles, wantFiles)
	}

	// The io/fs view passes the standard conformance test.
	srv.ResetStats()
	if err := fstest.TestFS(f.IOFS(), "data/train-00000.jsonl", "data/nested/deep/file.txt", "shards/part-04.bin"); err != nil {
		t.Fatal(err)
	}
	sub, err := f.ReadDir("data/nested")
	if err != nil || len(sub) != 1 || sub[0].Path != "data/nested/deep" || !sub[0].IsDir() {
		t.Fatalf("ReadDir(data/nested) = %v, %v", sub, err)
	}
	if _, err := f.ReadDir("README.md"); err == nil {
		t.Fatal("ReadDir on a file succeeded")
	}
}

func TestStat(t *testing.T) {
	srv, files, _ := sampleHub(t)
	f := openRepo(t, srv, sampleID)
	tests := []struct {
		name    string
		dir     bool
		size    int64
		etag    string
		missing bool
	}{
		{name: "README.md", size: int64(len(files["README.md"])), etag: hubtest.GitBlobID(files["README.md"])},
		{name: "/data/big.bin", size: 300_000, etag: hubtest.SHA256(files["data/big.bin"])},
		{name: "data", dir: true},
		{name: "data/nested/deep", dir: true},
		{name: "", dir: true},
		{name: "other/with space & plus+.t", size: 9, etag: hubtest.GitBlobID(files["other/with space & plus+.t"])},
		{name: "nope.txt", missing: true},
		{name: "data/nope", missing: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fi, err := f.Stat(tt.name)
			if tt.missing {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("Stat = %v, %v; want fs.ErrNotExist", fi, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fi.IsDir() != tt.dir {
				t.Fatalf("IsDir = %v", fi.IsDir())
			}
			if !tt.dir {
				e := fi.Sys().(*Entry)
				if fi.Size() != tt.size || e.ETag() != tt.etag {
					t.Errorf("size %d etag %s, want %d %s", fi.Size(), e.ETag(), tt.size, tt.etag)
				}
				if fi.Mode() != 0o444 {
					t.Errorf("mode %v", fi.Mode())
				}
			}
		})
	}
	if _, err := f.Stat("../etc/passwd"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Stat(..) = %v, want fs.ErrInvalid", err)
	}
	id, err := f.Identity("data/big.bin")
	if err != nil || id != "hf://datasets/org/sample@"+f.Commit()+"/data/big.bin#"+hubtest.SHA256(files["data/big.bin"]) {
		t.Errorf("Identity = %q, %v", id, err)
	}
}

func TestReadOnly(t *testing.T) {
	srv, _, _ := sampleHub(t)
	f := openRepo(t, srv, sampleID)
	file := openFile(t, f, "README.md")
	_, werr := file.Write([]byte("x"))
	_, cerr := f.Create("new.txt")
	_, oerr := f.OpenFile("README.md", 0x1 /* O_WRONLY */, 0)
	for i, err := range []error{werr, cerr, oerr, f.Remove("README.md"), f.Mkdir("d", 0o755),
		f.Rename("README.md", "x"), f.RemoveAll("data"), f.Chmod("README.md", 0o600)} {
		if !errors.Is(err, ErrReadOnly) || !errors.Is(err, fs.ErrPermission) {
			t.Errorf("write op %d: %v, want ErrReadOnly", i, err)
		}
	}
}

func TestReadEveryWay(t *testing.T) {
	srv, files, _ := sampleHub(t)
	f := openRepo(t, srv, sampleID, WithBlockSize(4096), WithReadAhead(4))
	for name, want := range files {
		t.Run(name, func(t *testing.T) {
			checkAllReads(t, f, name, want)
		})
	}
}

// checkAllReads reads name through Read, io.Copy, ReadAt and Seek and
// compares with want.
func checkAllReads(t *testing.T, fsys afero.Fs, name string, want []byte) {
	t.Helper()
	got, err := afero.ReadFile(fsys, name)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile: %d bytes, %v (want %d bytes)", len(got), err, len(want))
	}
	file, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, file); err != nil || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("io.Copy: %d bytes, %v", buf.Len(), err)
	}
	// ReadAt at a few offsets, including a read running past the end.
	for _, off := range []int64{0, 1, int64(len(want)) / 3, int64(len(want)) - 5} {
		if off < 0 {
			continue
		}
		p := make([]byte, 1000)
		n, err := file.ReadAt(p, off)
		wantN := min(1000, len(want)-int(off))
		if n != wantN || !bytes.Equal(p[:n], want[off:int(off)+wantN]) {
			t.Fatalf("ReadAt(%d): n=%d err=%v, want n=%d", off, n, err, wantN)
		}
		if wantN < 1000 && err != io.EOF {
			t.Fatalf("ReadAt(%d) short read without io.EOF: %v", off, err)
		}
	}
	if n, err := file.ReadAt(make([]byte, 1), int64(len(want))); n != 0 || err != io.EOF {
		t.Fatalf("ReadAt(size) = %d, %v; want io.EOF", n, err)
	}
	// Seek then Read the tail.
	if len(want) > 10 {
		if _, err := file.Seek(-10, io.SeekEnd); err != nil {
			t.Fatal(err)
		}
		tail, err := io.ReadAll(file)
		if err != nil || !bytes.Equal(tail, want[len(want)-10:]) {
			t.Fatalf("tail after Seek: %q, %v", tail, err)
		}
	}
}

func TestPathsWithSpecialRevisions(t *testing.T) {
	srv := newHub(t)
	repo := srv.AddRepo("dataset", "org/conv")
	repo.Commit("main", map[string][]byte{"data.csv": []byte("a\n1\n")})
	conv := repo.Commit("refs/convert/parquet", map[string][]byte{"default/train/0000.parquet": []byte("PAR1....PAR1")})
	pr := repo.Commit("refs/pr/7", map[string][]byte{"x.txt": []byte("pr content")})
	repo.Commit("feature/x", map[string][]byte{"y.txt": []byte("feature")})
	for _, tt := range []struct {
		loc, commit, file, content string
	}{
		{"hf://datasets/org/conv@refs/convert/parquet/default/train/0000.parquet", conv, "default/train/0000.parquet", "PAR1....PAR1"},
		{"hf://datasets/org/conv@refs%2Fconvert%2Fparquet/default/train/*.parquet", conv, "default/train/0000.parquet", "PAR1....PAR1"},
		{"hf://datasets/org/conv@refs/pr/7/x.txt", pr, "x.txt", "pr content"},
		{"hf://datasets/org/conv@feature%2Fx/y.txt", "", "y.txt", "feature"},
	} {
		t.Run(tt.loc, func(t *testing.T) {
			res, err := Resolve(context.Background(), tt.loc, serverOpts(srv)...)
			if err != nil {
				t.Fatal(err)
			}
			if tt.commit != "" && res.Commit != tt.commit {
				t.Errorf("commit %s, want %s", res.Commit, tt.commit)
			}
			if !slices.Equal(res.Paths, []string{tt.file}) {
				t.Fatalf("paths %v", res.Paths)
			}
			got, err := afero.ReadFile(res.Fs, tt.file)
			if err != nil || string(got) != tt.content {
				t.Fatalf("content %q, %v", got, err)
			}
		})
	}
	// API requests carry the revision escaped, as huggingface_hub sends it.
	var sawRaw bool
	for _, r := range srv.HubRequests() {
		if strings.Contains(r.Path, "refs%2Fconvert%2Fparquet") {
			sawRaw = true
		}
	}
	if !sawRaw {
		t.Error("revision not escaped in API requests")
	}
}
