package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"

	"github.com/quiverdata/quiver/arrowio"
)

// expandInputs turns arguments (paths and glob patterns) into file paths, in
// argument order with each pattern's matches sorted. A pattern that matches
// nothing is an error; so is a directory.
func expandInputs(fsys afero.Fs, args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if !strings.ContainsAny(a, "*?[") {
			st, err := fsys.Stat(a)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", a, unwrapPathError(err))
			}
			if st.IsDir() {
				return nil, fmt.Errorf("%s: is a directory (give files or a glob such as '%s/*.parquet')", a, strings.TrimSuffix(a, "/"))
			}
			out = append(out, a)
			continue
		}
		matches, err := afero.Glob(fsys, a)
		if err != nil {
			return nil, usagef("bad glob %q: %v", a, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("%s: no files match", a)
		}
		sort.Strings(matches)
		out = append(out, matches...)
	}
	return out, nil
}

// unwrapPathError drops the *fs.PathError wrapper, whose text repeats the
// path the caller already names; the cause stays testable with errors.Is.
func unwrapPathError(err error) error {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err
	}
	return err
}

// openAll opens every path; on error, readers opened so far are closed.
func openAll(fsys afero.Fs, paths []string, opts ...arrowio.ReadOption) ([]arrowio.Reader, error) {
	readers := make([]arrowio.Reader, 0, len(paths))
	for _, p := range paths {
		r, err := arrowio.Open(fsys, p, opts...)
		if err != nil {
			closeAll(readers)
			return nil, err
		}
		readers = append(readers, r)
	}
	return readers, nil
}

func closeAll(readers []arrowio.Reader) {
	for _, r := range readers {
		_ = r.Close()
	}
}

// unifiedSchema returns the schema all readers are converted to.
func unifiedSchema(readers []arrowio.Reader) (*arrow.Schema, error) {
	schemas := make([]*arrow.Schema, len(readers))
	for i, r := range readers {
		schemas[i] = r.Schema()
	}
	s, err := arrowio.UnifySchemas(schemas...)
	if err != nil {
		return nil, fmt.Errorf("inputs do not share a schema: %w", err)
	}
	return s, nil
}

// totalSize sums the sizes of paths, for progress percentages.
func totalSize(fsys afero.Fs, paths []string) int64 {
	var n int64
	for _, p := range paths {
		if st, err := fsys.Stat(p); err == nil {
			n += st.Size()
		}
	}
	return n
}

func splitColumns(s string) []string {
	if s == "" {
		return nil
	}
	var cols []string
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			cols = append(cols, c)
		}
	}
	return cols
}
