// Command gendata writes Quiver's synthetic text dataset (package
// internal/datagen) as JSON Lines, for tests and benchmarks.
//
//	go run ./internal/cmd/gendata -size 1GB -seed 1 -o data.jsonl
//	go run ./internal/cmd/gendata -rows 1000 -o - | head
//	go run ./internal/cmd/gendata -size 200MB -o data.jsonl.zst
//
// Exactly one of -size (target size of the uncompressed JSON Lines, e.g.
// 500MB, 1GB, 64MiB) and -rows is required. An output ending in .gz or .zst
// is compressed (klauspost gzip or zstd). A file output appears only when
// complete: it is written under a temporary name and renamed into place.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/quiverdata/quiver/internal/atomicfile"
	"github.com/quiverdata/quiver/internal/datagen"
	"github.com/quiverdata/quiver/internal/units"
	"github.com/spf13/afero"
)

func main() {
	if err := run(os.Args[1:], afero.NewOsFs(), os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "gendata:", err)
		}
		os.Exit(2)
	}
}

// run is the whole command, with its filesystem and streams injected so
// tests can drive it in-process.
func run(args []string, fsys afero.Fs, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("gendata", flag.ContinueOnError)
	fl.SetOutput(stderr)
	size := fl.String("size", "", "target size of the uncompressed JSON Lines (e.g. 500MB, 1GB, 64MiB)")
	rows := fl.Int64("rows", 0, "number of rows (instead of -size)")
	seed := fl.Uint64("seed", 1, "dataset seed; equal seeds give equal data")
	out := fl.String("o", "", `output path ("-" for stdout); .gz and .zst compress`)
	quiet := fl.Bool("q", false, "do not report to stderr")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fl.Args())
	}
	cfg := datagen.Config{Seed: *seed, Rows: *rows}
	switch {
	case *size != "" && *rows != 0:
		return errors.New("give -size or -rows, not both")
	case *size != "":
		b, err := units.ParseSize(*size)
		if err != nil {
			return err
		}
		cfg.Bytes = b
	case *rows <= 0:
		return errors.New("give -size or a positive -rows")
	}
	if *out == "" {
		return errors.New(`give an output path with -o ("-" for stdout)`)
	}

	start := time.Now()
	var n, written int64
	var err error
	if *out == "-" {
		n, written, err = generate(stdout, cfg, "")
	} else {
		n, written, err = writeFile(fsys, *out, cfg)
	}
	if err != nil {
		return err
	}
	if !*quiet {
		secs := time.Since(start).Seconds()
		fmt.Fprintf(stderr, "gendata: %d rows, %d bytes of JSON Lines to %s in %.2fs (%.0f MB/s)\n",
			n, written, *out, secs, float64(written)/1e6/max(secs, 1e-9))
	}
	return nil
}

func writeFile(fsys afero.Fs, path string, cfg datagen.Config) (rows, written int64, err error) {
	f, err := atomicfile.Create(fsys, path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Abort()
	bw := bufio.NewWriterSize(f, 1<<20)
	if rows, written, err = generate(bw, cfg, path); err != nil {
		return rows, written, err
	}
	if err := bw.Flush(); err != nil {
		return rows, written, err
	}
	return rows, written, f.Commit()
}

// generate writes the rows of cfg to w, compressed as the extension of name
// says, and returns the rows and the uncompressed bytes written.
func generate(w io.Writer, cfg datagen.Config, name string) (rows, written int64, err error) {
	var zw io.WriteCloser
	switch {
	case strings.HasSuffix(name, ".gz"):
		zw, err = gzip.NewWriterLevel(w, gzip.DefaultCompression)
	case strings.HasSuffix(name, ".zst"):
		zw, err = zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedDefault))
	}
	if err != nil {
		return 0, 0, err
	}
	cw := &counter{w: w}
	if zw != nil {
		cw.w = zw
	}
	rows, err = datagen.WriteJSONL(cw, cfg)
	if zw != nil {
		if cerr := zw.Close(); err == nil {
			err = cerr
		}
	}
	return rows, cw.n, err
}

type counter struct {
	w io.Writer
	n int64
}

func (c *counter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
