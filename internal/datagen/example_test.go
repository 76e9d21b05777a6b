package datagen_test

import (
	"fmt"
	"os"

	"github.com/quiverdata/quiver/internal/datagen"
)

func ExampleRows() {
	for r := range datagen.Rows(datagen.Config{Seed: 1, Rows: 3}) {
		label := "null"
		if r.Label != nil {
			label = *r.Label
		}
		fmt.Printf("id=%d label=%s tags=%q len=%d\n", r.ID, label, r.Tags, r.Meta.Len)
	}
	// Output:
	// id=0 label=health tags=[] len=91
	// id=1 label=technology tags=["quote"] len=104
	// id=2 label=health tags=["clean" "history" "list" "recipe"] len=443
}

func ExampleWriteJSONL() {
	n, err := datagen.WriteJSONL(os.Stdout, datagen.Config{Seed: 5, Rows: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(n, "row")
	// Output:
	// {"id":0,"text":"as on day went been went next at. São by. study a now be. things. only again kind, different. the is","label":"business","score":0.606141,"tags":[],"meta":{"source":"code","lang":"es","len":101},"embedding":[-0.565,0.4514,-1.0382,0.7194,0.9057,0.8415,0.119,0.392,0.754,-0.4282,-0.1879,0.0642,0.3387,0.6875,0.443,-0.1337]}
	// 1 row
}
