// Package units parses the byte sizes dsctl and the tools take on their
// command lines.
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseSize parses a byte size such as "500MB", "1.5GiB", "64k" or "1024"
// (bytes). Decimal units (KB, MB, GB, TB, and the bare K, M, G, T) are
// powers of 1000, binary units (KiB, MiB, GiB, TiB) powers of 1024, as in
// Hugging Face's max_shard_size; case and spaces are ignored. Negative,
// non-numeric and absurdly large sizes are errors.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	units := []struct {
		suffix string
		mult   float64
	}{
		{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"GIB", 1 << 30}, {"TIB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
		{"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}, {"B", 1},
	}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) || v*mult > math.MaxInt64/2 {
		return 0, fmt.Errorf("bad size %q (want e.g. 500MB, 1GiB)", s)
	}
	return int64(v * mult), nil
}
