// Package progress reports the progress of long commands on a terminal: rows,
// bytes, rate and ETA, redrawn in place on one line of stderr.
//
// Work is counted through a Counter (rows by the caller, bytes read by a
// CountingFs wrapper around the input filesystem), and a Bar samples it on a
// timer. Everything here is safe for concurrent use.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/afero"
)

// Counter accumulates rows and bytes from any goroutine.
type Counter struct {
	rows  atomic.Int64
	bytes atomic.Int64
}

// AddRows records n more rows done.
func (c *Counter) AddRows(n int64) { c.rows.Add(n) }

// Reset sets the counts back to zero, when a new stage of the work starts.
func (c *Counter) Reset() {
	c.rows.Store(0)
	c.bytes.Store(0)
}

// AddBytes records n more bytes read.
func (c *Counter) AddBytes(n int64) { c.bytes.Add(n) }

// Rows returns the rows recorded so far.
func (c *Counter) Rows() int64 { return c.rows.Load() }

// Bytes returns the bytes recorded so far.
func (c *Counter) Bytes() int64 { return c.bytes.Load() }

// Total is the work expected: rows when the inputs record their row counts
// (Parquet, Arrow), else bytes. Zero fields are unknown.
type Total struct {
	Rows, Bytes int64
}

// fraction returns how much of t rows and bytes stand for, and whether it
// is known. Rows win when known: bytes undercount files read by mapping.
func (t Total) fraction(rows, bytes int64) (float64, bool) {
	switch {
	case t.Rows > 0:
		return min(float64(rows)/float64(t.Rows), 1), true
	case t.Bytes > 0:
		return min(float64(bytes)/float64(t.Bytes), 1), true
	}
	return 0, false
}

// Bar redraws a progress line on w every interval until Stop.
type Bar struct {
	w        io.Writer
	label    string
	total    Total
	c        *Counter
	start    time.Time
	stop     chan struct{}
	done     sync.WaitGroup
	drawn    bool
	lastLine int
}

// Start begins drawing a bar labelled label for work counted by c, expecting
// total (a zero Total disables the percentage and ETA). The first line is
// drawn after delay, so quick commands print nothing.
func Start(w io.Writer, label string, total Total, c *Counter, delay, interval time.Duration) *Bar {
	b := &Bar{w: w, label: label, total: total, c: c, start: time.Now(), stop: make(chan struct{})}
	b.done.Add(1)
	go func() {
		defer b.done.Done()
		select {
		case <-b.stop:
			return
		case <-time.After(delay):
		}
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			b.draw(false)
			select {
			case <-b.stop:
				return
			case <-t.C:
			}
		}
	}()
	return b
}

// Stop stops the bar; if it drew anything it draws the final state and ends
// the line. Stop on a nil Bar is a no-op.
func (b *Bar) Stop() {
	if b == nil {
		return
	}
	close(b.stop)
	b.done.Wait()
	if b.drawn {
		b.draw(true)
		fmt.Fprintln(b.w)
	}
}

func (b *Bar) draw(final bool) {
	b.drawn = true
	line := Line(b.label, b.c.Rows(), b.c.Bytes(), b.total, time.Since(b.start), final)
	pad := b.lastLine - len(line)
	b.lastLine = len(line)
	if pad < 0 {
		pad = 0
	}
	fmt.Fprintf(b.w, "\r%s%*s", line, pad, "")
}

// Line formats one progress line: label, rows, bytes, percentage of total,
// rate and ETA. It is exported for tests and for callers that log instead of
// redraw.
func Line(label string, rows, bytes int64, total Total, elapsed time.Duration, final bool) string {
	secs := max(elapsed.Seconds(), 1e-9)
	s := fmt.Sprintf("%s %s rows", label, Count(rows))
	if total.Rows > 0 {
		s += "/" + Count(total.Rows)
	}
	counted := bytes > 0 || total.Bytes > 0 // else the work has no byte count
	if counted {
		s += "  " + Bytes(bytes)
		if total.Rows == 0 && total.Bytes > 0 {
			s += "/" + Bytes(total.Bytes)
		}
	}
	frac, known := total.fraction(rows, bytes)
	if known {
		s += fmt.Sprintf(" (%.0f%%)", frac*100)
	}
	if counted {
		s += fmt.Sprintf("  %s/s", Bytes(int64(float64(bytes)/secs)))
	} else {
		s += fmt.Sprintf("  %s rows/s", Count(int64(float64(rows)/secs)))
	}
	switch {
	case final:
		s += fmt.Sprintf("  done in %s", elapsed.Round(100*time.Millisecond))
	case known && frac > 0 && frac < 1:
		eta := time.Duration(elapsed.Seconds() * (1 - frac) / frac * float64(time.Second))
		s += fmt.Sprintf("  ETA %s", eta.Round(time.Second))
	}
	return s
}

// Bytes formats n bytes with a binary unit (KiB, MiB, GiB, TiB).
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// Count formats n with thousands separators.
func Count(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + Count(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// CountingFs wraps fs so that every byte read from its files (Read and
// ReadAt) is added to c. Everything else passes through.
func CountingFs(fs afero.Fs, c *Counter) afero.Fs { return &countingFs{Fs: fs, c: c} }

type countingFs struct {
	afero.Fs
	c *Counter
}

func (f *countingFs) Open(name string) (afero.File, error) {
	file, err := f.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: file, c: f.c}, nil
}

func (f *countingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &countingFile{File: file, c: f.c}, nil
}

// countingFile counts bytes read. It keeps the wrapped file reachable
// through Unwrap so readers that memory-map *os.File can still find it.
type countingFile struct {
	afero.File
	c *Counter
}

func (f *countingFile) Read(p []byte) (int, error) {
	n, err := f.File.Read(p)
	f.c.AddBytes(int64(n))
	return n, err
}

func (f *countingFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := f.File.ReadAt(p, off)
	f.c.AddBytes(int64(n))
	return n, err
}

// Unwrap returns the wrapped file.
func (f *countingFile) Unwrap() afero.File { return f.File }
