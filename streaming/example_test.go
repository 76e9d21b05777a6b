package streaming_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/quiverdata/quiver/streaming"
)

// numbers returns a source of three shards holding 0..9, 10..19, 20..24.
func numbers() streaming.Source {
	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var shards [][]arrow.RecordBatch
	for _, r := range [][2]int64{{0, 10}, {10, 20}, {20, 25}} {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		for n := r[0]; n < r[1]; n++ {
			b.Append(n)
		}
		col := b.NewArray()
		shards = append(shards, []arrow.RecordBatch{array.NewRecordBatch(schema, []arrow.Array{col}, int64(col.Len()))})
	}
	src, err := streaming.FromBatches(schema, shards)
	if err != nil {
		panic(err)
	}
	return src
}

func values(b arrow.RecordBatch) []int64 {
	return b.Column(0).(*array.Int64).Int64Values()
}

// A rank of a two-rank job streams its half of a shuffled dataset in
// batches of four, checkpoints after two batches, and a new process
// resumes from the checkpoint: together they see what one uninterrupted run
// sees.
func Example() {
	ctx := context.Background()
	build := func() *streaming.Stream {
		s, err := streaming.New(numbers())
		if err != nil {
			panic(err)
		}
		return s.Shuffle(7, 8).SplitByNode(1, 2).Batch(4, false)
	}

	s := build()
	fmt.Println("examples per rank:", s.Count())
	var saved []byte
	steps := 0
	for b, err := range s.Batches(ctx) {
		if err != nil {
			panic(err)
		}
		fmt.Println("before:", values(b))
		if steps++; steps == 2 {
			saved, _ = json.Marshal(s.State()) // what the consumer has received
			break                              // the job dies here
		}
	}

	var st streaming.State
	if err := json.Unmarshal(saved, &st); err != nil {
		panic(err)
	}
	resumed := build()
	if err := resumed.Resume(st); err != nil {
		panic(err)
	}
	for b, err := range resumed.Batches(ctx) {
		if err != nil {
			panic(err)
		}
		fmt.Println("after:", values(b))
	}

	fmt.Print("uninterrupted:")
	for b, err := range build().Batches(ctx) {
		if err != nil {
			panic(err)
		}
		fmt.Print(" ", values(b))
	}
	fmt.Println()
	// Output:
	// examples per rank: 12
	// before: [15 13 8 14]
	// before: [19 17 23 18]
	// after: [21 16 20 22]
	// uninterrupted: [15 13 8 14] [19 17 23 18] [21 16 20 22]
}
