// Package hubtest is an in-process Hugging Face Hub for tests.
//
// A Server serves in-memory repositories with branches, tags, special refs
// (refs/convert/parquet, refs/pr/N) and commits through the same HTTP API the
// Hub speaks: repo info, paginated tree listings with Link headers,
// paths-info (form and JSON bodies), /resolve/ with a 307 relative redirect
// for small files and a 302 to a separate signed "CDN" server for large
// (LFS) files, X-Error-Code errors, bearer-token auth, private and gated
// repositories, and ratelimit headers. It injects faults (5xx, 429,
// connection reset mid-body, truncated body, latency) by rate or by schedule,
// and counts requests and body bytes so tests can assert what travelled.
//
// A Server is safe for concurrent use. Nothing here talks to the real Hub.
package hubtest

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FaultKind names one kind of injected failure.
type FaultKind int

const (
	// FaultNone lets the request through untouched.
	FaultNone FaultKind = iota
	// Fault5xx answers 503 Service Unavailable before doing anything.
	Fault5xx
	// Fault429 answers 429 with a ratelimit header saying r=0 and
	// t=RateLimitReset seconds.
	Fault429
	// FaultReset sends the headers and part of the body, then resets the
	// TCP connection.
	FaultReset
	// FaultTruncate announces the full Content-Length, sends part of the
	// body and closes the connection.
	FaultTruncate
	// FaultLatency sleeps Latency before answering normally.
	FaultLatency
)

// String returns the fault's name.
func (k FaultKind) String() string {
	switch k {
	case FaultNone:
		return "none"
	case Fault5xx:
		return "5xx"
	case Fault429:
		return "429"
	case FaultReset:
		return "reset"
	case FaultTruncate:
		return "truncate"
	case FaultLatency:
		return "latency"
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// FaultConfig injects faults at random. The zero value injects nothing.
type FaultConfig struct {
	// Rate is the probability (0..1) that a request gets a fault.
	Rate float64
	// Kinds are chosen uniformly among for a faulted request. Default:
	// Fault5xx, Fault429, FaultReset, FaultTruncate.
	Kinds []FaultKind
	// Seed makes the sequence of faults reproducible.
	Seed uint64
	// Latency is the delay of FaultLatency. Default 10ms.
	Latency time.Duration
	// RateLimitReset is the t= value (seconds) of injected 429s. Default 0.
	RateLimitReset int
}

// Stats counts what the server handled. Bytes are response body bytes
// actually written (a cut-off body counts what was sent).
type Stats struct {
	Requests    int64 // all requests, Hub and CDN
	HubRequests int64
	CDNRequests int64
	Resolves    int64 // requests to /resolve/ URLs
	Bytes       int64 // body bytes of every response
	FileBytes   int64 // body bytes of file content (resolve-cache and CDN)
	Faults      int64 // requests that got an injected fault
}

// RecordedRequest is what a handler received, kept for assertions.
type RecordedRequest struct {
	Method string
	Path   string // escaped path without query
	Header http.Header
}

// Server is an in-process Hub. Create it with New and Close it when done.
type Server struct {
	// URL is the Hub endpoint, e.g. http://127.0.0.1:PORT (pass it to
	// hubfs.WithEndpoint).
	URL string
	// CDNURL is the base URL of the separate CDN server that large files
	// redirect to. It is a different host:port than URL.
	CDNURL string

	hub *httptest.Server
	cdn *httptest.Server

	mu            sync.Mutex
	repos         map[string]*Repo // key: "datasets/org/name"
	blobs         map[string][]byte
	gitIDs        map[string]string // blob key -> git blob SHA-1
	tokens        map[string]bool
	pageSize      int
	lfsThreshold  int
	cdnTTL        time.Duration
	faults        FaultConfig
	rng           *rand.Rand
	schedule      []FaultKind
	stats         Stats
	cdnReqs       []RecordedRequest
	hubReqs       []RecordedRequest
	quota         int // resolver quota per window, 0 = unlimited
	used          int
	windowStart   time.Time
	signKey       []byte
	commitCounter int
	ignoreRange   bool
}

// New starts a Hub server and its CDN on loopback.
func New() *Server {
	s := &Server{
		repos:        map[string]*Repo{},
		blobs:        map[string][]byte{},
		gitIDs:       map[string]string{},
		tokens:       map[string]bool{},
		pageSize:     1000,
		lfsThreshold: 4096,
		cdnTTL:       time.Hour,
		rng:          rand.New(rand.NewPCG(1, 2)),
		signKey:      []byte("hubtest-signing-key"),
		windowStart:  time.Now(),
	}
	s.hub = newServer(http.HandlerFunc(s.serveHub))
	s.cdn = newServer(http.HandlerFunc(s.serveCDN))
	s.URL = s.hub.URL
	// Use "localhost" for the CDN so that it is a different host than the
	// Hub's 127.0.0.1 even without ports: clients must treat it as foreign.
	s.CDNURL = strings.Replace(s.cdn.URL, "127.0.0.1", "localhost", 1)
	return s
}

// newServer starts an httptest server whose connections have large send
// buffers, so that a file body is handed to the kernel in few writes
// rather than parking the handler every few hundred kilobytes.
func newServer(h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = bigBufListener{srv.Listener}
	srv.Start()
	return srv
}

// sendBuffer is the socket send buffer of served connections.
const sendBuffer = 4 << 20

type bigBufListener struct{ net.Listener }

func (l bigBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(sendBuffer)
	}
	return c, err
}

// Close shuts both servers down.
func (s *Server) Close() {
	s.hub.Close()
	s.cdn.Close()
}

// Client returns an http.Client suited to both servers.
func (s *Server) Client() *http.Client { return s.hub.Client() }

// SetPageSize sets how many entries a tree page holds (default 1000).
func (s *Server) SetPageSize(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pageSize = max(n, 1)
}

// SetLFSThreshold sets the size from which files are stored as LFS and
// served through the CDN (default 4096 bytes).
func (s *Server) SetLFSThreshold(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lfsThreshold = n
}

// SetCDNURLTTL sets how long signed CDN URLs stay valid (default 1h). The
// CDN answers 403 to an expired URL.
func (s *Server) SetCDNURLTTL(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cdnTTL = d
}

// defaultFaultLatency is FaultConfig.Latency's default.
const defaultFaultLatency = 10 * time.Millisecond

// latency is the delay of FaultLatency, random or scheduled.
func (c FaultConfig) latency() time.Duration {
	if c.Latency == 0 {
		return defaultFaultLatency
	}
	return c.Latency
}

// SetFaults replaces the random fault configuration.
func (s *Server) SetFaults(c FaultConfig) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(c.Kinds) == 0 {
		c.Kinds = []FaultKind{Fault5xx, Fault429, FaultReset, FaultTruncate}
	}
	s.faults = c
	s.rng = rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
}

