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
	// id=0 label=business tags=["quote" "review" "travel" "recipe"] len=76
	// id=1 label=entertainment tags=["faq" "translated" "clean" "long"] len=643
	// id=2 label=technology tags=[] len=279
}

func ExampleWriteJSONL() {
	n, err := datagen.WriteJSONL(os.Stdout, datagen.Config{Seed: 5, Rows: 1})
	if err != nil {
		panic(err)
	}
	fmt.Println(n, "row")
	// Output:
	// {"id":0,"text":"the the write before, the my can years set picture now out, by","label":"technology","score":0.432574,"tags":["history","short"],"meta":{"source":"books","lang":"es","len":62},"embedding":[0.3094,-0.0171,0.2422,-0.9545,-0.3823,0.7528,0.3192,0.6047,-0.8332,-0.791,-0.6033,-0.2153,-0.009,-0.002,-0.2174,0.0808]}
	// 1 row
}
