package hubfs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// client speaks the Hub's HTTP API for one repository.
type client struct {
	cfg      *config
	hc       *http.Client // cfg.client without automatic redirects
	endpoint *url.URL
	repo     RepoRef
}

func newClient(cfg *config, repo RepoRef) (*client, error) {
	ep, err := url.Parse(cfg.endpoint)
	if err != nil || ep.Scheme == "" || ep.Host == "" {
		return nil, fmt.Errorf("hubfs: invalid endpoint %q", cfg.endpoint)
	}
	hc := *cfg.client
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &client{cfg: cfg, hc: &hc, endpoint: ep, repo: repo}, nil
}

func (c *client) userAgent() string {
	if c.cfg.userAgent != "" {
		return c.cfg.userAgent
	}
	return "hubfs/1; go/" + runtime.Version()
}

// location renders the hf:// location of p at the FS's revision, for errors.
func (c *client) location(p string) string {
	return URL{Repo: c.repo, Path: p}.String()
}

// apiURL builds {endpoint}/api/{type}s/{id}/{parts...}; parts are escaped
// whole (so a revision's "/" becomes %2F).
func (c *client) apiURL(parts ...string) string {
	var b strings.Builder
	b.WriteString(c.cfg.endpoint)
	b.WriteString("/api/")
	b.WriteString(c.repo.Type.plural())
	b.WriteByte('/')
	b.WriteString(c.repo.ID)
	for _, p := range parts {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(p))
	}
	return b.String()
}

// resolveURL builds the /resolve/ URL of p at rev.
func (c *client) resolveURL(rev, p string) string {
	prefix := ""
	switch c.repo.Type {
	case Model, "":
	default:
		prefix = c.repo.Type.plural() + "/"
	}
	return c.cfg.endpoint + "/" + prefix + c.repo.ID + "/resolve/" + url.PathEscape(rev) + "/" + escapePath(p)
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// hopInfo is what the Hub hop of a (redirected) request said.
type hopInfo struct {
	commit  string // X-Repo-Commit
	etag    string // X-Linked-Etag or ETag, unquoted
	size    int64  // X-Linked-Size, -1 if absent
	final   *url.URL
	foreign bool // the final URL is on another host than the endpoint
}

const maxRedirects = 10

// send performs one attempt: it follows redirects itself, sending the token
// only to the endpoint's host, and records the Hub hop's metadata.
func (c *client) send(ctx context.Context, method, rawURL string, hdr http.Header, body []byte) (*http.Response, *hopInfo, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, fmt.Errorf("bad URL: %w", err)
	}
	info := &hopInfo{size: -1}
	for range maxRedirects + 1 {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
		if err != nil {
			return nil, nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		req.Header.Set("User-Agent", c.userAgent())
		req.Header.Set("Accept-Encoding", "identity")
		sameHost := strings.EqualFold(u.Host, c.endpoint.Host) && u.Scheme == c.endpoint.Scheme
		if c.cfg.token != "" && sameHost {
			req.Header.Set("Authorization", "Bearer "+c.cfg.token)
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			return nil, nil, scrubURLError(err)
		}
		if sameHost {
			if v := resp.Header.Get("X-Repo-Commit"); v != "" {
				info.commit = v
			}
			if v := resp.Header.Get("X-Linked-Etag"); v != "" {
				info.etag = unquoteEtag(v)
			} else if v := resp.Header.Get("ETag"); v != "" && info.etag == "" {
				info.etag = unquoteEtag(v)
			}
			if v := resp.Header.Get("X-Linked-Size"); v != "" {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					info.size = n
				}
			}
		}
		switch resp.StatusCode {
		case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
			http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			loc := resp.Header.Get("Location")
			drain(resp)
			if loc == "" || (method != http.MethodGet && method != http.MethodHead) {
				return nil, nil, errors.New("unusable redirect")
			}
			next, err := u.Parse(loc)
			if err != nil {
				return nil, nil, errors.New("bad redirect location")
			}
			u = next
			continue
		}
		info.final = u
		info.foreign = !(strings.EqualFold(u.Host, c.endpoint.Host) && u.Scheme == c.endpoint.Scheme)
		return resp, info, nil
	}
	return nil, nil, errors.New("too many redirects")
}