// Schedule queues faults for the next requests, one per request, in order;
// FaultNone lets a request through. Scheduled faults take precedence over
// random ones.
func (s *Server) Schedule(kinds ...FaultKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.schedule = append(s.schedule, kinds...)
}

// SetResolverQuota limits /resolve/ requests per 5-minute window, like the
// Hub's "resolvers" bucket; 0 (the default) means unlimited. Over quota the
// server answers 429 with the ratelimit header's reset.
func (s *Server) SetResolverQuota(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota, s.used, s.windowStart = n, 0, time.Now()
}

// SetIgnoreRange makes file servers ignore Range headers and answer 200
// with the whole body, like a CDN that gzips or does not support ranges.
func (s *Server) SetIgnoreRange(ignore bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ignoreRange = ignore
}

// AddToken makes token a valid credential.
func (s *Server) AddToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = true
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats zeroes the counters and forgets recorded requests.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
	s.cdnReqs = nil
	s.hubReqs = nil
}

// CDNRequests returns the requests the CDN received, with their headers.
func (s *Server) CDNRequests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cdnReqs)
}

// HubRequests returns the requests the Hub received, with their headers.
func (s *Server) HubRequests() []RecordedRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hubReqs)
}

// Repo is one repository on the server.
type Repo struct {
	s       *Server
	Type    string // "model", "dataset" or "space"
	ID      string // "org/name"
	private bool
	gated   string // "", "auto" or "manual"
	allowed map[string]bool
	refs    map[string]string // branch, tag or special ref -> commit
	commits map[string]*commit
}

type commit struct {
	id    string
	files map[string]string // path -> blob key (sha256 hex of content)
}

