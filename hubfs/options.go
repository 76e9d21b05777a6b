package hubfs

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// Defaults of the options.
const (
	DefaultEndpoint   = "https://huggingface.co"
	DefaultRetries    = 5
	DefaultBlockSize  = 2 << 20 // bytes of the first sequential read window
	DefaultReadAhead  = 8       // the window grows to BlockSize*ReadAhead
	DefaultMemCache   = 32 << 20
	defaultBackoffMin = time.Second
	defaultBackoffMax = 8 * time.Second
)

// Option configures Open and Resolve.
type Option func(*config)

type config struct {
	endpoint    string
	client      *http.Client
	token       string
	tokenSet    bool
	cacheDir    string
	cacheSet    bool
	offline     bool
	offlineSet  bool
	retries     int
	backoffMin  time.Duration
	backoffMax  time.Duration
	maxWait     time.Duration
	blockSize   int64
	readAhead   int
	memCache    int64
	localFs     afero.Fs
	noSymlinks  bool
	userAgent   string
	sleep       func(ctx context.Context, d time.Duration) error // test hook
	environment func(string) string                              // test hook
}

// WithEndpoint sets the Hub URL. Default: $HF_ENDPOINT, else
// https://huggingface.co (a trailing "/" is dropped).
func WithEndpoint(u string) Option {
	return func(c *config) { c.endpoint = strings.TrimRight(u, "/") }
}

// WithHTTPClient sets the HTTP client. Its CheckRedirect is not used: hubfs
// follows redirects itself so that the token never reaches another host.
// Default: a client with a 30s dial/header timeout and no overall timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.client = hc } }

// WithToken sets the bearer token; "" sends none. Default: $HF_TOKEN, then
// $HUGGING_FACE_HUB_TOKEN, then the file $HF_TOKEN_PATH (default
// $HF_HOME/token) unless HF_HUB_DISABLE_IMPLICIT_TOKEN is set.
func WithToken(tok string) Option {
	return func(c *config) { c.token, c.tokenSet = cleanToken(tok), true }
}

// WithCacheDir sets the Hugging Face hub cache directory shared with Python;
// "" disables the cache (nothing is read from or written to disk). Default:
// $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub.
func WithCacheDir(dir string) Option {
	return func(c *config) { c.cacheDir, c.cacheSet = dir, true }
}

// WithOffline makes hubfs use only the cache and send no request. Default:
// $HF_HUB_OFFLINE (1, ON, YES or TRUE) else false. Independently of this,
// Open falls back to the cache when the Hub is unreachable.
func WithOffline(off bool) Option {
	return func(c *config) { c.offline, c.offlineSet = off, true }
}

// WithRetries sets how many times a failed request (429, 408, 5xx, broken
// connection or body) is retried; 0 disables retries. Default 5.
func WithRetries(n int) Option { return func(c *config) { c.retries = max(n, 0) } }

// WithBackoff sets the exponential backoff between retries, from min
// doubling up to max, with jitter. A 429 whose ratelimit header says r=0
// waits for the window's reset instead (at most 5 minutes). Default 1s..8s.
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) { c.backoffMin, c.backoffMax = min, max }
}

// WithBlockSize sets the first window of sequential reads in bytes; each
// further sequential window doubles up to BlockSize*ReadAhead. Default
// 2 MiB. Random ReadAt calls fetch exactly what they ask for.
func WithBlockSize(n int64) Option { return func(c *config) { c.blockSize = n } }

// WithReadAhead sets how many blocks a sequential window grows to, and
// makes the next window's request start while the current one is read.
// 1 disables read-ahead. Default 8.
func WithReadAhead(n int) Option { return func(c *config) { c.readAhead = max(n, 1) } }

// WithMemoryCache bounds, per open file, the bytes of fetched ranges kept
// in memory for repeated ReadAt calls. Default 32 MiB; 0 disables it.
func WithMemoryCache(n int64) Option { return func(c *config) { c.memCache = max(n, 0) } }

