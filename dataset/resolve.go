package dataset

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/hubfs"
	"github.com/spf13/afero"
)

// LocalResolver resolves plain paths on the local filesystem: a file, a
// directory (every file in it and below whose format arrowio recognises,
// skipping hidden names), or a glob (filepath.Match syntax, plus "**" for
// any number of directories). A "file://" prefix is accepted.
type LocalResolver struct{}

// Resolve implements Resolver. The identity of a file is its absolute
// path, size and modification time.
func (LocalResolver) Resolve(_ context.Context, location string) (afero.Fs, []ResolvedFile, error) {
	loc := strings.TrimPrefix(location, "file://")
	var paths []string
	if strings.ContainsAny(loc, "*?[") {
		m, err := globAll(loc)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %v", ErrDataset, location, err)
		}
		if len(m) == 0 {
			return nil, nil, fmt.Errorf("%w: %s: no files match", ErrDataset, location)
		}
		paths = m
	} else {
		info, err := os.Stat(loc)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrDataset, err)
		}
		if info.IsDir() {
			err := filepath.WalkDir(loc, func(p string, de fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if p != loc && strings.HasPrefix(de.Name(), ".") {
					if de.IsDir() {
						return filepath.SkipDir
					}
					return nil
				}
				if !de.IsDir() {
					if _, _, err := arrowio.DetectFormat(p); err == nil {
						paths = append(paths, p)
					}
				}
				return nil
			})
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %v", ErrDataset, err)
			}
			if len(paths) == 0 {
				return nil, nil, fmt.Errorf("%w: %s: no data files in directory", ErrDataset, location)
			}
		} else {
			paths = []string{loc}
		}
	}
	slices.Sort(paths)
	out := make([]ResolvedFile, 0, len(paths))
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrDataset, err)
		}
		if info.IsDir() {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, ResolvedFile{Path: abs, Size: info.Size(),
			Identity: fmt.Sprintf("file:%s size=%d mtime=%d", abs, info.Size(), info.ModTime().UnixNano())})
	}
	return afero.NewOsFs(), out, nil
}

// globAll expands pattern with "**" matching any number of directories.
func globAll(pattern string) ([]string, error) {
	if !strings.Contains(pattern, "**") {
		return filepath.Glob(pattern)
	}
	root, _, _ := strings.Cut(pattern, "**")
	root = filepath.Dir(root + "x")
	var out []string
	err := filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if de.IsDir() {
			return nil
		}
		if ok, _ := matchDoubleStar(pattern, p); ok {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// matchDoubleStar matches name against pattern where "**" as a path
// element matches zero or more elements.
func matchDoubleStar(pattern, name string) (bool, error) {
	ps := strings.Split(filepath.ToSlash(pattern), "/")
	ns := strings.Split(filepath.ToSlash(name), "/")
	var match func(i, j int) (bool, error)
	match = func(i, j int) (bool, error) {
		if i == len(ps) {
			return j == len(ns), nil
		}
		if ps[i] == "**" {
			for k := j; k <= len(ns); k++ {
				if ok, err := match(i+1, k); ok || err != nil {
					return ok, err
				}
			}
			return false, nil
		}
		if j == len(ns) {
			return false, nil
		}
		ok, err := filepath.Match(ps[i], ns[j])
		if !ok || err != nil {
			return false, err
		}
		return match(i+1, j+1)
	}
	return match(0, 0)
}

// DefaultResolver resolves hf:// locations through hubfs (revision pinned
// to a commit, identities carrying commit and etag; HubOptions configure
// tokens, endpoints and caching) and every other location with
// LocalResolver.
type DefaultResolver struct {
	HubOptions []hubfs.Option
}

// Resolve implements Resolver.
func (r DefaultResolver) Resolve(ctx context.Context, location string) (afero.Fs, []ResolvedFile, error) {
	if !strings.HasPrefix(location, "hf://") {
		return LocalResolver{}.Resolve(ctx, location)
	}
	res, err := hubfs.Resolve(ctx, location, r.HubOptions...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrDataset, location, err)
	}
	out := make([]ResolvedFile, 0, len(res.Paths))
	for _, p := range res.Paths {
		if _, _, err := arrowio.DetectFormat(p); err != nil {
			continue // README.md, .gitattributes, ...
		}
		id, err := res.Identity(p)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %s: %w", ErrDataset, p, err)
		}
		size := int64(-1)
		if st, err := res.Fs.Stat(p); err == nil {
			size = st.Size()
		}
		out = append(out, ResolvedFile{Path: p, Identity: id, Size: size})
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("%w: %s: no data files", ErrDataset, location)
	}
	return res.Fs, out, nil
}
