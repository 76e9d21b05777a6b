package arrowio_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/spf13/afero"
)

// Read a CSV file with an inferred schema, then see where a bad row is
// reported.
func ExampleOpen_csv() {
	fsys := afero.NewMemMapFs()
	data := "name,age,score\n\"Smith, Jane\",41,3.5\nBob,,4\nEve,unknown,1\n"
	if err := afero.WriteFile(fsys, "/people.csv", []byte(data), 0o644); err != nil {
		log.Fatal(err)
	}
	r, err := arrowio.Open(fsys, "/people.csv", arrowio.WithInferRows(2))
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	for _, f := range r.Schema().Fields() {
		fmt.Println(f.Name, f.Type)
	}
	for _, err := range r.Batches(context.Background()) {
		if err != nil {
			fmt.Println(err)
			fmt.Println(errors.Is(err, arrowio.ErrSchema))
		}
	}
	// Output:
	// name utf8
	// age int64
	// score float64
	// /people.csv:4:5 (column "age"): schema mismatch: column "age": "unknown" is not a valid int64
	// true
}
