package streaming

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// FuzzResume feeds arbitrary checkpoints to Resume: it must refuse them or
// continue without panicking, yielding only rows of the dataset, never
// more than one epoch's share.
func FuzzResume(f *testing.F) {
	f.Add([]byte(`{"version":1,"epoch":0,"position":10,"delivered":10}`), false, true)
	f.Add([]byte(`{"version":1,"epoch":3,"position":999999,"skip":5,"delivered":7}`), true, true)
	f.Add([]byte(`{"version":1,"epoch":-1,"position":-5,"delivered":-1,"done":true}`), true, false)
	f.Add([]byte(`{"version":1,"position":17,"skip":40,"delivered":40,"consumer":1,"consumers":3,"elastic":true}`), true, true)
	f.Add([]byte(`not json`), false, false)
	src := makeSource(f, memory.DefaultAllocator, []int64{40, 0, 33, 27}, 9)
	f.Fuzz(func(t *testing.T, data []byte, elastic, filter bool) {
		s, err := New(src, WithChunkRows(16))
		if err != nil {
			t.Fatal(err)
		}
		s = s.Shuffle(4, 25).SplitByNode(1, 3).Elastic(elastic).Pad(true).Batch(5, false)
		if filter {
			s = s.Filter("not3@v1", evenIDs)
		}
		var st State
		if json.Unmarshal(data, &st) != nil {
			return
		}
		st.Fingerprint = s.State().Fingerprint // get past the identity check
		if st.Elastic != elastic {
			return
		}
		if s.Resume(st) != nil {
			return
		}
		var n int64
		for b, err := range s.Batches(context.Background()) {
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range b.Column(0).(*array.Int64).Int64Values() {
				if id < 0 || id >= 100 {
					t.Fatalf("row %d is not in the dataset", id)
				}
			}
			n += b.NumRows()
		}
		if n > 34 {
			t.Fatalf("%d rows after resuming, more than a rank's share of 34", n)
		}
	})
}
