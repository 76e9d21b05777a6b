package hubfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"testing"

	"github.com/quiverdata/quiver/hubfs/hubtest"
)

// rangeOpener is what arrowio asks of a remote file to stream a range.
type rangeOpener interface {
	OpenRange(off, n int64) (io.ReadCloser, error)
}

// TestOpenRange streams ranges of a file with one request each, through
// injected faults (resumed where the body broke), and rejects ranges
// outside the file and reads after Close.
func TestOpenRange(t *testing.T) {
	srv, files, _ := sampleHub(t)
	data := files["data/big.bin"]
	f := openRepo(t, srv, sampleID, WithRetries(8))
	file, err := f.Open("data/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	ro, ok := file.(rangeOpener)
	if !ok {
		t.Fatalf("%T does not stream ranges", file)
	}
	// The first request resolves the file's location (a redirect); the
	// ranges below go straight to it.
	if _, err := file.ReadAt(make([]byte, 4), 0); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		off, n int64
		faults []hubtest.FaultKind
	}{
		{"start", 0, 1000, nil},
		{"middle", 12345, 100_000, nil},
		{"to the end", int64(len(data)) - 777, 777, nil},
		{"empty", 500, 0, nil},
		{"body reset", 1000, 200_000, []hubtest.FaultKind{hubtest.FaultReset}},
		{"body truncated then 503", 2000, 150_000, []hubtest.FaultKind{hubtest.FaultTruncate, hubtest.Fault5xx}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv.Schedule(tc.faults...)
			srv.ResetStats()
			rc, err := ro.OpenRange(tc.off, tc.n)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			if err := rc.Close(); err != nil {
				t.Fatal(err)
			}
			if string(got) != string(data[tc.off:tc.off+tc.n]) {
				t.Fatalf("got %d bytes, not the range's %d", len(got), tc.n)
			}
			if want := int64(1 + len(tc.faults)); tc.n > 0 && srv.Stats().Requests != want {
				t.Errorf("%d requests, want %d", srv.Stats().Requests, want)
			}
		})
	}
	for _, bad := range [][2]int64{{-1, 10}, {0, -1}, {int64(len(data)) - 5, 10}, {int64(len(data)) + 1, 0}} {
		if _, err := ro.OpenRange(bad[0], bad[1]); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("OpenRange(%d, %d): %v, want fs.ErrInvalid", bad[0], bad[1], err)
		}
	}
	if err := file.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.OpenRange(0, 10); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("OpenRange after Close: %v, want fs.ErrClosed", err)
	}
}

// TestConcurrentFirstReadsResolveOnce reads one file from several
// goroutines at once before its location is known: one request goes
// through /resolve/, the others wait for its answer.
func TestConcurrentFirstReadsResolveOnce(t *testing.T) {
	srv, files, _ := sampleHub(t)
	data := files["data/big.bin"]
	f := openRepo(t, srv, sampleID)
	file := openFile(t, f, "data/big.bin")
	srv.ResetStats()
	const readers = 6
	var wg sync.WaitGroup
	errs := make([]error, readers)
	for i := range readers {
		wg.Go(func() {
			off := int64(i) * 40_000
			buf := make([]byte, 1000)
			if _, err := file.ReadAt(buf, off); err != nil {
				errs[i] = err
				return
			}
			if !bytes.Equal(buf, data[off:off+1000]) {
				errs[i] = fmt.Errorf("read at %d: wrong bytes", off)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := srv.Stats(); st.Resolves != 1 || st.CDNRequests != readers {
		t.Fatalf("%d resolves and %d CDN requests, want 1 and %d", st.Resolves, st.CDNRequests, readers)
	}
}
