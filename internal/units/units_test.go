package units

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"500MB", 500_000_000, true},
		{"1GiB", 1 << 30, true},
		{"1.5 gb", 1_500_000_000, true},
		{"64k", 64_000, true},
		{"64KiB", 64 << 10, true},
		{"1024", 1024, true},
		{"10B", 10, true},
		{"", 0, false},
		{"MB", 0, false},
		{"-1MB", 0, false},
		{"ten", 0, false},
		{"NaN", 0, false},
		{"1e30TB", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseSize(tc.in)
		if !tc.ok {
			require.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

// TestParseSizeGendataCases keeps the cases gendata's -size flag was
// written against.
func TestParseSizeGendataCases(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: "1000", want: 1000},
		{in: "1GB", want: 1_000_000_000},
		{in: "1gb", want: 1_000_000_000},
		{in: "500MB", want: 500_000_000},
		{in: "1.5G", want: 1_500_000_000},
		{in: "64KiB", want: 65536},
		{in: "2MiB", want: 2 << 20},
		{in: "10 KB", want: 10_000},
		{in: "7B", want: 7},
		{in: "", bad: true},
		{in: "GB", bad: true},
		{in: "-1MB", bad: true},
		{in: "12XB", bad: true},
		{in: "1e30GB", bad: true},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if tt.bad {
			require.Error(t, err, "%q", tt.in)
			continue
		}
		require.NoError(t, err, "%q", tt.in)
		require.Equal(t, tt.want, got, "%q", tt.in)
	}
}
