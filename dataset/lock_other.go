//go:build !unix

package dataset

import (
	"context"
	"os"
)

// flock is a no-op where flock(2) does not exist: the cache then relies on
// atomic renames alone (two processes may compute the same entry).
func flock(ctx context.Context, f *os.File, exclusive, wait bool) error { return nil }

func funlock(f *os.File) error { return nil }
