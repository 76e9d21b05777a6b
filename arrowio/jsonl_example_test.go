package arrowio_test

import (
	"context"
	"fmt"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/spf13/afero"
)

func ExampleOpenJSONL() {
	fsys := afero.NewMemMapFs()
	_ = afero.WriteFile(fsys, "reviews.jsonl", []byte(
		`{"id":1,"text":"great","score":4.5,"tags":["a"]}`+"\n"+
			`{"id":2,"text":"meh","score":3,"tags":[],"extra":{"k":true}}`+"\n"), 0o644)

	r, err := arrowio.OpenJSONL(fsys, "reviews.jsonl", arrowio.WithColumns("id", "score", "tags"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	fmt.Println(r.FileSchema())
	for batch, err := range r.Batches(context.Background()) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(batch.NumRows(), "rows:", batch.Column(0), batch.Column(1), batch.Column(2))
	}

	// A malformed line is reported with its file, line and column.
	_ = afero.WriteFile(fsys, "bad.jsonl", []byte(`{"id":1}`+"\n"+`{"id":2,}`+"\n"), 0o644)
	_, err = arrowio.OpenJSONL(fsys, "bad.jsonl")
	fmt.Println(err)
	// Output:
	// schema:
	//   fields: 5
	//     - id: type=int64, nullable
	//     - text: type=utf8, nullable
	//     - score: type=float64, nullable
	//     - tags: type=list<item: utf8, nullable>, nullable
	//     - extra: type=struct<k: bool nullable>, nullable
	// 2 rows: [1 2] [4.5 3] [["a"] []]
	// bad.jsonl:2:9: syntax error: invalid character '}' looking for beginning of object key string
}
