package hubfs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"

	"github.com/quiverdata/quiver/hubfs/hubtest"
)

const secretToken = "hf_SECRETtoken0123456789"

func TestRedirectsKeepTokenOnHub(t *testing.T) {
	srv, files, _ := sampleHub(t)
	srv.AddToken(secretToken)
	f := openRepo(t, srv, sampleID, WithToken(secretToken))
	srv.ResetStats()
	// big.bin is LFS: 302 to the CDN. README.md: 307 to resolve-cache.
	for _, name := range []string{"data/big.bin", "README.md"} {
		got, err := afero.ReadFile(f, name)
		if err != nil || !bytes.Equal(got, files[name]) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	cdn := srv.CDNRequests()
	if len(cdn) == 0 {
		t.Fatal("no request reached the CDN")
	}
	for _, r := range cdn {
		if h := r.Header.Get("Authorization"); h != "" {
			t.Errorf("CDN received Authorization %q", h)
		}
		if r.Header.Get("Accept-Encoding") != "identity" || r.Header.Get("Range") == "" {
			t.Errorf("CDN request headers %v", r.Header)
		}
	}
	var resolveCache int
	for _, r := range srv.HubRequests() {
		if r.Header.Get("Authorization") != "Bearer "+secretToken {
			t.Errorf("Hub request %s without the token", r.Path)
		}
		if strings.HasPrefix(r.Path, "/api/resolve-cache/") {
			resolveCache++
		}
	}
	if resolveCache == 0 {
		t.Error("the 307 to resolve-cache was not followed")
	}
}

func TestSignedLocationReused(t *testing.T) {
	srv, files, _ := sampleHub(t)
	f := openRepo(t, srv, sampleID)
	file := openFile(t, f, "data/big.bin")
	srv.ResetStats()
	p := make([]byte, 100)
	for i := range 10 {
		off := int64(i * 20_000)
		if _, err := file.ReadAt(p, off); err != nil || !bytes.Equal(p, files["data/big.bin"][off:off+100]) {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
	}
	st := srv.Stats()
	if st.Resolves != 1 || st.CDNRequests != 10 {
		t.Errorf("10 reads: %d resolves, %d CDN requests; want 1 and 10", st.Resolves, st.CDNRequests)
	}

	// An expired URL (403 from the CDN) is resolved again once.
	f.mu.Lock()
	for k, l := range f.locs {
		q := l.u.Query()
		q.Set("Expires", fmt.Sprint(time.Now().Add(-time.Minute).Unix()))
		l.u.RawQuery = q.Encode()
		l.expires = time.Now().Add(time.Hour) // the client still trusts it
		f.locs[k] = l
	}
	f.mu.Unlock()
	srv.ResetStats()
	if _, err := file.ReadAt(p, 5); err != nil || !bytes.Equal(p, files["data/big.bin"][5:105]) {
		t.Fatalf("ReadAt after expiry: %v", err)
	}
	if st := srv.Stats(); st.Resolves != 1 || st.CDNRequests != 2 {
		t.Errorf("after expiry: %d resolves, %d CDN requests; want 1 and 2", st.Resolves, st.CDNRequests)
	}
}

func TestRangeAnsweredWith200(t *testing.T) {
	srv, files, _ := sampleHub(t)
	srv.SetIgnoreRange(true)
	f := openRepo(t, srv, sampleID, WithBlockSize(8192))
	for _, name := range []string{"data/big.bin", "other/medium.bin", "README.md"} {
		checkAllReads(t, f, name, files[name])
	}
}

func TestRange416AtEOF(t *testing.T) {
	srv, _, _ := sampleHub(t)
	f := openRepo(t, srv, sampleID)
	for _, name := range []string{"data/big.bin", "README.md"} {
		e, err := f.Entry(name)
		if err != nil {
			t.Fatal(err)
		}
		// Ask the server for a range starting at the end: it answers 416.
		body, err := f.openRange(context.Background(), e, e.Size, -1)
		if err != io.EOF || body != nil {
			t.Fatalf("%s: range at EOF = %v, %v; want io.EOF", name, body, err)
		}
	}
	// A file listed longer than it is: the missing tail is an error, not a hang.
	e, _ := f.Entry("README.md")
	long := *e
	long.Size += 10
	r := newRemoteFile(f, &long)
	if _, err := io.ReadAll(r); err == nil {
		t.Fatal("reading past the real end succeeded")
	}
}

func TestFaultsTenPercent(t *testing.T) {
	srv, files, _ := sampleHub(t)
	srv.SetFaults(hubtest.FaultConfig{Rate: 0.10, Seed: 42,
		Kinds:   []hubtest.FaultKind{hubtest.Fault5xx, hubtest.Fault429, hubtest.FaultReset, hubtest.FaultTruncate, hubtest.FaultLatency},
		Latency: time.Millisecond})
	sl := &sleeps{}
	f := openRepo(t, srv, sampleID, sl.option(), WithBlockSize(16<<10), WithReadAhead(4), WithRetries(8))
	for round := range 3 {
		for name, want := range files {
			checkAllReads(t, f, name, want)
		}
		_ = round
	}
	if st := srv.Stats(); st.Faults < 10 {
		t.Fatalf("only %d faults injected in %d requests", st.Faults, st.Requests)
	} else {
		t.Logf("%d requests, %d faults, %d retries waited", st.Requests, st.Faults, len(sl.all()))
	}
}

func TestRateLimitReset(t *testing.T) {
	srv, files, _ := sampleHub(t)
	srv.SetFaults(hubtest.FaultConfig{RateLimitReset: 42})
	sl := &sleeps{}
	f := openRepo(t, srv, sampleID, sl.option())
	srv.Schedule(hubtest.Fault429, hubtest.Fault429)
	got, err := afero.ReadFile(f, "README.md")
	if err != nil || !bytes.Equal(got, files["README.md"]) {
		t.Fatalf("ReadFile: %v", err)
	}
	waits := sl.all()
	if len(waits) != 2 {
		t.Fatalf("waits %v, want 2", waits)
	}
	for _, w := range waits {
		if w < 42*time.Second || w > 43*time.Second {
			t.Errorf("waited %v, want the 42s reset", w)
		}
	}

	// Past the retry limit the error says rate limited.
	g := openRepo(t, srv, sampleID, sl.option(), WithRetries(1))
	srv.Schedule(hubtest.Fault429, hubtest.Fault429, hubtest.Fault429)
	if _, err := g.Stat("README.md"); !errors.Is(err, ErrRateLimited) {
		t.Fatalf("Stat = %v, want ErrRateLimited", err)
	}
}

func TestBackoffGrows(t *testing.T) {
	srv, _, _ := sampleHub(t)
	sl := &sleeps{}
	f := openRepo(t, srv, sampleID, sl.option(), WithBackoff(time.Second, 4*time.Second))
	srv.Schedule(hubtest.Fault5xx, hubtest.Fault5xx, hubtest.Fault5xx, hubtest.Fault5xx)
	if _, err := f.Stat("README.md"); err != nil {
		t.Fatal(err)
	}
	w := sl.all()
	if len(w) != 4 {
		t.Fatalf("waits %v", w)
	}
	bounds := [][2]time.Duration{{500 * time.Millisecond, time.Second}, {time.Second, 2 * time.Second},
		{2 * time.Second, 4 * time.Second}, {2 * time.Second, 4 * time.Second}}
	for i, d := range w {
		if d < bounds[i][0] || d > bounds[i][1] {
			t.Errorf("wait %d = %v, want in %v", i, d, bounds[i])
		}
	}
}

func TestErrorMapping(t *testing.T) {
	srv, _, _ := sampleHub(t)
	srv.AddToken(secretToken)
	srv.AddToken("hf_approvedToken999")
	priv := srv.AddRepo("dataset", "org/private")
	priv.Commit("main", map[string][]byte{"a.txt": []byte("private")})
	priv.SetPrivate(true)
	gated := srv.AddRepo("dataset", "org/gated")
	gated.Commit("main", map[string][]byte{"a.txt": []byte("gated")})
	gated.SetGated("manual")
	gated.Approve("hf_approvedToken999")
	ctx := context.Background()

	open := func(id, rev, token string) (*FS, error) {
		return Open(ctx, RepoRef{Type: Dataset, ID: id, Revision: rev}, serverOpts(srv, WithToken(token))...)
	}
	read := func(id, token, name string) error {
		f, err := open(id, "", token)
		if err != nil {
			return err
		}
		_, err = afero.ReadFile(f, name)
		return err
	}
	tests := []struct {
		name string
		err  func() error
		kind error
		code string
	}{
		{"missing repo", func() error { _, err := open("org/none", "", secretToken); return err }, fs.ErrNotExist, "RepoNotFound"},
		{"missing repo anonymous", func() error { _, err := open("org/none", "", ""); return err }, fs.ErrNotExist, "RepoNotFound"},
		{"missing revision", func() error { _, err := open("org/sample", "nobranch", secretToken); return err }, fs.ErrNotExist, "RevisionNotFound"},
		{"missing file", func() error { return read("org/sample", secretToken, "nope.txt") }, fs.ErrNotExist, "EntryNotFound"},
		{"private anonymous", func() error { _, err := open("org/private", "", ""); return err }, fs.ErrPermission, "RepoNotFound"},
		{"bad token", func() error { _, err := open("org/sample", "", "hf_wrongTokenXYZ"); return err }, fs.ErrPermission, ""},
		{"gated anonymous", func() error { return read("org/gated", "", "a.txt") }, fs.ErrPermission, "GatedRepo"},
		{"gated not approved", func() error { return read("org/gated", secretToken, "a.txt") }, fs.ErrPermission, "GatedRepo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if !errors.Is(err, tt.kind) {
				t.Fatalf("error %v, want %v", err, tt.kind)
			}
			var he *Error
			if !errors.As(err, &he) || he.Code != tt.code {
				t.Fatalf("error %#v, want code %q", err, tt.code)
			}
			if strings.Contains(err.Error(), secretToken) || strings.Contains(fmt.Sprintf("%#v", err), secretToken) {
				t.Fatalf("token in error: %v", err)
			}
			if !strings.Contains(err.Error(), "hf://datasets/") {
				t.Errorf("error does not name the location: %v", err)
			}
		})
	}
	if err := read("org/gated", "hf_approvedToken999", "a.txt"); err != nil {
		t.Fatalf("approved token: %v", err)
	}
	if err := read("org/private", secretToken, "a.txt"); err != nil {
		t.Fatalf("private with token: %v", err)
	}
	// The Hub's gated message is kept.
	err := read("org/gated", secretToken, "a.txt")
	if !strings.Contains(err.Error(), "not in the authorized list") {
		t.Errorf("gated message lost: %v", err)
	}
}

