package hubfs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/quiverdata/quiver/hubfs/hubtest"
)

// testEnv isolates tests from the machine's HF_* variables and token file.
func testEnv(t testing.TB) {
	t.Helper()
	for _, k := range []string{"HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH",
		"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
		"HF_HUB_DISABLE_IMPLICIT_TOKEN", "HF_HUB_DISABLE_SYMLINKS"} {
		t.Setenv(k, "")
	}
	t.Setenv("HF_HOME", t.TempDir())
}

// sleeps records waits instead of sleeping, so retry tests run instantly.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) option() Option {
	return func(c *config) {
		c.sleep = func(ctx context.Context, d time.Duration) error {
			s.mu.Lock()
			s.d = append(s.d, d)
			s.mu.Unlock()
			return ctx.Err()
		}
	}
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// serverOpts points hubfs at srv with no cache and instant retries.
func serverOpts(srv *hubtest.Server, extra ...Option) []Option {
	sl := &sleeps{}
	opts := []Option{WithEndpoint(srv.URL), WithCacheDir(""), WithToken(""), sl.option()}
	return append(opts, extra...)
}

// sampleID is the dataset repo sampleHub serves.
const sampleID = "org/sample"

// newHub isolates the test from the machine's HF_* settings (testEnv) and
// starts a hubtest server with no repos; the server is closed when the
// test ends.
func newHub(t testing.TB) *hubtest.Server {
	t.Helper()
	testEnv(t)
	srv := hubtest.New()
	t.Cleanup(srv.Close)
	return srv
}

// sampleHub is newHub with sampleRepo committed as sampleID. It returns
// the server, the committed files by path and the commit id.
func sampleHub(t testing.TB) (*hubtest.Server, map[string][]byte, string) {
	t.Helper()
	srv := newHub(t)
	files, commit := sampleRepo(srv, sampleID)
	return srv, files, commit
}

// openRepo opens the dataset repo id on srv with serverOpts(srv, extra...):
// no cache, no token and instant retries unless extra says otherwise. It
// fails the test if Open fails.
func openRepo(t testing.TB, srv *hubtest.Server, id string, extra ...Option) *FS {
	t.Helper()
	f, err := Open(context.Background(), RepoRef{Type: Dataset, ID: id}, serverOpts(srv, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// openFile opens name on fsys, fails the test if that fails, and closes
// the file when the test ends.
func openFile(t testing.TB, fsys afero.Fs, name string) afero.File {
	t.Helper()
	file, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	return file
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed+1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sampleRepo commits a repo with small, LFS-sized and nested files.
func sampleRepo(srv *hubtest.Server, id string) (map[string][]byte, string) {
	files := map[string][]byte{
		"README.md":                  []byte("# sample\n"),
		".gitattributes":             []byte("*.parquet filter=lfs\n"),
		"data/train-00000.jsonl":     []byte(`{"a":1}` + "\n" + `{"a":2}` + "\n"),
		"data/test-00000.jsonl":      []byte(`{"a":3}` + "\n"),
		"data/big.bin":               randomBytes(1, 300_000),
		"data/nested/deep/file.txt":  []byte("deep\n"),
		"other/medium.bin":           randomBytes(2, 50_000),
		"other/with space & plus+.t": []byte("odd name\n"),
	}
	for i := range 5 {
		files[fmt.Sprintf("shards/part-%02d.bin", i)] = randomBytes(uint64(10+i), 5_000+i*7_777)
	}
	repo := srv.AddRepo("dataset", id)
	return files, repo.Commit("main", files)
}