// scrubURLError drops the URL (which may be a signed CDN URL) from a
// transport error, keeping its host.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		host := ""
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Host
		}
		return &netError{host: host, err: ue.Err}
	}
	return err
}

type netError struct {
	host string
	err  error
}

func (e *netError) Error() string { return "connection to " + e.host + ": " + e.err.Error() }
func (e *netError) Unwrap() error { return e.err }

func unquoteEtag(v string) string {
	v = strings.TrimPrefix(strings.TrimSpace(v), "W/")
	return strings.Trim(v, `"`)
}

func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
	_ = resp.Body.Close()
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests, http.StatusInternalServerError,
		http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// wait sleeps before retry number attempt (0-based): the ratelimit reset of
// a 429 when the window is used up, else a numeric Retry-After, else
// exponential backoff with jitter.
func (c *client) wait(ctx context.Context, attempt int, resp *http.Response) error {
	d := c.cfg.backoffMin << min(attempt, 20)
	if d > c.cfg.backoffMax || d <= 0 {
		d = c.cfg.backoffMax
	}
	d = d/2 + rand.N(d/2+1)
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		if r, t, ok := parseRateLimit(resp.Header.Get("ratelimit")); ok && r == 0 {
			d = time.Duration(t)*time.Second + rand.N(c.cfg.backoffMin+1)
		} else if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			d = time.Duration(s) * time.Second
		}
		d = min(d, c.cfg.maxWait)
	}
	return c.cfg.sleep(ctx, d)
}

// parseRateLimit reads `"bucket";r=REMAINING;t=RESET_SECONDS`.
func parseRateLimit(h string) (remaining, reset int, ok bool) {
	var gotR, gotT bool
	for _, part := range strings.Split(h, ";") {
		k, v, found := strings.Cut(strings.TrimSpace(part), "=")
		if !found {
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			continue
		}
		switch k {
		case "r":
			remaining, gotR = n, true
		case "t":
			reset, gotT = n, true
		}
	}
	return remaining, reset, gotR && gotT
}