func TestTokenFromEnvironment(t *testing.T) {
	testEnv(t)
	home := t.TempDir()
	t.Setenv("HF_HOME", home)
	if err := writeFileAtomic(home+"/token", []byte(" hf_fileToken123\n")); err != nil {
		t.Fatal(err)
	}
	if c := newConfig(nil); c.token != "hf_fileToken123" || c.cacheDir != home+"/hub" {
		t.Errorf("token file: token %q cache %q", c.token, c.cacheDir)
	}
	t.Setenv("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")
	if c := newConfig(nil); c.token != "" {
		t.Errorf("implicit token disabled but got %q", c.token)
	}
	t.Setenv("HF_TOKEN", "hf_envToken456")
	t.Setenv("HF_ENDPOINT", "http://example.test/")
	t.Setenv("HF_HUB_OFFLINE", "yes")
	c := newConfig(nil)
	if c.token != "hf_envToken456" || c.endpoint != "http://example.test" || !c.offline {
		t.Errorf("env config: %q %q %v", c.token, c.endpoint, c.offline)
	}
	if c := newConfig([]Option{WithToken(""), WithEndpoint("http://x/")}); c.token != "" || c.endpoint != "http://x" {
		t.Errorf("options must win over env: %q %q", c.token, c.endpoint)
	}
}

