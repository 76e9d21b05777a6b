package arrowio

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

// This file checks Quiver's IPC readers against apache/arrow-testing: every
// .arrow_file and .stream must read, and for the kinds of data Quiver
// cares about the values must equal the Arrow integration JSON beside each
// file. The JSON is compared through a small canonical form: each row of a
// column becomes nil (null), a string (scalar) or a []any (list, struct,
// map), built independently from the JSON and from the Arrow arrays.

const arrowTestingDir = "../../../shared/external/arrow-testing/data/arrow-ipc-stream/integration"

func arrowTestingRoot(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/work/shared/external/arrow-testing/data/arrow-ipc-stream/integration", arrowTestingDir} {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
	}
	t.Skip("arrow-testing data not present")
	return ""
}

// The integration JSON format (a subset: no unions or views).
type ijFile struct {
	Schema struct {
		Fields []ijField `json:"fields"`
	} `json:"schema"`
	Dictionaries []struct {
		ID   int64 `json:"id"`
		Data struct {
			Count   int     `json:"count"`
			Columns []ijCol `json:"columns"`
		} `json:"data"`
	} `json:"dictionaries"`
	Batches []struct {
		Count   int     `json:"count"`
		Columns []ijCol `json:"columns"`
	} `json:"batches"`
}

type ijField struct {
	Name       string         `json:"name"`
	Type       map[string]any `json:"type"`
	Nullable   bool           `json:"nullable"`
	Children   []ijField      `json:"children"`
	Dictionary *struct {
		ID int64 `json:"id"`
	} `json:"dictionary"`
}

type ijCol struct {
	Name     string            `json:"name"`
	Count    int               `json:"count"`
	Validity []int             `json:"VALIDITY"`
	Data     []json.RawMessage `json:"DATA"`
	Offset   []json.RawMessage `json:"OFFSET"`
	Children []ijCol           `json:"children"`
}

type ijReader struct {
	dicts map[int64]ijCol
}