// AddRepo creates an empty repository of type typ ("model", "dataset",
// "space") named id ("org/name"). Adding an existing repo returns it.
func (s *Server) AddRepo(typ, id string) *Repo {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := typ + "s/" + id
	if r, ok := s.repos[key]; ok {
		return r
	}
	r := &Repo{s: s, Type: typ, ID: id, allowed: map[string]bool{},
		refs: map[string]string{}, commits: map[string]*commit{}}
	s.repos[key] = r
	return r
}

// Commit records a new commit on ref (a branch, tag or special ref such as
// "refs/convert/parquet") whose tree is exactly files, and returns its
// 40-hex id.
func (r *Repo) Commit(ref string, files map[string][]byte) string {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commitCounter++
	h := sha1.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\x00", r.ID, ref, s.commitCounter, r.refs[ref])
	c := &commit{files: map[string]string{}}
	for _, p := range slices.Sorted(mapKeys(files)) {
		data := files[p]
		sum := sha256.Sum256(data)
		key := hex.EncodeToString(sum[:])
		if _, ok := s.blobs[key]; !ok {
			s.blobs[key] = slices.Clone(data)
			s.gitIDs[key] = GitBlobID(data)
		}
		c.files[p] = key
		fmt.Fprintf(h, "%s\x00%s\x00", p, key)
	}
	c.id = hex.EncodeToString(h.Sum(nil))
	r.commits[c.id] = c
	r.refs[ref] = c.id
	return c.id
}

// SetRef points ref (a branch, tag or special ref) at an existing commit.
func (r *Repo) SetRef(ref, commitID string) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.refs[ref] = commitID
}

// SetPrivate makes the repo visible only to valid tokens.
func (r *Repo) SetPrivate(private bool) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.private = private
}

// SetGated gates file contents ("auto" or "manual"; "" ungates). Metadata
// stays public; file downloads need a token that Approve was called for.
func (r *Repo) SetGated(mode string) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.gated = mode
}

// Approve grants token access to a gated repo.
func (r *Repo) Approve(token string) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.allowed[token] = true
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// GitBlobID returns the git blob SHA-1 of data, the oid and etag of a
// non-LFS file.
func GitBlobID(data []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(data))
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// SHA256 returns the hex sha256 of data, the etag of an LFS file.
func SHA256(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// ---- request plumbing ------------------------------------------------------

// countingWriter counts body bytes and can cut the body short.
type countingWriter struct {
	http.ResponseWriter
	s       *Server
	file    bool
	n       int64
	limit   int64 // cut the body after this many bytes; -1 = no limit
	cut     FaultKind
	written bool
}

func (w *countingWriter) Write(p []byte) (int, error) {
	if w.limit >= 0 && w.n+int64(len(p)) > w.limit {
		keep := w.limit - w.n
		if keep > 0 {
			w.add(keep)
			n, _ := w.ResponseWriter.Write(p[:keep])
			w.add(int64(n) - keep)
		}
		if f, ok := w.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		w.abort()
	}
	// Count before writing: the client may have the bytes before Write
	// returns here, and tests read the counters as soon as it does.
	w.add(int64(len(p)))
	n, err := w.ResponseWriter.Write(p)
	if n < len(p) {
		w.add(int64(n - len(p)))
	}
	return n, err
}

// WriteHeader applies a cut fault to bodiless answers (redirects) too: the
// connection ends before the status line.
func (w *countingWriter) WriteHeader(code int) {
	if w.cut != FaultNone && code >= 300 && code < 400 {
		w.abort()
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) add(n int64) {
	w.n += n
	w.s.mu.Lock()
	w.s.stats.Bytes += n
	if w.file {
		w.s.stats.FileBytes += n
	}
	w.s.mu.Unlock()
}

// abort ends the connection abruptly: a TCP reset for FaultReset, a plain
// close for FaultTruncate. It never returns.
func (w *countingWriter) abort() {
	if w.cut == FaultReset {
		if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				if tc, ok := conn.(*net.TCPConn); ok {
					_ = tc.SetLinger(0)
				}
				_ = conn.Close()
			}
		}
	}
	panic(http.ErrAbortHandler)
}

