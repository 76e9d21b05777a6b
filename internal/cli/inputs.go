package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/hubfs"
	"github.com/quiverdata/quiver/internal/progress"
)

// input is one file to read: a path on the filesystem its location
// resolved to (the OS filesystem, or a Hub repository for hf:// locations).
type input struct {
	fs   afero.Fs
	path string
}

// expandInputs resolves arguments — plain paths, file:// and hf:// URLs,
// globs with ** — into files, in argument order with each argument's matches
// sorted. A location that matches nothing is an error; a directory stands for
// every file beneath it.
func expandInputs(ctx context.Context, env *Env, args []string) ([]input, error) {
	var out []input
	for _, a := range args {
		opts := append([]hubfs.Option{hubfs.WithLocalFs(env.Fs)}, env.HubOptions...)
		res, err := hubfs.Resolve(ctx, a, opts...)
		if err != nil {
			if errors.Is(err, hubfs.ErrBadURL) {
				return nil, usageError{err}
			}
			return nil, err
		}
		for _, p := range res.Paths {
			out = append(out, input{fs: res.Fs, path: p})
		}
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

// openAll opens every input, counting bytes read into counter when it is
// not nil; on error, readers opened so far are closed.
func openAll(inputs []input, counter *progress.Counter, opts ...arrowio.ReadOption) ([]arrowio.Reader, error) {
	readers := make([]arrowio.Reader, 0, len(inputs))
	for _, in := range inputs {
		fsys := in.fs
		if counter != nil {
			fsys = progress.CountingFs(fsys, counter)
		}
		r, err := arrowio.Open(fsys, in.path, opts...)
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

// expectedWork is the progress total of reading inputs through readers:
// their rows when every reader knows its count from metadata (capped by
// limit when limit > 0), and always their size in bytes.
func expectedWork(inputs []input, readers []arrowio.Reader, limit int64) progress.Total {
	var t progress.Total
	for _, in := range inputs {
		if st, err := in.fs.Stat(in.path); err == nil {
			t.Bytes += st.Size()
		}
	}
	for _, r := range readers {
		n, ok := r.NumRows()
		if !ok {
			t.Rows = 0
			break
		}
		t.Rows += n
	}
	if limit > 0 && (t.Rows == 0 || t.Rows > limit) {
		t.Rows = limit
	}
	return t
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

// openOne opens the single file location names; a location matching several
// files is a usage error.
func openOne(ctx context.Context, env *Env, location string, opts ...arrowio.ReadOption) (arrowio.Reader, error) {
	inputs, err := expandInputs(ctx, env, []string{location})
	if err != nil {
		return nil, err
	}
	if len(inputs) != 1 {
		return nil, usagef("%s: matches %d files; give one", location, len(inputs))
	}
	return arrowio.Open(inputs[0].fs, inputs[0].path, opts...)
}

// openInputs resolves the locations in args and opens them with the read
// flags of f (columns, schema, batch size, workers), counting bytes read into
// counter. It returns the inputs, their readers (the caller closes them with
// closeAll) and the schema they unify to.
func openInputs(ctx context.Context, env *Env, args []string, f *convertFlags, counter *progress.Counter) ([]input, []arrowio.Reader, *arrow.Schema, error) {
	inputs, err := expandInputs(ctx, env, args)
	if err != nil {
		return nil, nil, nil, err
	}
	ropts := []arrowio.ReadOption{arrowio.WithColumns(splitColumns(f.columns)...)}
	if f.schema != "" {
		schema, err := loadSchemaFile(env.Fs, f.schema)
		if err != nil {
			return nil, nil, nil, usageError{err}
		}
		ropts = append(ropts, arrowio.WithSchema(schema))
	}
	if f.batchSize > 0 {
		ropts = append(ropts, arrowio.WithBatchSize(f.batchSize))
	}
	if f.workers > 0 {
		ropts = append(ropts, arrowio.WithWorkers(f.workers))
	}
	readers, err := openAll(inputs, counter, ropts...)
	if err != nil {
		return nil, nil, nil, err
	}
	schema, err := unifiedSchema(readers)
	if err != nil {
		closeAll(readers)
		return nil, nil, nil, err
	}
	return inputs, readers, schema, nil
}