// retryableErr reports whether a transport or body error is worth a retry.
func retryableErr(ctx context.Context, err error) bool {
	if err == nil || ctx.Err() != nil {
		return false
	}
	return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// request is one logical request; do retries it.
type request struct {
	op, path string // for errors
	method   string
	url      string
	header   http.Header
	body     []byte
	// accept lists extra statuses returned to the caller instead of
	// turned into errors (2xx is always accepted).
	accept []int
}

// do sends r with retries and returns a response with an accepted status.
// Any other answer becomes an *Error. The caller closes the body.
func (c *client) do(ctx context.Context, r request) (*http.Response, *hopInfo, error) {
	var lastErr error
	var lastResp *http.Response
	for attempt := 0; ; attempt++ {
		resp, info, err := c.send(ctx, r.method, r.url, r.header, r.body)
		if err != nil {
			lastErr, lastResp = err, nil
			if !retryableErr(ctx, err) || attempt >= c.cfg.retries {
				break
			}
		} else {
			if resp.StatusCode/100 == 2 || containsInt(r.accept, resp.StatusCode) {
				return resp, info, nil
			}
			if !retryableStatus(resp.StatusCode) || attempt >= c.cfg.retries {
				return nil, nil, c.statusError(r.op, r.path, resp)
			}
			lastResp = resp
			drain(resp)
		}
		if werr := c.wait(ctx, attempt, lastResp); werr != nil {
			lastErr = werr
			break
		}
	}
	kinds := []error{ErrServer}
	if ctx.Err() != nil {
		kinds = nil
	}
	return nil, nil, &Error{Op: r.op, Location: c.location(r.path), Message: "request failed",
		Kinds: kinds, Cause: lastErr}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// statusError turns a non-success answer into an *Error and closes the body.
func (c *client) statusError(op, p string, resp *http.Response) error {
	defer drain(resp)
	e := &Error{Op: op, Location: c.location(p), Status: resp.StatusCode,
		Code: resp.Header.Get("X-Error-Code")}
	msg := resp.Header.Get("X-Error-Message")
	if msg == "" {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var body struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &body) == nil {
			msg = body.Error
		}
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	e.Message = redact(msg, c.cfg.token)
	switch {
	case resp.StatusCode == http.StatusNotFound:
		e.Kinds = []error{fs.ErrNotExist}
	case resp.StatusCode == http.StatusUnauthorized && e.Code == "RepoNotFound":
		// The Hub does not say whether the repo is missing or private.
		e.Kinds = []error{fs.ErrNotExist, fs.ErrPermission}
		if c.cfg.token == "" {
			e.Message += " (private repos need a token: set HF_TOKEN)"
		}
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		e.Kinds = []error{fs.ErrPermission}
	case resp.StatusCode == http.StatusTooManyRequests:
		e.Kinds = []error{ErrRateLimited}
	default:
		e.Kinds = []error{ErrServer}
	}
	return e
}

// fetch sends r (with retries) and reads the whole answer, retrying too
// when the body breaks off.
func (c *client) fetch(ctx context.Context, r request) ([]byte, http.Header, error) {
	for attempt := 0; ; attempt++ {
		resp, _, err := c.do(ctx, r)
		if err != nil {
			return nil, nil, err
		}
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
		_ = resp.Body.Close()
		if rerr == nil {
			return body, resp.Header, nil
		}
		if !retryableErr(ctx, rerr) || attempt >= c.cfg.retries {
			return nil, nil, &Error{Op: r.op, Location: c.location(r.path), Message: "reading the answer",
				Kinds: []error{ErrServer}, Cause: scrubURLError(rerr)}
		}
		if werr := c.wait(ctx, attempt, nil); werr != nil {
			return nil, nil, werr
		}
	}
}

// getJSON GETs u (with retries) and decodes the JSON answer into out.
func (c *client) getJSON(ctx context.Context, op, p, u string, out any) (http.Header, error) {
	body, h, err := c.fetch(ctx, request{op: op, path: p, method: http.MethodGet, url: u})
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return nil, &Error{Op: op, Location: c.location(p), Message: "bad JSON answer", Kinds: []error{ErrServer}, Cause: err}
	}
	return h, nil
}

// repoInfo resolves rev to a commit id through the repo info endpoint.
func (c *client) repoInfo(ctx context.Context, rev string) (string, error) {
	var info struct {
		SHA string `json:"sha"`
	}
	if _, err := c.getJSON(ctx, "info", "", c.apiURL("revision", rev), &info); err != nil {
		return "", err
	}
	if !isHex(info.SHA, 40) {
		return "", &Error{Op: "info", Location: c.location(""), Message: "repo info without a commit sha",
			Kinds: []error{ErrServer}}
	}
	return info.SHA, nil
}

// Entry is a file or directory of a repository as the Hub lists it.
type Entry struct {
	Type    string    `json:"type"` // "file" or "directory"
	OID     string    `json:"oid"`  // git blob (or tree) SHA-1
	Size    int64     `json:"size"` // real file size; 0 for directories
	Path    string    `json:"path"` // full repo-relative path
	LFS     *LFSInfo  `json:"lfs,omitempty"`
	XetHash string    `json:"xetHash,omitempty"`
	Commit  string    `json:"-"` // the commit the entry was listed at
	ModTime time.Time `json:"-"` // zero unless known
}

// LFSInfo is the LFS pointer data of a large file.
type LFSInfo struct {
	OID  string `json:"oid"` // sha256 of the content
	Size int64  `json:"size"`
}

// IsDir reports whether e is a directory.
func (e *Entry) IsDir() bool { return e.Type == "directory" }

// ETag returns the file's identity in the Hub cache: the sha256 for LFS and
// Xet files, the git blob SHA-1 otherwise.
func (e *Entry) ETag() string {
	if e.LFS != nil && e.LFS.OID != "" {
		return e.LFS.OID
	}
	return e.OID
}

func (e *Entry) realSize() int64 {
	if e.LFS != nil && e.LFS.Size > 0 {
		return e.LFS.Size
	}
	return e.Size
}

// checkEntry validates a listed entry: a safe relative path, under dir, of
// a known type. It returns an *Error wrapping ErrUnsafePath or ErrServer.
func (c *client) checkEntry(op, dir string, e *Entry) error {
	bad := func(kind error, why string) error {
		return &Error{Op: op, Location: c.location(dir), Message: why, Kinds: []error{kind}}
	}
	if err := checkRepoPath(e.Path); err != nil || e.Path == "" {
		return bad(ErrUnsafePath, fmt.Sprintf("listing entry %q rejected", e.Path))
	}
	if dir != "" && !strings.HasPrefix(e.Path, dir+"/") {
		return bad(ErrUnsafePath, fmt.Sprintf("listing entry %q is outside %q", e.Path, dir))
	}
	if e.Type != "file" && e.Type != "directory" {
		return bad(ErrServer, fmt.Sprintf("listing entry %q has type %q", e.Path, e.Type))
	}
	if e.Size < 0 || (e.LFS != nil && e.LFS.Size < 0) {
		return bad(ErrServer, fmt.Sprintf("listing entry %q has a negative size", e.Path))
	}
	return nil
}

// tree lists dir at commit, following Link pagination.
func (c *client) tree(ctx context.Context, commit, dir string, recursive bool) ([]Entry, error) {
	u := c.apiURL("tree", commit)
	if dir != "" {
		u += "/" + escapePath(dir)
	}
	u += "?recursive=" + strconv.FormatBool(recursive) + "&expand=false"
	var out []Entry
	for pages := 0; u != ""; pages++ {
		if pages > 100000 {
			return nil, &Error{Op: "readdir", Location: c.location(dir), Message: "endless pagination", Kinds: []error{ErrServer}}
		}
		var page []Entry
		h, err := c.getJSON(ctx, "readdir", dir, u, &page)
		if err != nil {
			return nil, err
		}
		for i := range page {
			if err := c.checkEntry("readdir", dir, &page[i]); err != nil {
				return nil, err
			}
			rel := page[i].Path
			if dir != "" {
				rel = rel[len(dir)+1:]
			}
			if !recursive && strings.Contains(rel, "/") {
				return nil, &Error{Op: "readdir", Location: c.location(dir),
					Message: fmt.Sprintf("listing entry %q is not a direct child", page[i].Path), Kinds: []error{ErrUnsafePath}}
			}
			page[i].Commit = commit
		}
		out = append(out, page...)
		u = nextLink(h.Get("Link"))
	}
	return out, nil
}

// nextLink returns the rel="next" target of a Link header, or "".
func nextLink(h string) string {
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok {
			continue
		}
		target = strings.TrimSpace(target)
		if !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "rel") && strings.Trim(v, `"`) == "next" {
				return target[1 : len(target)-1]
			}
		}
	}
	return ""
}

// pathsInfo asks for the entries of paths at commit; missing paths are
// simply absent from the answer.
func (c *client) pathsInfo(ctx context.Context, commit string, paths []string) ([]Entry, error) {
	form := url.Values{"paths": paths, "expand": {"false"}}
	hdr := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	p := ""
	if len(paths) == 1 {
		p = paths[0]
	}
	body, _, err := c.fetch(ctx, request{op: "stat", path: p, method: http.MethodPost,
		url: c.apiURL("paths-info", commit), header: hdr, body: []byte(form.Encode())})
	if err != nil {
		return nil, err
	}
	var out []Entry
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, &Error{Op: "stat", Location: c.location(p), Message: "bad JSON answer", Kinds: []error{ErrServer}, Cause: err}
	}
	for i := range out {
		if err := c.checkEntry("stat", "", &out[i]); err != nil {
			return nil, err
		}
		out[i].Commit = commit
	}
	return out, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}
