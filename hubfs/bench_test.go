package hubfs

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// onlyReader hides WriteTo so io.Copy goes through Read.
type onlyReader struct{ io.Reader }

// onlyWriter hides ReadFrom so io.CopyBuffer uses the given buffer.
type onlyWriter struct{ io.Writer }

// BenchmarkFullFileRead compares reading a whole 64 MiB file through hubfs
// with a plain net/http GET + copy of the same URL on the same loopback
// server, pairwise with the same copy buffer: plain-http-io.Copy with
// hubfs-Read-io.Copy (8 KiB, io.Discard's ReadFrom), the 32 KiB pair, and
// plain-http-256KiB-buffer with hubfs-io.Copy (WriteTo, one streaming
// request with a 256 KiB buffer). Compare MB/s for the ratios.
func BenchmarkFullFileRead(b *testing.B) {
	const size = 64 << 20
	data := randomBytes(3, size)
	srv := newHub(b)
	srv.AddRepo("dataset", "bench/full").Commit("main", map[string][]byte{"big.bin": data})
	f := openRepo(b, srv, "bench/full")
	resolveURL := f.c.resolveURL(f.Commit(), "big.bin")
	plain := &http.Client{Transport: &http.Transport{DisableCompression: true}}

	// copyEach opens the file with open and copies it with copyFn in every
	// iteration, checking that all size bytes arrive.
	copyEach := func(open func() (io.ReadCloser, error), copyFn func(io.Reader) (int64, error)) func(*testing.B) {
		return func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				rc, err := open()
				if err != nil {
					b.Fatal(err)
				}
				n, err := copyFn(rc)
				rc.Close()
				if err != nil || n != size {
					b.Fatal(n, err)
				}
			}
		}
	}
	get := func() (io.ReadCloser, error) {
		resp, err := plain.Get(resolveURL)
		if err != nil {
			return nil, err
		}
		return resp.Body, nil
	}
	open := func() (io.ReadCloser, error) { return f.Open("big.bin") }
	// copyAll copies into io.Discard with io.Copy; with readOnly, through
	// Read only (the source's WriteTo hidden).
	copyAll := func(readOnly bool) func(io.Reader) (int64, error) {
		return func(r io.Reader) (int64, error) {
			if readOnly {
				r = onlyReader{r}
			}
			return io.Copy(io.Discard, r)
		}
	}
	// copyBuffer copies like copyAll, but through onlyWriter, so
	// io.CopyBuffer uses a buffer of n bytes.
	copyBuffer := func(n int, readOnly bool) func(io.Reader) (int64, error) {
		buf := make([]byte, n)
		return func(r io.Reader) (int64, error) {
			if readOnly {
				r = onlyReader{r}
			}
			return io.CopyBuffer(onlyWriter{io.Discard}, r, buf)
		}
	}

	b.Run("plain-http-io.Copy", copyEach(get, copyAll(false)))
	for _, bufSize := range []int{32 << 10, 256 << 10} {
		b.Run(fmt.Sprintf("plain-http-%dKiB-buffer", bufSize>>10), copyEach(get, copyBuffer(bufSize, false)))
	}
	b.Run("hubfs-io.Copy", copyEach(open, copyAll(false)))
	// Through Read: io.Copy into io.Discard reads 8 KiB at a time, like
	// plain-http-io.Copy; the 32 KiB variant pairs with its plain twin.
	b.Run("hubfs-Read-io.Copy", copyEach(open, copyAll(true)))
	b.Run("hubfs-Read-32KiB-buffer", copyEach(open, copyBuffer(32<<10, true)))
}

// BenchmarkParquetOneColumn reads one of four columns of a ~11 MB Parquet
// file through hubfs and reports what travelled per read.
func BenchmarkParquetOneColumn(b *testing.B) {
	data := parquetFile(b, 200_000, 50_000)
	srv := newHub(b)
	srv.AddRepo("dataset", "bench/pq").Commit("main", map[string][]byte{"t.parquet": data})
	f := openRepo(b, srv, "bench/pq")
	srv.ResetStats()
	for b.Loop() {
		file, err := f.Open("t.parquet")
		if err != nil {
			b.Fatal(err)
		}
		sumColumn(b, file, 1, memory.DefaultAllocator)
		file.Close()
	}
	st := srv.Stats()
	b.ReportMetric(float64(st.FileBytes)/float64(b.N), "bytes/op")
	b.ReportMetric(float64(st.Requests)/float64(b.N), "requests/op")
	b.ReportMetric(float64(len(data)), "file-bytes")
}