// WithLocalFs sets the filesystem Resolve uses for plain paths and file://
// locations. Default afero.NewOsFs().
func WithLocalFs(fsys afero.Fs) Option { return func(c *config) { c.localFs = fsys } }

// WithUserAgent sets the User-Agent. Default "hubfs/1; go/<version>".
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

func newConfig(opts []Option) *config {
	c := &config{
		retries:    DefaultRetries,
		backoffMin: defaultBackoffMin,
		backoffMax: defaultBackoffMax,
		maxWait:    5 * time.Minute,
		blockSize:  DefaultBlockSize,
		readAhead:  DefaultReadAhead,
		memCache:   DefaultMemCache,
		sleep:      sleepCtx,
	}
	for _, o := range opts {
		o(c)
	}
	env := c.environment
	if env == nil {
		env = os.Getenv
	}
	if c.endpoint == "" {
		c.endpoint = strings.TrimRight(env("HF_ENDPOINT"), "/")
		if c.endpoint == "" {
			c.endpoint = DefaultEndpoint
		}
	}
	if !c.tokenSet {
		c.token = tokenFromEnv(env)
	}
	if !c.cacheSet {
		c.cacheDir = cacheDirFromEnv(env)
	}
	if !c.offlineSet {
		c.offline = truthy(env("HF_HUB_OFFLINE")) || truthy(env("TRANSFORMERS_OFFLINE"))
	}
	c.noSymlinks = truthy(env("HF_HUB_DISABLE_SYMLINKS"))
	if c.blockSize <= 0 {
		c.blockSize = DefaultBlockSize
	}
	if c.readAhead <= 0 {
		c.readAhead = DefaultReadAhead
	}
	if c.backoffMin <= 0 {
		c.backoffMin = time.Millisecond
	}
	if c.backoffMax < c.backoffMin {
		c.backoffMax = c.backoffMin
	}
	if c.localFs == nil {
		c.localFs = afero.NewOsFs()
	}
	if c.client == nil {
		c.client = defaultClient
	}
	return c
}

var defaultClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	ForceAttemptHTTP2:     true,
	MaxIdleConnsPerHost:   16,
	IdleConnTimeout:       90 * time.Second,
	TLSHandshakeTimeout:   30 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
	DisableCompression:    true,
}}

func truthy(v string) bool {
	switch strings.ToUpper(strings.TrimSpace(v)) {
	case "1", "ON", "YES", "TRUE":
		return true
	}
	return false
}

func cleanToken(t string) string {
	return strings.NewReplacer("\r", "", "\n", "", " ", "").Replace(t)
}

func hfHome(env func(string) string) string {
	if h := env("HF_HOME"); h != "" {
		return expandHome(h, env)
	}
	if x := env("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(expandHome(x, env), "huggingface")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".cache", "huggingface")
}

func expandHome(p string, env func(string) string) string {
	p = os.Expand(p, env)
	if rest, ok := strings.CutPrefix(p, "~"); ok && (rest == "" || rest[0] == '/') {
		if home, err := os.UserHomeDir(); err == nil {
			return home + rest
		}
	}
	return p
}

func tokenFromEnv(env func(string) string) string {
	for _, k := range []string{"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"} {
		if t := cleanToken(env(k)); t != "" {
			return t
		}
	}
	if truthy(env("HF_HUB_DISABLE_IMPLICIT_TOKEN")) {
		return ""
	}
	p := env("HF_TOKEN_PATH")
	if p == "" {
		home := hfHome(env)
		if home == "" {
			return ""
		}
		p = filepath.Join(home, "token")
	}
	b, err := os.ReadFile(expandHome(p, env))
	if err != nil {
		return ""
	}
	return cleanToken(string(b))
}

func cacheDirFromEnv(env func(string) string) string {
	for _, k := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"} {
		if d := env(k); d != "" {
			return expandHome(d, env)
		}
	}
	home := hfHome(env)
	if home == "" {
		return ""
	}
	return filepath.Join(home, "hub")
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
