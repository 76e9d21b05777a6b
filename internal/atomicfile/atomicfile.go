// Package atomicfile writes files that appear only when complete.
//
// A File is created under a temporary name in the destination's directory
// (so the final rename never crosses a filesystem) and is renamed into place
// by Commit. Abort, or a crash before Commit, leaves the destination untouched;
// a temporary left by a crash carries the ".quiver-tmp-" marker so cleanup
// tools can find it.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/afero"
)

// TempMarker is part of every temporary file name this package creates.
const TempMarker = ".quiver-tmp-"

// File is a file being written under a temporary name. It is not safe for
// concurrent use. The caller must call exactly one of Commit or Abort;
// calling Abort after Commit is a no-op, so `defer f.Abort()` is the idiom.
type File struct {
	afero.File
	fs   afero.Fs
	path string
	tmp  string
	done bool
}

// Create opens a new temporary file beside path on fs. The parent directory
// must exist.
func Create(fs afero.Fs, path string) (*File, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	dir, base := filepath.Split(path)
	tmp := filepath.Join(dir, "."+base+TempMarker+hex.EncodeToString(b[:]))
	f, err := fs.Create(tmp)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &File{File: f, fs: fs, path: path, tmp: tmp}, nil
}

// Path returns the final path the file will have after Commit.
func (f *File) Path() string { return f.path }

// Commit syncs and closes the temporary file and renames it to the final
// path, replacing any file there. On error the temporary is removed.
func (f *File) Commit() error {
	if f.done {
		return errors.New("atomicfile: commit after commit or abort")
	}
	f.done = true
	err := f.File.Sync()
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = f.fs.Rename(f.tmp, f.path)
	}
	if err != nil {
		_ = f.fs.Remove(f.tmp)
		return fmt.Errorf("commit %s: %w", f.path, err)
	}
	return nil
}

// Abort closes and removes the temporary file. It is a no-op after Commit or
// a previous Abort.
func (f *File) Abort() error {
	if f.done {
		return nil
	}
	f.done = true
	_ = f.File.Close()
	return f.fs.Remove(f.tmp)
}

// IsTemp reports whether name (a base name or path) is a temporary created
// by this package.
func IsTemp(name string) bool {
	return strings.Contains(filepath.Base(name), TempMarker)
}
