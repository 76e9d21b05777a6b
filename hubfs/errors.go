package hubfs

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Sentinels wrapped by *Error, next to fs.ErrNotExist and fs.ErrPermission.
var (
	// ErrReadOnly is returned by every write; it wraps fs.ErrPermission,
	// like afero's read-only filesystems.
	ErrReadOnly = fmt.Errorf("hubfs: read-only file system (%w)", fs.ErrPermission)
	// ErrOffline: offline mode (or an unreachable Hub) and the answer is not
	// in the local cache. Such errors also wrap fs.ErrNotExist.
	ErrOffline = errors.New("hubfs: offline and not in the local cache")
	// ErrRateLimited: the Hub kept answering 429 after all retries.
	ErrRateLimited = errors.New("hubfs: rate limited by the Hub")
	// ErrServer: the Hub kept failing (5xx, broken connections) after all
	// retries, or answered something hubfs cannot use.
	ErrServer = errors.New("hubfs: Hub request failed")
	// ErrUnsafePath: the Hub listed a path with "..", an absolute path or a
	// backslash; it is rejected rather than used.
	ErrUnsafePath = errors.New("hubfs: unsafe path from the Hub")
	// ErrCorrupt: downloaded bytes do not match the file's size or hash.
	ErrCorrupt = errors.New("hubfs: downloaded content does not match its hash")
)

// Error is a failed Hub operation. It names the operation, the repository
// location and, when the Hub answered, its status, X-Error-Code and message.
// It never contains the token or a signed URL.
type Error struct {
	Op       string // "open", "stat", "readdir", "read", "info", ...
	Location string // hf://TYPE/NS/NAME@REV[/PATH]
	Status   int    // HTTP status; 0 when no answer came
	Code     string // X-Error-Code, e.g. "EntryNotFound", "GatedRepo"
	Message  string // the Hub's message, or a description
	Kinds    []error
	Cause    error // the underlying error (network, I/O), if any
}

// Error formats the error as "hubfs: OP LOCATION: STATUS CODE: MESSAGE: CAUSE".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("hubfs: ")
	b.WriteString(e.Op)
	b.WriteByte(' ')
	b.WriteString(e.Location)
	b.WriteString(":")
	if e.Status != 0 {
		fmt.Fprintf(&b, " %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Message != "" {
		if e.Status != 0 || e.Code != "" {
			b.WriteByte(':')
		}
		b.WriteString(" " + e.Message)
	}
	if e.Cause != nil {
		b.WriteString(": " + e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel kinds (fs.ErrNotExist, fs.ErrPermission,
// ErrReadOnly, ErrOffline, ...) and the cause, for errors.Is and errors.As.
func (e *Error) Unwrap() []error {
	out := append([]error(nil), e.Kinds...)
	if e.Cause != nil {
		out = append(out, e.Cause)
	}
	return out
}

// redact removes secret from s.
func redact(s, secret string) string {
	if secret == "" || len(secret) < 4 {
		return s
	}
	return strings.ReplaceAll(s, secret, "[token]")
}
