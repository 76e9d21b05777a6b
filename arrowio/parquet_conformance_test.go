package arrowio

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parquetTestingDir locates a checkout of apache/parquet-testing:
// $QUIVER_PARQUET_TESTING, else the shared copy. Tests skip when absent.
func parquetTestingDir(t *testing.T) string {
	dir := os.Getenv("QUIVER_PARQUET_TESTING")
	if dir == "" {
		dir = "/work/shared/external/parquet-testing"
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		t.Skipf("parquet-testing not found at %s (set QUIVER_PARQUET_TESTING)", dir)
	}
	return dir
}

// parquetUnreadable lists the parquet-testing data files Quiver does not
// read, with the reason. Each must fail with the error given.
var parquetUnreadable = map[string]struct {
	reason string
	err    error
}{
	"encrypt_columns_and_footer.parquet.encrypted":                            {"Parquet modular encryption", ErrUnsupported},
	"encrypt_columns_and_footer_aad.parquet.encrypted":                        {"Parquet modular encryption", ErrUnsupported},
	"encrypt_columns_and_footer_bloom_filter.parquet.encrypted":               {"Parquet modular encryption", ErrUnsupported},
	"encrypt_columns_and_footer_ctr.parquet.encrypted":                        {"Parquet modular encryption", ErrUnsupported},
	"encrypt_columns_and_footer_disable_aad_storage.parquet.encrypted":        {"Parquet modular encryption", ErrUnsupported},
	"encrypt_columns_plaintext_footer.parquet.encrypted":                      {"Parquet modular encryption (plaintext footer, encrypted columns)", ErrUnsupported},
	"external_key_material_java.parquet.encrypted":                            {"Parquet modular encryption", ErrUnsupported},
	"uniform_encryption.parquet.encrypted":                                    {"Parquet modular encryption", ErrUnsupported},
	"aes256/encrypt_columns_and_footer.parquet.encrypted":                     {"Parquet modular encryption", ErrUnsupported},
	"aes256/encrypt_columns_and_footer_ctr.parquet.encrypted":                 {"Parquet modular encryption", ErrUnsupported},
	"aes256/encrypt_columns_and_footer_disable_aad_storage.parquet.encrypted": {"Parquet modular encryption", ErrUnsupported},
	"aes256/encrypt_columns_plaintext_footer.parquet.encrypted":               {"Parquet modular encryption (plaintext footer, encrypted columns)", ErrUnsupported},
	"aes256/uniform_encryption.parquet.encrypted":                             {"Parquet modular encryption", ErrUnsupported},
}

// parquetSlow are files too heavy for -short runs.
var parquetSlow = map[string]string{
	"large_string_map.brotli.parquet": "a 2 GiB string column chunk in 1 GiB pages",
}

// parquetExpect holds value checks for files whose content is documented
// in their .md (or known from the writers' test suites).
var parquetExpect = map[string]func(t *testing.T, cols map[string]string){
	"int96_from_spark.parquet": func(t *testing.T, cols map[string]string) {
		// int96_from_spark.md lists the values as microseconds since the
		// epoch; the last one is beyond what RFC 3339 JSON can show.
		assert.JSONEq(t, `["2024-01-01T20:34:56.123456Z","2024-01-01T01:00:00Z","9999-12-31T03:00:00Z","2024-12-30T23:00:00Z",null,"9089380393200000000"]`, cols["a"])
	},
	"old_list_structure.parquet": func(t *testing.T, cols map[string]string) {
		// old_list_structure.md: [[1, 2], [3, 4]]
		assert.JSONEq(t, `[[[1,2],[3,4]]]`, cols["a"])
	},
	"unknown-logical-type.parquet": func(t *testing.T, cols map[string]string) {
		// the unknown annotation is dropped: the column reads as its
		// physical type, binary (JSON shows base64)
		assert.JSONEq(t, `["known string 1","known string 2","known string 3"]`, cols["column with known type"])
		assert.JSONEq(t, `["dW5rbm93biBzdHJpbmcgMQ==","dW5rbm93biBzdHJpbmcgMg==","dW5rbm93biBzdHJpbmcgMw=="]`, cols["column with unknown type"])
	},
	"incorrect_map_schema.parquet": func(t *testing.T, cols map[string]string) {
		// read as list<struct<key, value>> since keys may be null
		assert.JSONEq(t, `[[{"key":"parent","value":"another"},{"key":"name","value":"report"}]]`, cols["my_map"])
	},
	"datapage_v2_empty_datapage.snappy.parquet": func(t *testing.T, cols map[string]string) {
		assert.JSONEq(t, `[null]`, cols["value"])
	},
	"alltypes_plain.parquet": func(t *testing.T, cols map[string]string) {
		assert.JSONEq(t, `[4,5,6,7,2,3,0,1]`, cols["id"])
	},
	"hadoop_lz4_compressed.parquet":     lz4Expect,
	"non_hadoop_lz4_compressed.parquet": lz4Expect,
	"lz4_raw_compressed.parquet":        lz4Expect,
}

// lz4Expect: the three small LZ4 files hold the same four rows.
func lz4Expect(t *testing.T, cols map[string]string) {
	assert.JSONEq(t, `[1593604800,1593604800,1593604801,1593604801]`, cols["c0"])
	assert.JSONEq(t, `["YWJj","ZGVm","YWJj","ZGVm"]`, cols["c1"]) // "abc","def" as base64 binary
	assert.JSONEq(t, `[42,7.7,42.125,7.7]`, cols["v11"])
}

