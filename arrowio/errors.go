package arrowio

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of these where
// the cause is known; test with errors.Is.
var (
	// ErrUnknownFormat: the format could not be told from the path or the
	// name given.
	ErrUnknownFormat = errors.New("unknown file format")
	// ErrSyntax: text input (JSON Lines, CSV) is malformed.
	ErrSyntax = errors.New("syntax error")
	// ErrSchema: a value does not fit the schema, inference met types it
	// cannot unify, or requested columns do not exist.
	ErrSchema = errors.New("schema mismatch")
	// ErrCorrupt: a binary file (Parquet, Arrow IPC) is damaged or truncated.
	ErrCorrupt = errors.New("corrupt file")
	// ErrUnsupported: the file is valid but uses a feature Quiver cannot
	// read or write (encrypted Parquet, an unknown codec, ...).
	ErrUnsupported = errors.New("unsupported")
)

// PosError is an error at a place in a file. Fields that do not apply are
// zero (Line, Column) or -1 (RowGroup, ColumnIndex, Batch).
type PosError struct {
	Path string
	// Line and Column are 1-based positions in text input (Column counts
	// bytes). Zero when not applicable.
	Line, Column int64
	// RowGroup is the Parquet row group, Batch the IPC record batch.
	RowGroup, Batch int
	// ColumnName names the column concerned, when known.
	ColumnName string
	Err        error
}

// NewPosError returns a PosError for path with every place unset.
func NewPosError(path string, err error) *PosError {
	return &PosError{Path: path, RowGroup: -1, Batch: -1, Err: err}
}

func (e *PosError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ":%d", e.Column)
		}
	}
	var where []string
	if e.RowGroup >= 0 {
		where = append(where, fmt.Sprintf("row group %d", e.RowGroup))
	}
	if e.Batch >= 0 {
		where = append(where, fmt.Sprintf("batch %d", e.Batch))
	}
	if e.ColumnName != "" {
		where = append(where, fmt.Sprintf("column %q", e.ColumnName))
	}
	if len(where) > 0 {
		b.WriteString(" (" + strings.Join(where, ", ") + ")")
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *PosError) Unwrap() error { return e.Err }
