package streaming

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

type testRow struct {
	ID   int64  `quiver:"id"`
	Text string `quiver:"text"`
}

func TestRows(t *testing.T) {
	src := makeSource(t, memory.DefaultAllocator, []int64{30, 20}, 7)
	s := newStream(t, src).Shuffle(2, 10).Batch(8, false)
	want, _ := ids(t, s.Shuffle(2, 10))
	var got []int64
	for r, err := range Rows[testRow](context.Background(), s) {
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("row-%d", r.ID), r.Text)
		got = append(got, r.ID)
	}
	require.Equal(t, want, got)

	type wrong struct {
		Missing int64 `quiver:"missing"`
	}
	var err error
	for _, err = range Rows[wrong](context.Background(), newStream(t, src)) {
		if err != nil {
			break
		}
	}
	require.ErrorContains(t, err, "missing")
}
