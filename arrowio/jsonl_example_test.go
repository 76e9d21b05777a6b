package arrowio_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
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

func ExampleInferJSONLSchema() {
	in := strings.NewReader(`{"id":1,"score":2,"meta":{"a":true}}
{"id":2,"score":2.5,"meta":{"b":"x"},"tags":[]}
{"id":"3"}
`)
	s, err := arrowio.InferJSONLSchema(in)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range s.Fields() {
		fmt.Printf("%s: %s\n", f.Name, f.Type)
	}

	_, err = arrowio.InferJSONLSchema(strings.NewReader("{\"id\":1}\n{\"id\":\"3\"}\n"),
		arrowio.WithMixedTypes(arrowio.MixedError))
	fmt.Println(err)
	// Output:
	// id: utf8
	// score: float64
	// meta: struct<a: bool nullable, b: utf8 nullable>
	// tags: list<item: null, nullable>
	// <input>:2:7 (column "id"): schema mismatch: field "id": mixed kinds int and string
}

func ExampleNewWriter_jsonl() {
	fsys := afero.NewMemMapFs()
	_ = afero.WriteFile(fsys, "in.jsonl", []byte(`{"when":"2024-05-01T12:00:00Z","v":0.5,"raw":"aGk="}`+"\n"), 0o644)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "when", Type: &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "raw", Type: arrow.BinaryTypes.Binary, Nullable: true},
	}, nil)
	r, err := arrowio.OpenJSONL(fsys, "in.jsonl", arrowio.WithSchema(schema))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer r.Close()
	w, err := arrowio.NewWriter(os.Stdout, schema, arrowio.WithOutputFormat(arrowio.FormatJSONL, arrowio.CompressionNone))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Abort()
	for batch, err := range r.Batches(context.Background()) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if err := w.Write(batch); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
	}
	// Output:
	// {"when":"2024-05-01T12:00:00Z","v":0.5,"raw":"aGk="}
}
