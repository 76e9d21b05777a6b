package arrowio_test

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/arrowio"
)

// BookReview is a row type: tags name the columns, pointers and slices are
// nullable, fixed arrays become fixed-size columns.
type BookReview struct {
	ID        int64      `quiver:"id"`
	Text      string     `quiver:"text"`
	Stars     *int8      `quiver:"stars"` // nil is null
	Tags      []string   `quiver:"tags"`
	Embedding [4]float32 `quiver:"embedding"`
	Posted    time.Time  `quiver:"posted"`
	internal  string     // unexported: not a column
}

func ExampleBatchFromRows() {
	five := int8(5)
	rows := []BookReview{
		{ID: 1, Text: "great", Stars: &five, Tags: []string{"short"}, Posted: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
		{ID: 2, Text: "no rating yet"},
	}
	batch, err := arrowio.BatchFromRows(memory.DefaultAllocator, rows)
	if err != nil {
		panic(err)
	}
	defer batch.Release()

	fmt.Println(batch.Schema())
	fmt.Println("rows:", batch.NumRows(), "null stars:", batch.Column(2).NullN())
	// Output:
	// schema:
	//   fields: 6
	//     - id: type=int64
	//     - text: type=utf8
	//     - stars: type=int8, nullable
	//     - tags: type=list<item: utf8>, nullable
	//     - embedding: type=fixed_size_list<item: float32>[4]
	//     - posted: type=timestamp[us, tz=UTC]
	// rows: 2 null stars: 1
}

func ExampleAppendRows() {
	three := int8(3)
	batch, err := arrowio.BatchFromRows(nil, []BookReview{
		{ID: 7, Text: "fine", Stars: &three, Embedding: [4]float32{0.5, 0, 0, 1}},
		{ID: 8, Text: "meh", Tags: []string{}},
	})
	if err != nil {
		panic(err)
	}
	defer batch.Release()

	// A smaller struct reads only the columns it names, in any order;
	// Score has no column, so it would be an error: tag it "-" to skip it.
	type summary struct {
		Stars *int8  `quiver:"stars"`
		ID    int64  `quiver:"id"`
		Score string `quiver:"-"`
	}
	got, err := arrowio.AppendRows[summary](nil, batch)
	if err != nil {
		panic(err)
	}
	for _, s := range got {
		if s.Stars == nil {
			fmt.Println(s.ID, "unrated")
			continue
		}
		fmt.Println(s.ID, *s.Stars, "stars")
	}
	// Output:
	// 7 3 stars
	// 8 unrated
}

func ExampleRowBuilder() {
	b, err := arrowio.NewRowBuilder[BookReview](nil)
	if err != nil {
		panic(err)
	}
	defer b.Release()
	for id := range int64(5) {
		if err := b.Append(BookReview{ID: id, Text: fmt.Sprint("row ", id)}); err != nil {
			panic(err)
		}
		if b.NumRows() == 2 { // flush every two rows
			batch := b.NewBatch()
			fmt.Println("batch of", batch.NumRows())
			batch.Release()
		}
	}
	last := b.NewBatch()
	defer last.Release()
	fmt.Println("last batch of", last.NumRows())
	// Output:
	// batch of 2
	// batch of 2
	// last batch of 1
}