// fakeTree serves a repo whose tree listing contains entries.
func fakeTree(t *testing.T, entries string) *httptest.Server {
	t.Helper()
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/revision/"):
			fmt.Fprint(w, `{"sha":"0123456789abcdef0123456789abcdef01234567"}`)
		case strings.Contains(r.URL.Path, "/tree/"):
			fmt.Fprint(w, entries)
		case strings.Contains(r.URL.Path, "/paths-info/"):
			fmt.Fprint(w, entries)
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestUnsafeListingRejected(t *testing.T) {
	testEnv(t)
	for _, tt := range []struct{ name, entries string }{
		{"dotdot", `[{"type":"file","oid":"a","size":1,"path":"../escape"}]`},
		{"inner dotdot", `[{"type":"file","oid":"a","size":1,"path":"data/../../escape"}]`},
		{"absolute", `[{"type":"file","oid":"a","size":1,"path":"/etc/passwd"}]`},
		{"backslash", `[{"type":"file","oid":"a","size":1,"path":"data\\..\\x"}]`},
		{"empty", `[{"type":"file","oid":"a","size":1,"path":""}]`},
		{"not a child", `[{"type":"file","oid":"a","size":1,"path":"a/b/c"}]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := fakeTree(t, tt.entries)
			defer ts.Close()
			f, err := Open(context.Background(), RepoRef{Type: Dataset, ID: "o/r"},
				WithEndpoint(ts.URL), WithCacheDir(t.TempDir()), WithToken(""))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.ReadDir(""); !errors.Is(err, ErrUnsafePath) {
				t.Errorf("ReadDir = %v, want ErrUnsafePath", err)
			}
			if tt.name != "not a child" {
				if _, err := f.Walk(context.Background(), ""); !errors.Is(err, ErrUnsafePath) {
					t.Errorf("Walk = %v, want ErrUnsafePath", err)
				}
			}
		})
	}
}

func TestCachePathsStayInside(t *testing.T) {
	root := t.TempDir()
	h, err := newHubCache(root, RepoRef{Type: Dataset, ID: "o/r"}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, parts := range [][]string{{"..", "..", "x"}, {"refs", "../../../x"}, {"snapshots", "/../../../etc"}} {
		if p, err := h.join(parts...); err == nil && !strings.HasPrefix(p, root) {
			t.Errorf("join(%q) = %q escapes", parts, p)
		} else if err == nil && parts[0] == ".." {
			t.Errorf("join(%q) accepted", parts)
		}
	}
	if _, err := h.snapshot("0123456789abcdef0123456789abcdef01234567", "../x"); err == nil {
		t.Error("snapshot path with .. accepted")
	}
	if err := h.writeRef("../../evil", "0123456789abcdef0123456789abcdef01234567"); err != nil {
		t.Fatal(err) // silently refused
	}
	if _, ok := h.resolveRef("../../evil"); ok {
		t.Error("ref with .. resolved")
	}
	// An etag that is not a hash is never used as a blob name.
	if d := h.begin(&Entry{Type: "file", Path: "x", OID: "../../../../tmp/evil", Size: 1}, "0123456789abcdef0123456789abcdef01234567", "main"); d != nil {
		t.Error("download started for a non-hash etag")
	}
}
