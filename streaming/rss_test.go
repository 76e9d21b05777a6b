package streaming

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestPeakRSS streams a dataset larger than memory and checks that the
// process's peak resident set stays under 1 GiB. It is heavy and runs only
// when QUIVER_RSS_ARROW_GB gives the dataset's Arrow size in GB: one
// Parquet file of about 1 GB of Arrow data is written and listed as many
// times as needed (the stream reads every listing afresh), so the disk
// holds one copy. Example: QUIVER_RSS_ARROW_GB=36 go test ./streaming -run
// TestPeakRSS -v -timeout 1h.
func TestPeakRSS(t *testing.T) {
	if os.Getenv("QUIVER_RSS_CHILD") != "" {
		rssChild(t)
		return
	}
	gb, _ := strconv.ParseFloat(os.Getenv("QUIVER_RSS_ARROW_GB"), 64)
	if gb <= 0 {
		t.Skip("set QUIVER_RSS_ARROW_GB to run")
	}
	b := &testing.B{}
	paths := benchData(b) // 2 files, 512Ki rows, about 70 MB of Arrow each run
	perCopy := float64(benchBytes) / 1e9
	copies := int(gb/perCopy) + 1
	var locs []string
	for range copies {
		locs = append(locs, paths...)
	}
	list := filepath.Join(t.TempDir(), "locations")
	require.NoError(t, os.WriteFile(list, []byte(strings.Join(locs, "\n")), 0o644))
	cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSS$", "-test.v")
	cmd.Env = append(os.Environ(), "QUIVER_RSS_CHILD="+list)
	began := time.Now()
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	t.Logf("%d listings of %.3f GB = %.1f GB of Arrow data streamed with a 10,000-row shuffle in %v\n%s",
		copies, perCopy, float64(copies)*perCopy, time.Since(began), out)
	require.Contains(t, string(out), "peak RSS")
}

func rssChild(t *testing.T) {
	raw, err := os.ReadFile(os.Getenv("QUIVER_RSS_CHILD"))
	require.NoError(t, err)
	locs := strings.Split(string(raw), "\n")
	s, err := Open(context.Background(), locs)
	require.NoError(t, err)
	var rows int64
	for b, err := range s.Shuffle(1, 10000).Batches(context.Background()) {
		require.NoError(t, err)
		rows += b.NumRows()
	}
	require.Equal(t, s.NumRows(), rows)
	status, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	var hwm int64
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			hwm, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	fmt.Printf("rows %d, peak RSS %d MiB\n", rows, hwm/1024)
	require.Less(t, hwm*1024, int64(1<<30), "peak RSS over 1 GiB")
}
