package dataset_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/quiverdata/quiver/dataset"
)

// A long-running program releases a cached result as soon as it is done
// with it, instead of waiting for the garbage collector.
func ExampleDataset_Close() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "quiver-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	cache, err := dataset.OpenCache(dir)
	if err != nil {
		log.Fatal(err)
	}

	ds, err := dataset.FromRows([]Review{{1, "a", "pos"}, {2, "b", "neg"}, {3, "c", "pos"}}, dataset.WithCache(cache))
	if err != nil {
		log.Fatal(err)
	}
	shuffled, err := ds.Shuffle(7).Flatten(ctx) // written to the cache, mapped
	if err != nil {
		log.Fatal(err)
	}
	n, _ := shuffled.Len(ctx)
	fmt.Println("rows:", n)

	if err := shuffled.Close(); err != nil { // unmapped, cache lock dropped
		log.Fatal(err)
	}
	_, err = shuffled.Row(ctx, 0)
	fmt.Println("after Close:", errors.Is(err, dataset.ErrClosed))

	rep, err := cache.Prune(ctx, dataset.PruneOptions{All: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("pruned entries:", len(rep.Removed))
	// Output:
	// rows: 3
	// after Close: true
	// pruned entries: 1
}
