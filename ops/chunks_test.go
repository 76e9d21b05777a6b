package ops

import (
	"fmt"
	"sort"
	"testing"
)

// TestChunksLocate checks Locate against a plain search over Starts, for
// uniform layouts (where it divides) and others.
func TestChunksLocate(t *testing.T) {
	layouts := [][]int64{
		{10, 10, 10, 4},
		{10, 10, 10},
		{7},
		{10, 10, 0},
		{10, 3, 10},
		{10, 0, 10},
		{3, 10, 10},
		{10, 10, 12},
	}
	for _, rows := range layouts {
		t.Run(fmt.Sprint(rows), func(t *testing.T) {
			c := NewLazyChunks(nil, rows, nil)
			for p := range c.Len() {
				want := sort.Search(c.NumBatches(), func(i int) bool { return c.Starts[i+1] > p })
				got, off := c.Locate(p)
				if got != want || off != p-c.Starts[want] {
					t.Fatalf("Locate(%d) = %d, %d; want %d, %d", p, got, off, want, p-c.Starts[want])
				}
			}
		})
	}
	if r := uniformRows([]int64{0, 10, 20, 24}); r != 10 {
		t.Errorf("uniformRows of 10,10,4 = %d, want 10", r)
	}
	if r := uniformRows([]int64{0, 10, 13, 23}); r != 0 {
		t.Errorf("uniformRows of 10,3,10 = %d, want 0", r)
	}
}