// begin records the request, applies rate-limit headers and picks a fault.
// It returns the wrapped writer and false when the request was already
// answered.
func (s *Server) begin(w http.ResponseWriter, r *http.Request, cdn bool) (*countingWriter, bool) {
	s.mu.Lock()
	s.stats.Requests++
	rec := RecordedRequest{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone()}
	if cdn {
		s.stats.CDNRequests++
		s.cdnReqs = append(s.cdnReqs, rec)
	} else {
		s.stats.HubRequests++
		s.hubReqs = append(s.hubReqs, rec)
	}
	fault := FaultNone
	if len(s.schedule) > 0 {
		fault, s.schedule = s.schedule[0], s.schedule[1:]
	} else if s.faults.Rate > 0 && s.rng.Float64() < s.faults.Rate {
		fault = s.faults.Kinds[s.rng.IntN(len(s.faults.Kinds))]
	}
	if fault != FaultNone {
		s.stats.Faults++
	}
	latency, reset := s.faults.latency(), s.faults.RateLimitReset
	s.mu.Unlock()

	cw := &countingWriter{ResponseWriter: w, s: s, limit: -1}
	switch fault {
	case Fault5xx:
		writeError(cw, http.StatusServiceUnavailable, "", "Service Unavailable (injected)")
		return nil, false
	case Fault429:
		cw.Header().Set("ratelimit", fmt.Sprintf(`"resolvers";r=0;t=%d`, reset))
		cw.Header().Set("ratelimit-policy", `"fixed window";"resolvers";q=3000;w=300`)
		writeError(cw, http.StatusTooManyRequests, "", "Too Many Requests (injected)")
		return nil, false
	case FaultLatency:
		time.Sleep(latency)
	case FaultReset, FaultTruncate:
		cw.cut = fault
		cw.limit = 0 // set to half the body once its size is known
	}
	return cw, true
}

// startBody sets the cut-off point of a faulted body to half its length.
func (w *countingWriter) startBody(length int64) {
	if w.cut != FaultNone && w.limit == 0 {
		w.limit = length / 2
	}
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	if code != "" {
		w.Header().Set("X-Error-Code", code)
	}
	w.Header().Set("X-Error-Message", msg)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"error": msg})
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if cw, ok := w.(*countingWriter); ok {
		cw.startBody(int64(len(b)))
	}
	_, _ = w.Write(b)
}

// segments splits an escaped path into unescaped segments.
func segments(escaped string) ([]string, bool) {
	raw := strings.Split(strings.Trim(escaped, "/"), "/")
	out := make([]string, 0, len(raw))
	for _, seg := range raw {
		u, err := url.PathUnescape(seg)
		if err != nil {
			return nil, false
		}
		out = append(out, u)
	}
	return out, true
}

// takeRev takes a revision off the front of segs: a special ref written raw
// (refs/convert/x, refs/pr/N) spans three segments, anything else is one
// (already unescaped, so "refs%2Fconvert%2Fparquet" works too).
func takeRev(segs []string) (string, []string, bool) {
	if len(segs) == 0 || segs[0] == "" {
		return "", nil, false
	}
	if segs[0] == "refs" && len(segs) >= 3 && (segs[1] == "convert" || segs[1] == "pr") {
		return strings.Join(segs[:3], "/"), segs[3:], true
	}
	return segs[0], segs[1:], true
}

// ---- Hub handler -----------------------------------------------------------

func (s *Server) serveHub(w http.ResponseWriter, r *http.Request) {
	cw, ok := s.begin(w, r, false)
	if !ok {
		return
	}
	segs, ok := segments(r.URL.EscapedPath())
	if !ok {
		writeError(cw, http.StatusBadRequest, "", "bad path escape")
		return
	}
	if len(segs) > 0 && segs[0] == "api" {
		s.serveAPI(cw, r, segs[1:])
		return
	}
	// /{datasets/|spaces/|}{ns}/{name}/resolve/{rev}/{path...}
	typ := "model"
	if len(segs) > 0 && (segs[0] == "datasets" || segs[0] == "spaces") {
		typ = strings.TrimSuffix(segs[0], "s")
		segs = segs[1:]
	}
	if len(segs) >= 4 && segs[2] == "resolve" {
		s.countResolve()
		rev, rest, ok := takeRev(segs[3:])
		if !ok || len(rest) == 0 {
			writeError(cw, http.StatusBadRequest, "", "missing revision or path")
			return
		}
		s.serveResolve(cw, r, typ, segs[0]+"/"+segs[1], rev, strings.Join(rest, "/"))
		return
	}
	writeError(cw, http.StatusNotFound, "", "Not Found")
}

