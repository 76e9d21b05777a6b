package hubtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func get(t *testing.T, u string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestRoutesAndRevisions(t *testing.T) {
	s := New()
	defer s.Close()
	r := s.AddRepo("dataset", "o/d")
	r.Commit("main", map[string][]byte{"a.txt": []byte("main")})
	conv := r.Commit("refs/convert/parquet", map[string][]byte{"default/train/0000.parquet": []byte("pq")})
	for _, rev := range []string{"refs/convert/parquet", "refs%2Fconvert%2Fparquet"} {
		resp := get(t, s.URL+"/api/datasets/o/d/revision/"+rev, nil)
		var info struct{ SHA string }
		_ = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if info.SHA != conv {
			t.Errorf("revision %s: sha %q", rev, info.SHA)
		}
		resp = get(t, s.URL+"/api/datasets/o/d/tree/"+rev+"/default?recursive=1", nil)
		var entries []Entry
		_ = json.NewDecoder(resp.Body).Decode(&entries)
		resp.Body.Close()
		if len(entries) != 2 || entries[0].Path != "default/train" || entries[1].Path != "default/train/0000.parquet" {
			t.Errorf("tree at %s: %+v", rev, entries)
		}
	}
	// paths-info with a JSON body and a form body; missing paths omitted.
	for _, tc := range []struct{ ctype, body string }{
		{"application/json", `{"paths":["a.txt","missing"],"expand":false}`},
		{"application/x-www-form-urlencoded", url.Values{"paths": {"a.txt", "missing"}}.Encode()},
	} {
		resp, err := http.Post(s.URL+"/api/datasets/o/d/paths-info/main", tc.ctype, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var entries []Entry
		_ = json.NewDecoder(resp.Body).Decode(&entries)
		resp.Body.Close()
		if len(entries) != 1 || entries[0].Path != "a.txt" || entries[0].OID != GitBlobID([]byte("main")) {
			t.Errorf("paths-info %s: %+v", tc.ctype, entries)
		}
	}
	// A tree request on a file is EntryNotFound; an unknown revision RevisionNotFound.
	for u, code := range map[string]string{
		"/api/datasets/o/d/tree/main/a.txt": "EntryNotFound",
		"/api/datasets/o/d/tree/nope":       "RevisionNotFound",
		"/datasets/o/d/resolve/main/none":   "EntryNotFound",
	} {
		resp := get(t, s.URL+u, nil)
		resp.Body.Close()
		if resp.StatusCode != 404 || resp.Header.Get("X-Error-Code") != code {
			t.Errorf("%s: %d %q", u, resp.StatusCode, resp.Header.Get("X-Error-Code"))
		}
	}
}

func TestResolveRedirectsAndRanges(t *testing.T) {
	s := New()
	defer s.Close()
	big := []byte(strings.Repeat("0123456789", 1000))
	commit := s.AddRepo("dataset", "o/d").Commit("main", map[string][]byte{"small.txt": []byte("hi"), "big.bin": big})

	resp := get(t, s.URL+"/datasets/o/d/resolve/main/small.txt", nil)
	resp.Body.Close()
	if resp.StatusCode != 307 || !strings.HasPrefix(resp.Header.Get("Location"), "/api/resolve-cache/datasets/o/d/"+commit+"/small.txt") ||
		resp.Header.Get("X-Repo-Commit") != commit {
		t.Fatalf("small: %d %v", resp.StatusCode, resp.Header)
	}
	resp = get(t, s.URL+"/datasets/o/d/resolve/main/big.bin", nil)
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || !strings.HasPrefix(loc, s.CDNURL) || resp.Header.Get("X-Linked-Size") != "10000" ||
		resp.Header.Get("X-Linked-Etag") != `"`+SHA256(big)+`"` {
		t.Fatalf("big: %d %v", resp.StatusCode, resp.Header)
	}
	for _, tc := range []struct {
		rng    string
		status int
		body   string
	}{
		{"bytes=0-3", 206, "0123"},
		{"bytes=9998-", 206, "89"},
		{"bytes=-3", 206, "789"},
		{"bytes=10000-", 416, ""},
	} {
		resp := get(t, loc, map[string]string{"Range": tc.rng})
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.body != "" && string(b) != tc.body) {
			t.Errorf("%s: %d %q", tc.rng, resp.StatusCode, b)
		}
	}
	// A tampered signature is refused.
	resp = get(t, strings.Replace(loc, "Signature=", "Signature=00", 1), nil)
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("bad signature: %d", resp.StatusCode)
	}
	if st := s.Stats(); st.CDNRequests != 5 || st.Resolves != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestQuotaAndFaults(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddRepo("dataset", "o/d").Commit("main", map[string][]byte{"a.txt": []byte("hello world")})
	s.SetResolverQuota(1)
	resp := get(t, s.URL+"/datasets/o/d/resolve/main/a.txt", nil)
	resp.Body.Close()
	resp = get(t, s.URL+"/datasets/o/d/resolve/main/a.txt", nil)
	resp.Body.Close()
	if resp.StatusCode != 429 || !strings.Contains(resp.Header.Get("ratelimit"), "r=0") {
		t.Fatalf("over quota: %d %v", resp.StatusCode, resp.Header)
	}
	s.SetResolverQuota(0)
	s.Schedule(Fault5xx, FaultTruncate)
	resp = get(t, s.URL+"/api/datasets/o/d/tree/main", nil)
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("scheduled 5xx: %d", resp.StatusCode)
	}
	resp = get(t, s.URL+"/api/datasets/o/d/tree/main", nil)
	_, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil {
		t.Error("truncated body read without error")
	}
	if st := s.Stats(); st.Faults != 2 {
		t.Errorf("faults %d", st.Faults)
	}
}

func TestAuth(t *testing.T) {
	s := New()
	defer s.Close()
	s.AddToken("good")
	p := s.AddRepo("dataset", "o/private")
	p.Commit("main", map[string][]byte{"a": []byte("x")})
	p.SetPrivate(true)
	for _, tc := range []struct {
		tok    string
		status int
		code   string
	}{
		{"", 401, "RepoNotFound"},
		{"bad", 401, ""},
		{"good", 200, ""},
	} {
		hdr := map[string]string{}
		if tc.tok != "" {
			hdr["Authorization"] = "Bearer " + tc.tok
		}
		resp := get(t, s.URL+"/api/datasets/o/private", hdr)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("X-Error-Code") != tc.code {
			t.Errorf("token %q: %d %q", tc.tok, resp.StatusCode, resp.Header.Get("X-Error-Code"))
		}
	}
}
