package hubfs

import (
	"context"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/afero"
)

// Resolved is what a location string stands for: a filesystem and the
// matching paths on it.
type Resolved struct {
	// Fs serves Paths: an *FS for hf:// locations, the local filesystem
	// (WithLocalFs, default afero.OsFs) otherwise.
	Fs afero.Fs
	// Paths are the matching files, sorted, as names for Fs.
	Paths []string
	// Commit is the resolved Hub commit, "" for local locations.
	Commit string
	// Identity returns a path's fingerprint identity: for the Hub
	// "hf://TYPE/NS/NAME@COMMIT/PATH#ETAG", locally
	// "file://ABS?size=N&mtime=UNIXNANO".
	Identity func(path string) (string, error)
}

// Resolve turns a location into a filesystem and matching file paths.
//
// A location is an hf:// URL (see ParseURL), a file:// URL or a plain
// path. Its path may be a glob: "*", "?" and "[...]" match within one path
// segment, "**" matches any number of segments; wildcards do not match
// names starting with "." or "__" unless the pattern segment starts that
// way too. A directory stands for every file beneath it (hidden ones
// excepted). No match is an error wrapping fs.ErrNotExist.
//
// For hf:// locations Resolve opens an *FS (one request to pin the commit,
// then one listing); options are those of Open. The caller may Close
// Resolved.Fs when it is an *FS.
func Resolve(ctx context.Context, location string, opts ...Option) (Resolved, error) {
	cfg := newConfig(opts)
	if strings.HasPrefix(location, "hf://") {
		u, err := ParseURL(location)
		if err != nil {
			return Resolved{}, err
		}
		f, err := openFS(ctx, u.Repo, cfg)
		if err != nil {
			return Resolved{}, err
		}
		paths, err := f.Glob(ctx, u.Path)
		if err != nil {
			_ = f.Close()
			return Resolved{}, err
		}
		return Resolved{Fs: f, Paths: paths, Commit: f.Commit(), Identity: f.Identity}, nil
	}
	p := location
	if rest, ok := strings.CutPrefix(location, "file://"); ok {
		u, err := url.Parse(location)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return Resolved{}, fmt.Errorf("hubfs: invalid file URL %q", location)
		}
		p = u.Path
		if p == "" {
			p = rest
		}
	}
	if p == "" {
		return Resolved{}, fmt.Errorf("hubfs: empty location")
	}
	paths, err := localGlob(cfg.localFs, p)
	if err != nil {
		return Resolved{}, err
	}
	local := cfg.localFs
	return Resolved{Fs: local, Paths: paths, Identity: func(name string) (string, error) {
		st, err := local.Stat(name)
		if err != nil {
			return "", err
		}
		abs := name
		if _, isOS := local.(*afero.OsFs); isOS {
			if a, err := filepath.Abs(name); err == nil {
				abs = a
			}
		}
		return fmt.Sprintf("file://%s?size=%d&mtime=%d", filepath.ToSlash(abs), st.Size(), st.ModTime().UnixNano()), nil
	}}, nil
}

// Glob returns the files of f matching pattern (the syntax of Resolve),
// sorted. A pattern without wildcards names a file, or a directory
// standing for every non-hidden file beneath it.
func (f *FS) Glob(ctx context.Context, pattern string) ([]string, error) {
	pattern = strings.Trim(pattern, "/")
	if !hasMeta(pattern) {
		p, err := f.clean("glob", pattern)
		if err != nil {
			return nil, err
		}
		e, err := f.stat(ctx, p)
		if err != nil {
			return nil, err
		}
		if !e.IsDir() {
			return []string{p}, nil
		}
		all, err := f.Walk(ctx, p)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, e := range all {
			rel := strings.TrimPrefix(strings.TrimPrefix(e.Path, p), "/")
			if !e.IsDir() && !hiddenPath(rel) {
				out = append(out, e.Path)
			}
		}
		if len(out) == 0 {
			return nil, f.notExist("glob", p)
		}
		return out, nil
	}
	prefix, rest := splitGlob(pattern)
	var entries []*Entry
	var err error
	if !strings.Contains(rest, "/") && !strings.Contains(rest, "**") {
		entries, err = f.readDir(ctx, prefix)
	} else {
		entries, err = f.Walk(ctx, prefix)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && matchGlob(pattern, e.Path) {
			out = append(out, e.Path)
		}
	}
	if len(out) == 0 {
		return nil, &Error{Op: "glob", Location: f.location(pattern), Message: "no file matches",
			Kinds: []error{fs.ErrNotExist}}
	}
	sort.Strings(out)
	return out, nil
}