func (s *Server) countResolve() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Resolves++
}

func (s *Server) serveAPI(w *countingWriter, r *http.Request, segs []string) {
	// /api/resolve-cache/{type}s/{ns}/{name}/{commit}/{path...}
	if len(segs) >= 6 && segs[0] == "resolve-cache" {
		typ := strings.TrimSuffix(segs[1], "s")
		repo, herr := s.lookup(r, typ, segs[2]+"/"+segs[3], true)
		if herr != nil {
			herr.write(w)
			return
		}
		s.serveContent(w, r, repo, segs[4], strings.Join(segs[5:], "/"), false)
		return
	}
	if len(segs) < 3 {
		writeError(w, http.StatusNotFound, "", "Not Found")
		return
	}
	typ := strings.TrimSuffix(segs[0], "s")
	id := segs[1] + "/" + segs[2]
	rest := segs[3:]
	repo, herr := s.lookup(r, typ, id, false)
	if herr != nil {
		herr.write(w)
		return
	}
	switch {
	case len(rest) == 0 && r.Method == http.MethodGet:
		s.serveInfo(w, repo, "main")
	case len(rest) >= 2 && rest[0] == "revision" && r.Method == http.MethodGet:
		rev, _, _ := takeRev(rest[1:])
		s.serveInfo(w, repo, rev)
	case len(rest) >= 2 && rest[0] == "tree" && r.Method == http.MethodGet:
		rev, p, _ := takeRev(rest[1:])
		s.serveTree(w, r, repo, rev, strings.Join(p, "/"))
	case len(rest) >= 2 && rest[0] == "paths-info" && r.Method == http.MethodPost:
		rev, _, _ := takeRev(rest[1:])
		s.servePathsInfo(w, r, repo, rev)
	case len(rest) == 1 && rest[0] == "refs" && r.Method == http.MethodGet:
		s.serveRefs(w, repo)
	default:
		writeError(w, http.StatusNotFound, "", "Not Found")
	}
}

type hubErr struct {
	status    int
	code, msg string
}

