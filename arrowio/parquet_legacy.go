package arrowio

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Legacy two-level lists. The Parquet spec's backward-compatibility rules
// say that in
//
//	optional group a (LIST) { repeated group array { <one field> } }
//
// the repeated group named "array" (or "<a>_tuple") with a single field is
// itself the element. pqarrow (v18.8.0) reads it as list<struct<field>>
// instead, one nesting level too many (parquet-testing's
// old_list_structure.parquet reads as [[{array:[1,2]}, ...]] instead of
// [[1,2],[3,4]]). The levels are the same either way, so the reader fixes
// the shape after decoding by dropping the struct: the struct cannot be
// null, since it is a repeated group's entry.

// legacyListElem reports whether top-level column node reads as
// list<struct<one field>> that the two-level rule says is list<field>, and
// returns the corrected type.
func legacyListElem(node schema.Node, dt arrow.DataType) (arrow.DataType, bool) {
	g, ok := node.(*schema.GroupNode)
	if !ok || g.NumFields() != 1 {
		return nil, false
	}
	if g.ConvertedType() != schema.ConvertedTypes.List && !isListLogical(g.LogicalType()) {
		return nil, false
	}
	rep, ok := g.Field(0).(*schema.GroupNode)
	if !ok || rep.RepetitionType() != parquet.Repetitions.Repeated || rep.NumFields() != 1 {
		return nil, false
	}
	if rep.Name() != "array" && rep.Name() != g.Name()+"_tuple" {
		return nil, false
	}
	lt, ok := dt.(*arrow.ListType)
	if !ok {
		return nil, false
	}
	st, ok := lt.Elem().(*arrow.StructType)
	if !ok || st.NumFields() != 1 {
		return nil, false
	}
	return arrow.ListOfField(st.Field(0)), true
}

func isListLogical(lt schema.LogicalType) bool {
	_, ok := lt.(schema.ListLogicalType)
	return ok
}

// unwrapLegacyList rewrites a list<struct<x>> array as list<x> of type dt,
// sharing every buffer. It returns a new reference; a is not released.
func unwrapLegacyList(a arrow.Array, dt arrow.DataType) arrow.Array {
	l := a.(*array.List)
	child := l.ListValues().(*array.Struct).Field(0)
	d := l.Data()
	nd := array.NewData(dt, d.Len(), d.Buffers(), []arrow.ArrayData{child.Data()}, d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}
