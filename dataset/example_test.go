package dataset_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/quiverdata/quiver/dataset"
	"github.com/quiverdata/quiver/ops"
)

type Review struct {
	ID    int64  `quiver:"id"`
	Text  string `quiver:"text"`
	Label string `quiver:"label"`
}

type Features struct {
	ID    int64  `quiver:"id"`
	Words int64  `quiver:"words"`
	Label string `quiver:"label"`
}

func Example() {
	ctx := context.Background()
	cache, err := os.MkdirTemp("", "quiver-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cache)

	reviews := []Review{
		{1, "great kettle, works well", "pos"}, {2, "broke", "neg"},
		{3, "lovely lamp", "pos"}, {4, "arrived late and flimsy", "neg"},
		{5, "sturdy tent for the price", "pos"}, {6, "too small", "neg"},
	}
	ds, err := dataset.FromRows(reviews, dataset.WithCacheDir(cache))
	if err != nil {
		log.Fatal(err)
	}
	// Each op returns a new, lazy dataset.
	counted := dataset.MapRows(ds, "count-words@v1", func(r Review) (Features, error) {
		return Features{ID: r.ID, Words: int64(len(strings.Fields(r.Text))), Label: r.Label}, nil
	})
	wordy := dataset.FilterRows(counted, "wordy@v1", func(e Features) (bool, error) { return e.Words >= 2, nil })
	train, test := wordy.Shuffle(42).TrainTestSplit(ops.SplitSpec{TestCount: 1, Seed: 1})

	n, err := train.Len(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("train rows:", n)
	for e, err := range dataset.Rows[Features](ctx, test, 0) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("test row: id=%d words=%d label=%s\n", e.ID, e.Words, e.Label)
	}
	// Output:
	// train rows: 4
	// test row: id=1 words=4 label=pos
}