func (e *hubErr) write(w http.ResponseWriter) {
	if e.code == "GatedRepo" && e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Authentication required", charset="UTF-8"`)
	}
	writeError(w, e.status, e.code, e.msg)
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(a, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// lookup finds a repo and applies auth the way the Hub does.
func (s *Server) lookup(r *http.Request, typ, id string, content bool) (*Repo, *hubErr) {
	tok := bearer(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	valid := tok != "" && s.tokens[tok]
	if tok != "" && !valid {
		return nil, &hubErr{http.StatusUnauthorized, "", "Invalid credentials in Authorization header"}
	}
	repo := s.repos[typ+"s/"+id]
	if repo == nil || (repo.private && !valid) {
		if !valid {
			return nil, &hubErr{http.StatusUnauthorized, "RepoNotFound", "Repository not found. Invalid username or password."}
		}
		return nil, &hubErr{http.StatusNotFound, "RepoNotFound", "Repository not found"}
	}
	if content && repo.gated != "" && !repo.allowed[tok] {
		if !valid {
			return nil, &hubErr{http.StatusUnauthorized, "GatedRepo",
				"Access to dataset " + id + " is restricted. You must have access to it and be authenticated to access it. Please log in."}
		}
		return nil, &hubErr{http.StatusForbidden, "GatedRepo",
			"Access to dataset " + id + " is restricted and you are not in the authorized list. Visit https://huggingface.co/datasets/" + id + " to ask for access."}
	}
	return repo, nil
}

// commitFor resolves a revision (ref name or commit id) under s.mu.
func (r *Repo) commitFor(rev string) *commit {
	if id, ok := r.refs[rev]; ok {
		return r.commits[id]
	}
	if !strings.HasPrefix(rev, "refs/") {
		if id, ok := r.refs["refs/heads/"+rev]; ok {
			return r.commits[id]
		}
	}
	return r.commits[rev]
}

func (s *Server) serveInfo(w http.ResponseWriter, repo *Repo, rev string) {
	s.mu.Lock()
	c := repo.commitFor(rev)
	if c == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	siblings := []map[string]string{}
	for _, p := range slices.Sorted(mapKeys(c.files)) {
		siblings = append(siblings, map[string]string{"rfilename": p})
	}
	var gated any = false
	if repo.gated != "" {
		gated = repo.gated
	}
	info := map[string]any{
		"_id": repo.ID, "id": repo.ID, "author": strings.Split(repo.ID, "/")[0],
		"sha": c.id, "private": repo.private, "gated": gated, "disabled": false,
		"siblings": siblings, "lastModified": "2026-01-01T00:00:00.000Z",
	}
	s.mu.Unlock()
	writeJSON(w, info)
}

// Entry is one tree or paths-info item as the Hub sends it.
type Entry struct {
	Type string `json:"type"`
	OID  string `json:"oid"`
	Size int64  `json:"size"`
	Path string `json:"path"`
	LFS  *LFS   `json:"lfs,omitempty"`
}

// LFS is the lfs object of a tree entry.
type LFS struct {
	OID         string `json:"oid"`
	Size        int64  `json:"size"`
	PointerSize int    `json:"pointerSize"`
}

// entries lists the tree of c under dir, under s.mu.
func (s *Server) entries(c *commit, dir string, recursive bool) ([]Entry, bool) {
	dirs := map[string]bool{}
	var files []Entry
	found := dir == ""
	for p, key := range c.files {
		if dir != "" {
			if p == dir {
				return nil, false // a file, not a directory
			}
			if !strings.HasPrefix(p, dir+"/") {
				continue
			}
		}
		found = true
		rel := p
		if dir != "" {
			rel = p[len(dir)+1:]
		}
		parts := strings.Split(rel, "/")
		// directories between dir and the file
		for i := 1; i < len(parts); i++ {
			if !recursive && i > 1 {
				break
			}
			d := path.Join(dir, strings.Join(parts[:i], "/"))
			dirs[d] = true
		}
		if !recursive && len(parts) > 1 {
			continue
		}
		files = append(files, s.fileEntry(p, key))
	}
	if !found {
		return nil, false
	}
	var out []Entry
	for _, d := range slices.Sorted(mapKeys(dirs)) {
		h := sha1.Sum([]byte(c.id + "\x00" + d))
		out = append(out, Entry{Type: "directory", OID: hex.EncodeToString(h[:]), Path: d})
	}
	slices.SortFunc(files, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	return append(out, files...), true
}

func (s *Server) fileEntry(p, key string) Entry {
	data := s.blobs[key]
	e := Entry{Type: "file", OID: s.gitIDs[key], Size: int64(len(data)), Path: p}
	if len(data) >= s.lfsThreshold {
		e.OID = GitBlobID(fmt.Appendf(nil, "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n", key, len(data)))
		e.LFS = &LFS{OID: key, Size: int64(len(data)), PointerSize: 134}
	}
	return e
}

func (s *Server) serveTree(w http.ResponseWriter, r *http.Request, repo *Repo, rev, dir string) {
	q := r.URL.Query()
	recursive := false
	switch q.Get("recursive") {
	case "true", "1", "True":
		recursive = true
	}
	s.mu.Lock()
	c := repo.commitFor(rev)
	if c == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	all, ok := s.entries(c, strings.Trim(dir, "/"), recursive)
	pageSize := s.pageSize
	s.mu.Unlock()
	if !ok {
		writeError(w, http.StatusNotFound, "EntryNotFound", dir+" does not exist on \""+rev+"\"")
		return
	}
	if l, err := strconv.Atoi(q.Get("limit")); err == nil && l > 0 && l < pageSize {
		pageSize = l
	}
	start := 0
	if cur := q.Get("cursor"); cur != "" {
		b, err := base64.RawURLEncoding.DecodeString(cur)
		if err == nil {
			start, err = strconv.Atoi(string(b))
		}
		if err != nil || start < 0 || start > len(all) {
			writeError(w, http.StatusBadRequest, "", "Invalid cursor")
			return
		}
	}
	end := min(start+pageSize, len(all))
	if end < len(all) {
		next := *r.URL
		nq := next.Query()
		nq.Set("cursor", base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end))))
		next.RawQuery = nq.Encode()
		w.Header().Set("Link", "<"+s.URL+next.RequestURI()+`>; rel="next"`)
	}
	page := all[start:end]
	if page == nil {
		page = []Entry{}
	}
	writeJSON(w, page)
}

