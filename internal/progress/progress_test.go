package progress

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

func TestLine(t *testing.T) {
	tests := []struct {
		name  string
		rows  int64
		bytes int64
		total Total
		final bool
		want  string
	}{
		{"unknown total", 1500, 2 << 20, Total{}, false, "convert 1,500 rows  2.0 MiB  1.0 MiB/s"},
		{"bytes total", 10, 1 << 20, Total{Bytes: 4 << 20}, false, "convert 10 rows  1.0 MiB/4.0 MiB (25%)  512.0 KiB/s  ETA 6s"},
		{"rows win over bytes", 750, 0, Total{Rows: 1000, Bytes: 4 << 20}, false, "convert 750 rows/1,000  0 B (75%)  0 B/s  ETA 1s"},
		{"final", 1000, 4 << 20, Total{Rows: 1000}, true, "convert 1,000 rows/1,000  4.0 MiB (100%)  2.0 MiB/s  done in 2s"},
		{"no bytes counted", 3000, 0, Total{}, false, "convert 3,000 rows  1,500 rows/s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Line("convert", tc.rows, tc.bytes, tc.total, 2*time.Second, tc.final))
		})
	}
}

func TestFormats(t *testing.T) {
	require.Equal(t, "0 B", Bytes(0))
	require.Equal(t, "1023 B", Bytes(1023))
	require.Equal(t, "1.5 KiB", Bytes(1536))
	require.Equal(t, "3.0 GiB", Bytes(3<<30))
	require.Equal(t, "0", Count(0))
	require.Equal(t, "999", Count(999))
	require.Equal(t, "1,234,567", Count(1234567))
	require.Equal(t, "-1,000", Count(-1000))
}

// TestCountingFs counts bytes read both ways and still exposes the OS file.
func TestCountingFs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, []byte("hello world"), 0o644))
	var c Counter
	fsys := CountingFs(afero.NewOsFs(), &c)
	f, err := fsys.Open(path)
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, 5)
	_, err = io.ReadFull(f, buf)
	require.NoError(t, err)
	_, err = f.ReadAt(buf, 6)
	require.NoError(t, err)
	require.Equal(t, int64(10), c.Bytes())
	_, isOS := f.(interface{ Unwrap() afero.File }).Unwrap().(*os.File)
	require.True(t, isOS)
}

// TestBarQuietWhenFast: a command that ends before the delay prints nothing;
// one that runs longer ends its line.
func TestBarQuietWhenFast(t *testing.T) {
	var out bytes.Buffer
	var c Counter
	Start(&out, "x", Total{}, &c, time.Hour, time.Millisecond).Stop()
	require.Empty(t, out.String())

	b := Start(&out, "x", Total{Rows: 10}, &c, 0, time.Millisecond)
	c.AddRows(10)
	time.Sleep(20 * time.Millisecond)
	b.Stop()
	require.Contains(t, out.String(), "\rx 10 rows/10")
	require.Contains(t, out.String(), "(100%)")
	require.True(t, strings.HasSuffix(out.String(), "\n"), "the last line is ended: %q", out.String())
}
