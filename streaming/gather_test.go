package streaming

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/stretchr/testify/require"
)

// TestGatherColumnMatchesTake compares the direct gather with arrow's take
// kernel on every type it handles (and some it hands over), sliced or not,
// with and without nulls.
func TestGatherColumnMatchesTake(t *testing.T) {
	mem := checkedMem(t)
	cases := map[string]string{
		"int64":       `[1, null, 3, 4, 5, 6, 7, 8, 9, 10]`,
		"float32":     `[1.5, 2.5, null, 4, 5, 6, 7, 8, 9, 10]`,
		"int8":        `[1, 2, 3, -4, 5, null, 7, 8, 9, 10]`,
		"int16":       `[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]`,
		"utf8":        `["a", "bb", null, "", "dddd", "e", "ffffff", "g", "h", "i"]`,
		"large_utf8":  `["a", "bb", null, "", "dddd", "e", "ffffff", "g", "h", "i"]`,
		"binary":      `["YQ==", "YmI=", null, "", "ZA==", "ZQ==", "Zg==", "Zw==", "aA==", "aQ=="]`,
		"bool":        `[true, false, null, true, true, false, true, false, true, true]`,
		"date32":      `[1, 2, 3, 4, 5, 6, 7, null, 9, 10]`,
		"list<int32>": `[[1], [2, 3], null, [], [4], [5], [6], [7], [8], [9]]`,
		"fixed16":     `["AAAAAAAAAAAAAAAAAAAAAA==", null, "AQEBAQEBAQEBAQEBAQEBAQ==", "AgICAgICAgICAgICAgICAg==", "AwMDAwMDAwMDAwMDAwMDAw==", "BAQEBAQEBAQEBAQEBAQEBA==", "BQUFBQUFBQUFBQUFBQUFBQ==", "BgYGBgYGBgYGBgYGBgYGBg==", "BwcHBwcHBwcHBwcHBwcHBw==", "CAgICAgICAgICAgICAgICA=="]`,
	}
	types := map[string]arrow.DataType{
		"int64": arrow.PrimitiveTypes.Int64, "float32": arrow.PrimitiveTypes.Float32, "int8": arrow.PrimitiveTypes.Int8,
		"int16": arrow.PrimitiveTypes.Int16, "utf8": arrow.BinaryTypes.String, "large_utf8": arrow.BinaryTypes.LargeString,
		"binary": arrow.BinaryTypes.Binary, "bool": arrow.FixedWidthTypes.Boolean, "date32": arrow.FixedWidthTypes.Date32,
		"list<int32>": arrow.ListOf(arrow.PrimitiveTypes.Int32), "fixed16": &arrow.FixedSizeBinaryType{ByteWidth: 16},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for name, js := range cases {
		t.Run(name, func(t *testing.T) {
			full, _, err := array.FromJSON(mem, types[name], strings.NewReader(js))
			require.NoError(t, err)
			defer full.Release()
			for _, sl := range [][2]int64{{0, 10}, {3, 9}, {1, 2}} {
				col := array.NewSlice(full, sl[0], sl[1])
				offs := make([]int64, 25)
				for i := range offs {
					offs[i] = r.Int64N(int64(col.Len()))
				}
				got, err := gatherColumn(context.Background(), col, offs, mem)
				require.NoError(t, err)
				want, err := takeColumnRef(col, offs)
				require.NoError(t, err)
				require.True(t, array.Equal(want, got), fmt.Sprintf("slice %v: got %v want %v", sl, got, want))
				require.Equal(t, want.NullN(), got.NullN())
				got.Release()
				want.Release()
				col.Release()
			}
		})
	}
}

// takeColumnRef is arrow's take kernel, the reference.
func takeColumnRef(col arrow.Array, offs []int64) (arrow.Array, error) {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues(offs, nil)
	ind := b.NewArray()
	defer ind.Release()
	return compute.TakeArray(context.Background(), col, ind)
}