func (s *Server) servePathsInfo(w http.ResponseWriter, r *http.Request, repo *Repo, rev string) {
	var paths []string
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body struct {
			Paths []string `json:"paths"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, "", "bad JSON body")
			return
		}
		paths = body.Paths
	} else {
		if err := r.ParseForm(); err != nil {
			writeError(w, http.StatusBadRequest, "", "bad form body")
			return
		}
		paths = r.PostForm["paths"]
	}
	s.mu.Lock()
	c := repo.commitFor(rev)
	if c == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	out := []Entry{}
	for _, p := range paths {
		p = strings.Trim(p, "/")
		if key, ok := c.files[p]; ok {
			out = append(out, s.fileEntry(p, key))
			continue
		}
		for f := range c.files {
			if strings.HasPrefix(f, p+"/") {
				h := sha1.Sum([]byte(c.id + "\x00" + p))
				out = append(out, Entry{Type: "directory", OID: hex.EncodeToString(h[:]), Path: p})
				break
			}
		}
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

func (s *Server) serveRefs(w http.ResponseWriter, repo *Repo) {
	type ref struct {
		Name         string `json:"name"`
		Ref          string `json:"ref"`
		TargetCommit string `json:"targetCommit"`
	}
	out := map[string][]ref{"branches": {}, "tags": {}, "converts": {}, "pullRequests": {}}
	s.mu.Lock()
	for _, name := range slices.Sorted(mapKeys(repo.refs)) {
		id := repo.refs[name]
		switch {
		case strings.HasPrefix(name, "refs/convert/"):
			out["converts"] = append(out["converts"], ref{strings.TrimPrefix(name, "refs/convert/"), name, id})
		case strings.HasPrefix(name, "refs/pr/"):
			out["pullRequests"] = append(out["pullRequests"], ref{name, name, id})
		default:
			out["branches"] = append(out["branches"], ref{name, "refs/heads/" + name, id})
		}
	}
	s.mu.Unlock()
	writeJSON(w, out)
}

// serveResolve answers /resolve/: 307 to resolve-cache for small files, 302
// to the signed CDN for LFS files, with the Hub-hop metadata headers.
func (s *Server) serveResolve(w *countingWriter, r *http.Request, typ, id, rev, p string) {
	if herr := s.checkQuota(w); herr {
		return
	}
	repo, herr := s.lookup(r, typ, id, true)
	if herr != nil {
		herr.write(w)
		return
	}
	s.mu.Lock()
	c := repo.commitFor(rev)
	if c == nil {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "RevisionNotFound", "Invalid rev id: "+rev)
		return
	}
	key, ok := c.files[p]
	if !ok {
		s.mu.Unlock()
		w.Header().Set("X-Repo-Commit", c.id)
		writeError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	e := s.fileEntry(p, key)
	ttl := s.cdnTTL
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-Repo-Commit", c.id)
	h.Set("Accept-Ranges", "bytes")
	if e.LFS != nil {
		exp := time.Now().Add(ttl).Unix()
		sig := s.sign(key, exp)
		loc := fmt.Sprintf("%s/xet-bridge-us/%s?Expires=%d&Signature=%s", s.CDNURL, key, exp, sig)
		h.Set("X-Linked-Size", strconv.FormatInt(e.Size, 10))
		h.Set("X-Linked-Etag", `"`+key+`"`)
		h.Set("ETag", `"`+e.OID+`"`)
		h.Set("Location", loc)
		w.WriteHeader(http.StatusFound)
		return
	}
	h.Set("ETag", `"`+e.OID+`"`)
	h.Set("X-Linked-Etag", `"`+e.OID+`"`)
	loc := fmt.Sprintf("/api/resolve-cache/%ss/%s/%s/%s?etag=%%22%s%%22", typ, id, c.id, escapePath(p), e.OID)
	h.Set("Location", loc)
	w.WriteHeader(http.StatusTemporaryRedirect)
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// checkQuota applies the resolver quota; it reports whether it answered.
func (s *Server) checkQuota(w http.ResponseWriter) bool {
	s.mu.Lock()
	const window = 300
	if time.Since(s.windowStart) > window*time.Second {
		s.windowStart, s.used = time.Now(), 0
	}
	reset := window - int(time.Since(s.windowStart).Seconds())
	q := s.quota
	if q == 0 {
		q = 3000
	} else {
		s.used++
	}
	remaining := max(q-s.used, 0)
	w.Header().Set("ratelimit", fmt.Sprintf(`"resolvers";r=%d;t=%d`, remaining, reset))
	w.Header().Set("ratelimit-policy", fmt.Sprintf(`"fixed window";"resolvers";q=%d;w=%d`, q, window))
	over := s.quota > 0 && s.used > s.quota
	s.mu.Unlock() // writing the body takes s.mu to count bytes
	if over {
		writeError(w, http.StatusTooManyRequests, "", "You have exceeded our rate limit for resolvers")
	}
	return over
}

func (s *Server) serveContent(w *countingWriter, r *http.Request, repo *Repo, commitID, p string, cdn bool) {
	s.mu.Lock()
	c := repo.commits[commitID]
	var data []byte
	if c != nil {
		if key, ok := c.files[p]; ok {
			data = s.blobs[key]
		} else {
			c = nil
		}
	}
	s.mu.Unlock()
	if c == nil {
		writeError(w, http.StatusNotFound, "EntryNotFound", "Entry not found")
		return
	}
	s.serveBytes(w, r, data)
}

// serveBytes serves data honouring a single Range, like a CDN: 206 with
// Content-Range, 416 past the end, 200 without Range.
func (s *Server) serveBytes(w *countingWriter, r *http.Request, data []byte) {
	w.file = true
	size := int64(len(data))
	h := w.Header()
	h.Set("Accept-Ranges", "bytes")
	h.Set("Content-Type", "application/octet-stream")
	rng := r.Header.Get("Range")
	s.mu.Lock()
	ignore := s.ignoreRange
	s.mu.Unlock()
	if rng == "" || ignore {
		h.Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		w.startBody(size)
		if r.Method != http.MethodHead {
			_, _ = w.Write(data)
		}
		return
	}
	start, end, ok := parseRange(rng, size)
	if !ok {
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", size))
		writeError(w, http.StatusRequestedRangeNotSatisfiable, "", "Requested Range Not Satisfiable")
		return
	}
	h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, end-1, size))
	h.Set("Content-Length", strconv.FormatInt(end-start, 10))
	w.WriteHeader(http.StatusPartialContent)
	w.startBody(end - start)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data[start:end])
	}
}

// parseRange parses "bytes=a-b", "bytes=a-" or "bytes=-n" against size and
// returns [start, end). ok is false when the range is not satisfiable.
func parseRange(h string, size int64) (start, end int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(spec, "-")
	if !found {
		return 0, 0, false
	}
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 || size == 0 {
			return 0, 0, false
		}
		return max(size-n, 0), size, true
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 || start >= size {
		return 0, 0, false
	}
	end = size
	if b != "" {
		last, err := strconv.ParseInt(b, 10, 64)
		if err != nil || last < start {
			return 0, 0, false
		}
		end = min(last+1, size)
	}
	return start, end, true
}

// ---- CDN handler -----------------------------------------------------------

func (s *Server) sign(key string, exp int64) string {
	m := hmac.New(sha256.New, s.signKey)
	fmt.Fprintf(m, "%s:%d", key, exp)
	return hex.EncodeToString(m.Sum(nil))[:32]
}

func (s *Server) serveCDN(w http.ResponseWriter, r *http.Request) {
	cw, ok := s.begin(w, r, true)
	if !ok {
		return
	}
	key := path.Base(r.URL.Path)
	q := r.URL.Query()
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil || !hmac.Equal([]byte(q.Get("Signature")), []byte(s.sign(key, exp))) {
		writeError(cw, http.StatusForbidden, "", "SignatureDoesNotMatch")
		return
	}
	if time.Now().Unix() > exp {
		writeError(cw, http.StatusForbidden, "", "Request has expired")
		return
	}
	s.mu.Lock()
	data, found := s.blobs[key]
	s.mu.Unlock()
	if !found {
		writeError(cw, http.StatusNotFound, "", "NoSuchKey")
		return
	}
	cw.Header().Set("ETag", `"xet-`+key[:16]+`"`)
	s.serveBytes(cw, r, data)
}

// CommitDir commits the regular files under the OS directory dir (paths
// relative to it, "/"-separated) to ref and returns the commit id.
func (r *Repo) CommitDir(ref, dir string) (string, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = data
		return nil
	})
	if err != nil {
		return "", err
	}
	return r.Commit(ref, files), nil
}