func rawString(r json.RawMessage) string {
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

func rawInt(r json.RawMessage) int {
	n, err := strconv.Atoi(rawString(r))
	if err != nil {
		panic(err)
	}
	return n
}

// value returns row i of column c of field f in canonical form.
func (ij *ijReader) value(f ijField, c ijCol, i int) any {
	if c.Validity != nil && c.Validity[i] == 0 {
		return nil
	}
	if f.Dictionary != nil {
		idx := rawInt(c.Data[i])
		vf := f
		vf.Dictionary = nil
		return ij.value(vf, ij.dicts[f.Dictionary.ID], idx)
	}
	name, _ := f.Type["name"].(string)
	switch name {
	case "null":
		return nil
	case "bool", "int", "decimal", "date", "time", "timestamp", "duration", "utf8", "largeutf8":
		return rawString(c.Data[i])
	case "floatingpoint":
		v, err := strconv.ParseFloat(rawString(c.Data[i]), 64)
		if err != nil {
			panic(err)
		}
		if f.Type["precision"] == "SINGLE" {
			return strconv.FormatFloat(float64(float32(v)), 'g', -1, 32)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case "binary", "largebinary", "fixedsizebinary":
		return strings.ToLower(rawString(c.Data[i]))
	case "interval":
		var obj map[string]json.Number
		if json.Unmarshal(c.Data[i], &obj) == nil {
			if f.Type["unit"] == "DAY_TIME" {
				return fmt.Sprintf("%sd%sms", obj["days"], obj["milliseconds"])
			}
			return fmt.Sprintf("%sm%sd%sns", obj["months"], obj["days"], obj["nanoseconds"])
		}
		return rawString(c.Data[i])
	case "list", "largelist", "map":
		lo, hi := rawInt(c.Offset[i]), rawInt(c.Offset[i+1])
		return ij.values(f.Children[0], c.Children[0], lo, hi)
	case "fixedsizelist":
		n := int(f.Type["listSize"].(float64))
		return ij.values(f.Children[0], c.Children[0], i*n, (i+1)*n)
	case "struct":
		out := make([]any, len(f.Children))
		for k, cf := range f.Children {
			out[k] = ij.value(cf, c.Children[k], i)
		}
		return out
	}
	panic("integration JSON type not handled: " + name)
}

func (ij *ijReader) values(f ijField, c ijCol, lo, hi int) []any {
	out := make([]any, 0, hi-lo)
	for i := lo; i < hi; i++ {
		out = append(out, ij.value(f, c, i))
	}
	return out
}

// arrowValue returns row i of a in the same canonical form.
func arrowValue(a arrow.Array, i int) any {
	if ext, ok := a.(array.ExtensionArray); ok {
		a = ext.Storage()
	}
	if a.IsNull(i) || a.DataType().ID() == arrow.NULL {
		return nil
	}
	switch a := a.(type) {
	case *array.Dictionary:
		return arrowValue(a.Dictionary(), a.GetValueIndex(i))
	case *array.Boolean:
		return strconv.FormatBool(a.Value(i))
	case *array.Int8:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int16:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Int64:
		return strconv.FormatInt(a.Value(i), 10)
	case *array.Uint8:
		return strconv.FormatUint(uint64(a.Value(i)), 10)
	case *array.Uint16:
		return strconv.FormatUint(uint64(a.Value(i)), 10)
	case *array.Uint32:
		return strconv.FormatUint(uint64(a.Value(i)), 10)
	case *array.Uint64:
		return strconv.FormatUint(a.Value(i), 10)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Date32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Date64:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Time32:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Time64:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Timestamp:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.Duration:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.MonthInterval:
		return strconv.FormatInt(int64(a.Value(i)), 10)
	case *array.DayTimeInterval:
		v := a.Value(i)
		return fmt.Sprintf("%dd%dms", v.Days, v.Milliseconds)
	case *array.MonthDayNanoInterval:
		v := a.Value(i)
		return fmt.Sprintf("%dm%dd%dns", v.Months, v.Days, v.Nanoseconds)
	case *array.Decimal128:
		return a.Value(i).BigInt().String()
	case *array.Decimal256:
		return a.Value(i).BigInt().String()
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Binary:
		return hex.EncodeToString(a.Value(i))
	case *array.LargeBinary:
		return hex.EncodeToString(a.Value(i))
	case *array.FixedSizeBinary:
		return hex.EncodeToString(a.Value(i))
	case *array.Struct:
		out := make([]any, a.NumField())
		for k := range out {
			out[k] = arrowValue(a.Field(k), i)
		}
		return out
	case array.ListLike:
		lo, hi := a.ValueOffsets(i)
		vals := a.ListValues()
		out := make([]any, 0, hi-lo)
		for j := lo; j < hi; j++ {
			out = append(out, arrowValue(vals, int(j)))
		}
		return out
	}
	panic(fmt.Sprintf("arrow type not handled: %s", a.DataType()))
}

func loadIntegrationJSON(t *testing.T, path string) *ijFile {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var ij ijFile
	require.NoError(t, json.NewDecoder(zr).Decode(&ij))
	return &ij
}

// compareBatch checks rec against JSON batch b of ij.
func compareBatch(t *testing.T, ij *ijFile, b int, rec arrow.RecordBatch) {
	t.Helper()
	r := &ijReader{dicts: map[int64]ijCol{}}
	for _, d := range ij.Dictionaries {
		r.dicts[d.ID] = d.Data.Columns[0]
	}
	jb := ij.Batches[b]
	require.Equal(t, int64(jb.Count), rec.NumRows(), "batch %d rows", b)
	require.Equal(t, len(ij.Schema.Fields), int(rec.NumCols()))
	for k, f := range ij.Schema.Fields {
		require.Equal(t, f.Name, rec.Schema().Field(k).Name)
		for i := range jb.Count {
			want := r.value(f, jb.Columns[k], i)
			got := arrowValue(rec.Column(k), i)
			require.Equal(t, want, got, "batch %d column %q row %d", b, f.Name, i)
		}
	}
}

// valueChecked lists the integration cases whose values are compared; the
// others (unions, extension types, intervals) must only read cleanly.
func valueChecked(name string) bool {
	for _, skip := range []string{"union", "extension"} {
		if strings.Contains(name, skip) {
			return false
		}
	}
	return true
}

func TestArrowTestingConformance(t *testing.T) {
	root := arrowTestingRoot(t)
	var files []string
	for _, pat := range []string{"*/*.arrow_file", "*/*.stream"} {
		m, err := filepath.Glob(filepath.Join(root, pat))
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	osfs := afero.NewOsFs()
	for _, path := range files {
		name := filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			base := strings.TrimSuffix(strings.TrimSuffix(path, ".arrow_file"), ".stream")
			var ij *ijFile
			if _, err := os.Stat(base + ".json.gz"); err == nil && valueChecked(name) {
				ij = loadIntegrationJSON(t, base+".json.gz")
			}
			if strings.HasSuffix(path, ".arrow_file") {
				for _, nommap := range []bool{false, true} {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					f, err := OpenArrowFile(osfs, path, WithNoMmap(nommap), WithAllocator(mem))
					require.NoError(t, err)
					if !nommap && mmapSupported && !strings.Contains(path, "compression") {
						require.True(t, f.Mapped(), "uncompressed local files map, dictionaries included")
					}
					if ij != nil {
						require.Equal(t, len(ij.Batches), f.NumBatches())
					}
					for i := range f.NumBatches() {
						rec, err := f.BatchAt(i)
						require.NoError(t, err)
						require.Equal(t, f.BatchRows(i), rec.NumRows())
						if ij != nil {
							compareBatch(t, ij, i, rec)
						}
						rec.Release()
					}
					require.NoError(t, f.Close())
					mem.AssertSize(t, 0)
				}
			}
			// arrowio.Open sniffs the layout whatever the extension says.
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			for _, forced := range []Format{FormatUnknown, FormatArrowFile} {
				r, err := Open(osfs, path, WithFormat(forced, CompressionNone), WithAllocator(mem))
				require.NoError(t, err)
				i := 0
				for rec, err := range r.Batches(context.Background()) {
					require.NoError(t, err)
					if ij != nil {
						compareBatch(t, ij, i, rec)
					}
					i++
				}
				if ij != nil {
					require.Equal(t, len(ij.Batches), i)
				}
				require.NoError(t, r.Close())
			}
			mem.AssertSize(t, 0)
		})
	}
}