func localGlob(fsys afero.Fs, p string) ([]string, error) {
	p = filepath.ToSlash(p)
	if !hasMeta(p) {
		st, err := fsys.Stat(filepath.FromSlash(p))
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			return []string{filepath.FromSlash(p)}, nil
		}
		var out []string
		err = afero.Walk(fsys, filepath.FromSlash(p), func(q string, info os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.FromSlash(p), q)
			if info.Mode().IsRegular() && !hiddenPath(filepath.ToSlash(rel)) {
				out = append(out, q)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if len(out) == 0 {
			return nil, &fs.PathError{Op: "glob", Path: p, Err: fs.ErrNotExist}
		}
		sort.Strings(out)
		return out, nil
	}
	clean := path.Clean(p)
	prefix, _ := splitGlob(clean)
	root := prefix
	if root == "" {
		root = "."
		if strings.HasPrefix(clean, "/") {
			root = "/"
		}
	}
	var out []string
	err := afero.Walk(fsys, filepath.FromSlash(root), func(q string, info os.FileInfo, err error) error {
		if err != nil {
			if q == filepath.FromSlash(root) {
				return err
			}
			return nil
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		name := filepath.ToSlash(q)
		if root == "." && !strings.HasPrefix(clean, "./") {
			name = strings.TrimPrefix(name, "./")
		}
		if matchGlob(clean, name) {
			out = append(out, q)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &fs.PathError{Op: "glob", Path: p, Err: fs.ErrNotExist}
	}
	sort.Strings(out)
	return out, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// splitGlob splits a pattern into its literal leading directory and the
// rest, e.g. "data/train/*.parquet" -> ("data/train", "*.parquet").
func splitGlob(pattern string) (prefix, rest string) {
	segs := strings.Split(pattern, "/")
	i := 0
	for i < len(segs)-1 && !hasMeta(segs[i]) {
		i++
	}
	prefix = strings.Join(segs[:i], "/")
	if prefix == "" && strings.HasPrefix(pattern, "/") {
		prefix = "/"
	}
	return prefix, strings.Join(segs[i:], "/")
}

// hiddenPath reports whether any segment of p starts with "." or "__".
func hiddenPath(p string) bool {
	for _, s := range strings.Split(p, "/") {
		if hiddenName(s) {
			return true
		}
	}
	return false
}

func hiddenName(s string) bool {
	return (strings.HasPrefix(s, ".") && s != "." && s != "..") || strings.HasPrefix(s, "__")
}

// matchGlob matches a "/"-separated name against pattern ("**" spans any
// number of segments; other wildcards as in path.Match).
func matchGlob(pattern, name string) bool {
	return matchSegs(strings.Split(pattern, "/"), strings.Split(name, "/"))
}

func matchSegs(ps, ns []string) bool {
	for len(ps) > 0 {
		if ps[0] == "**" {
			for len(ps) > 1 && ps[1] == "**" {
				ps = ps[1:]
			}
			start := 0
			if len(ps) == 1 {
				start = 1 // a trailing "**" stands for at least one segment
			}
			for i := start; i <= len(ns); i++ {
				if i > 0 && i <= len(ns) && hiddenName(ns[i-1]) {
					return false
				}
				if matchSegs(ps[1:], ns[i:]) {
					return true
				}
			}
			return false
		}
		if len(ns) == 0 || !matchSeg(ps[0], ns[0]) {
			return false
		}
		ps, ns = ps[1:], ns[1:]
	}
	return len(ns) == 0
}

func matchSeg(p, n string) bool {
	if p == n {
		return true
	}
	if strings.HasPrefix(n, ".") && !strings.HasPrefix(p, ".") {
		return false
	}
	if strings.HasPrefix(n, "__") && !strings.HasPrefix(p, "__") {
		return false
	}
	ok, err := path.Match(p, n)
	return err == nil && ok
}