// TestParquetConformance reads every file of parquet-testing/data (found by
// glob, so new files are covered automatically): each must read fully with
// the footer's row count, or be listed in parquetUnreadable and fail with
// the error given there. Files with an _expect.csv, and those in
// parquetExpect, are checked value by value.
func TestParquetConformance(t *testing.T) {
	dir := filepath.Join(parquetTestingDir(t), "data")
	var files []string
	for _, pat := range []string{"*.parquet", "*.parquet.encrypted", "*/*.parquet", "*/*.parquet.encrypted"} {
		m, err := filepath.Glob(filepath.Join(dir, pat))
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.NotEmpty(t, files)
	fsys := afero.NewReadOnlyFs(afero.NewOsFs())
	seen := map[string]bool{}
	for _, path := range files {
		name, _ := filepath.Rel(dir, path)
		name = filepath.ToSlash(name)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			if why, ok := parquetSlow[name]; ok && testing.Short() {
				t.Skip("slow under -short: " + why)
			}
			// arrow-go's decoders keep scratch buffers (page reader,
			// DELTA_BINARY_PACKED blocks) past the reader's release, so a
			// checked allocator would report leaks that are not Quiver's;
			// ownership is checked by the round-trip tests instead.
			mem := memory.NewGoAllocator()
			if bad, ok := parquetUnreadable[name]; ok {
				err := openAndReadAll(fsys, path, mem)
				require.Error(t, err, "listed as unreadable: %s", bad.reason)
				assert.ErrorIs(t, err, bad.err)
				assert.Contains(t, err.Error(), path)
				return
			}
			_, slow := parquetSlow[name]
			cols := readColumnsJSON(t, fsys, path, mem, !slow)
			if check, ok := parquetExpect[name]; ok {
				check(t, cols)
			}
			csvPath := strings.TrimSuffix(path, ".parquet") + "_expect.csv"
			if _, err := os.Stat(csvPath); err == nil {
				checkAgainstCSV(t, fsys, path, csvPath, mem)
			}
		})
	}
	for name := range parquetUnreadable {
		assert.True(t, seen[name], "parquetUnreadable lists %s, which is not in the directory", name)
	}
	for name := range parquetExpect {
		assert.True(t, seen[name], "parquetExpect lists %s, which is not in the directory", name)
	}
}

// readColumnsJSON reads the file at path through Open (checking the row
// count against the footer) and returns each column's values as JSON.
func readColumnsJSON(t *testing.T, fsys afero.Fs, path string, mem memory.Allocator, values bool) map[string]string {
	t.Helper()
	r, err := Open(fsys, path, WithAllocator(mem), WithBatchSize(1000))
	require.NoError(t, err)
	defer r.Close()
	tbl := readAll(t, r, mem)
	defer tbl.Release()
	want, ok := r.NumRows()
	require.True(t, ok)
	require.Equal(t, want, tbl.NumRows(), "rows read vs footer")
	out := map[string]string{}
	for i := range int(tbl.NumCols()) {
		if !values || tbl.NumRows() > 10000 {
			continue // row count checked; values only for small files
		}
		a, err := array.Concatenate(tbl.Column(i).Data().Chunks(), mem)
		if err != nil && tbl.NumRows() == 0 {
			continue
		}
		require.NoError(t, err)
		js, err := json.Marshal(a)
		a.Release()
		require.NoError(t, err)
		out[tbl.Schema().Field(i).Name] = string(js)
	}
	return out
}

// checkAgainstCSV compares every value with the _expect.csv beside the
// file: columns by position, values through ValueStr, an empty cell
// matching null or "".
func checkAgainstCSV(t *testing.T, fsys afero.Fs, path, csvPath string, mem memory.Allocator) {
	t.Helper()
	f, err := os.Open(csvPath)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, rows)
	header, rows := rows[0], rows[1:]

	r, err := Open(fsys, path, WithAllocator(mem))
	require.NoError(t, err)
	defer r.Close()
	tbl := readAll(t, r, mem)
	defer tbl.Release()
	require.EqualValues(t, len(rows), tbl.NumRows())
	require.EqualValues(t, len(header), tbl.NumCols())
	for c := range header {
		col := tbl.Column(c).Data()
		row := 0
		for _, chunk := range col.Chunks() {
			for i := range chunk.Len() {
				want := rows[row][c]
				if chunk.IsNull(i) {
					assert.Empty(t, want, "column %s row %d is null", header[c], row)
				} else {
					assert.Equal(t, want, chunk.ValueStr(i), "column %s row %d", header[c], row)
				}
				row++
			}
		}
	}
}

// TestParquetBadData: every file of parquet-testing/bad_data fails with an
// error wrapping ErrCorrupt that names the file, and never panics.
// ARROW-GH-43605 (a dictionary page with more values than the index width
// allows) may instead read consistently.
func TestParquetBadData(t *testing.T) {
	dir := filepath.Join(parquetTestingDir(t), "bad_data")
	files, err := filepath.Glob(filepath.Join(dir, "*.parquet"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	mayRead := map[string]bool{"ARROW-GH-43605.parquet": true}
	fsys := afero.NewOsFs()
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			mem := memory.NewGoAllocator()
			for _, workers := range []int{1, 4} {
				err := openAndReadAll(fsys, path, mem, WithWorkers(workers))
				if err == nil && mayRead[name] {
					continue
				}
				require.Error(t, err)
				assert.True(t, errors.Is(err, ErrCorrupt) || errors.Is(err, ErrUnsupported), "%v", err)
				assert.Contains(t, err.Error(), path)
			}
		})
	}
}

var _ arrow.Array // keep the import when checks change
