package arrowio

// Schema inference for JSON Lines.

import (
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
)

// InferJSONLSchema reads JSON Lines from r and infers an Arrow schema from
// the first InferRows non-blank lines (default 1000; negative reads all).
// It reads from r but does not close it. Compression, if any, must already
// be undone.
//
// Every line must be a JSON object; its keys become nullable fields in the
// order they first appear. Value kinds unify field by field:
//
//   - null fits anything; a field that is null on every sampled line has
//     type null (arrow.Null), as does the element of lists that were always
//     empty;
//   - true/false give bool; integers give int64; any number with a fraction
//     or exponent, or an integer beyond int64, gives float64, and int64
//     widens to float64 when both occur;
//   - strings give utf8 (timestamps are not guessed: give WithSchema);
//   - objects give a struct holding the union of their keys, in order of
//     first appearance; arrays give a list whose element type unifies all
//     elements.
//
// Kinds that do not unify (a string and a number, an object and an array)
// make the field utf8 holding each value's JSON text, or, with
// WithMixedTypes(MixedError), fail with a *PosError wrapping ErrSchema that
// names the field path, the two kinds and the line. A malformed line is a
// *PosError wrapping ErrSyntax, or is skipped WithPermissive.
func InferJSONLSchema(r io.Reader, opts ...ReadOption) (*arrow.Schema, error) {
	cfg, err := NewReadConfig(opts...)
	if err != nil {
		return nil, err
	}
	return inferSchema(r, "<input>", cfg, defaultChunkSize)
}

type inferKind uint8

const (
	kindNull inferKind = iota
	kindBool
	kindInt
	kindFloat
	kindString
	kindObject
	kindArray
	kindMixed // kinds that did not unify: a string of JSON text
)

var inferKindNames = [...]string{"null", "bool", "int", "float", "string", "object", "array", "mixed"}

func (k inferKind) String() string { return inferKindNames[k] }

// inferNode is the type inferred so far for one field or list element.
type inferNode struct {
	kind   inferKind
	names  []string // object keys in order of first appearance
	fields map[string]*inferNode
	elem   *inferNode // array element
	name   string     // key of this field in its parent object
}

func (n *inferNode) field(name []byte) *inferNode {
	if c, ok := n.fields[string(name)]; ok {
		return c
	}
	if n.fields == nil {
		n.fields = make(map[string]*inferNode)
	}
	key := string(name)
	c := &inferNode{name: key}
	n.fields[key] = c
	n.names = append(n.names, key)
	return c
}

// arrowType returns the Arrow type of the node.
func (n *inferNode) arrowType() arrow.DataType {
	switch n.kind {
	case kindBool:
		return arrow.FixedWidthTypes.Boolean
	case kindInt:
		return arrow.PrimitiveTypes.Int64
	case kindFloat:
		return arrow.PrimitiveTypes.Float64
	case kindString, kindMixed:
		return arrow.BinaryTypes.String
	case kindObject:
		return arrow.StructOf(n.arrowFields()...)
	case kindArray:
		if n.elem == nil {
			return arrow.ListOf(arrow.Null)
		}
		return arrow.ListOf(n.elem.arrowType())
	}
	return arrow.Null
}

func (n *inferNode) arrowFields() []arrow.Field {
	fields := make([]arrow.Field, len(n.names))
	for i, name := range n.names {
		fields[i] = arrow.Field{Name: name, Type: n.fields[name].arrowType(), Nullable: true}
	}
	return fields
}

// inferer unifies lines into a root node.
type inferer struct {
	s     scanner
	mixed MixedTypes
	root  inferNode
	path  []string // keys (or "[]") from the line's object to the value
}

// unify merges kind k, of the value at offset off, into n. It returns
// false when n has become (or already was) mixed, so the caller must skip
// the value.
func (in *inferer) unify(n *inferNode, k inferKind, off int) (bool, error) {
	switch {
	case n.kind == k:
		return true, nil
	case n.kind == kindNull:
		n.kind = k
		return true, nil
	case n.kind == kindMixed:
		return false, nil
	case n.kind == kindInt && k == kindFloat:
		n.kind = kindFloat
		return true, nil
	case n.kind == kindFloat && k == kindInt:
		return true, nil
	}
	if in.mixed == MixedError {
		return false, in.s.schemaErr(off, in.pathString(), fmt.Sprintf("mixed kinds %s and %s", n.kind, k))
	}
	*n = inferNode{kind: kindMixed, name: n.name}
	return false, nil
}

// pathString joins the path stack: "a.b[]".
func (in *inferer) pathString() string {
	var b []byte
	for i, p := range in.path {
		if i > 0 && p != "[]" {
			b = append(b, '.')
		}
		b = append(b, p...)
	}
	return string(b)
}

// value infers the value at s.pos into n.
func (in *inferer) value(n *inferNode, depth int) error {
	s := &in.s
	if depth > maxDepth {
		return s.syntaxErr(s.pos, "nesting too deep")
	}
	start := s.pos
	var k inferKind
	switch c := s.peek(); {
	case c == 'n':
		return s.literal("null")
	case c == 't' || c == 'f':
		k = kindBool
	case c == '"':
		k = kindString
	case c == '{':
		k = kindObject
	case c == '[':
		k = kindArray
	case c == '-' || (c >= '0' && c <= '9'):
		t, isInt, err := s.number()
		if err != nil {
			return err
		}
		k = kindFloat
		if _, ok := parseInt64(t); isInt && ok {
			k = kindInt
		}
		_, err = in.unify(n, k, start)
		return err
	default:
		return s.unexpected("looking for beginning of value")
	}
	ok, err := in.unify(n, k, start)
	if err != nil {
		return err
	}
	if !ok || k == kindBool || k == kindString {
		return s.skipValue()
	}
	if k == kindObject {
		return in.members(n, depth+1)
	}
	// Array: only n.elem changes below, so n stays an array.
	in.path = append(in.path, "[]")
	defer func() { in.path = in.path[:len(in.path)-1] }()
	return s.elements(func() error {
		if n.elem == nil {
			n.elem = &inferNode{}
		}
		return in.value(n.elem, depth+1)
	})
}

// members infers the object at s.pos into the fields of n, whose values
// are at the given depth.
func (in *inferer) members(n *inferNode, depth int) error {
	return in.s.members(func(key []byte) error {
		f := n.field(key)
		in.path = append(in.path, f.name)
		err := in.value(f, depth)
		in.path = in.path[:len(in.path)-1]
		return err
	})
}

// line infers one line, which must hold an object.
func (in *inferer) line(b []byte) error {
	return in.s.line(b, func() error {
		in.root.kind = kindObject
		in.path = in.path[:0]
		return in.members(&in.root, 1)
	})
}

// inferSchema infers the schema of the JSON Lines stream r; path names it
// in errors.
func inferSchema(r io.Reader, path string, cfg ReadConfig, chunkSize int) (*arrow.Schema, error) {
	in := &inferer{mixed: cfg.Mixed}
	in.root.kind = kindObject
	limit := int64(cfg.InferRows)
	if limit == 0 {
		limit = 1000 // the documented default, for configs not built by NewReadConfig
	}
	var rows int64
	ck := newChunker(r, chunkSize)
	var buf []byte
	for limit < 0 || rows < limit {
		c, err := ck.next(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			if cfg.Compression != CompressionNone {
				return nil, fmt.Errorf("%s: %w: %s data: %v", path, ErrCorrupt, cfg.Compression, err)
			}
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		buf = c.data
		for l := range c.lines() {
			if limit >= 0 && rows >= limit {
				break
			}
			// Work on a copy of the node tree only in permissive mode,
			// where a bad line must leave no trace.
			var saved inferNode
			if cfg.Permissive {
				saved = cloneNode(&in.root)
			}
			err := in.line(l.text)
			switch {
			case err == nil:
				rows++
			case cfg.Permissive && !isMixedErr(err):
				in.root = saved
			default:
				if se, ok := errors.AsType[*scanError](err); ok {
					return nil, l.error(path, se)
				}
				return nil, err
			}
		}
	}
	return arrow.NewSchema(in.root.arrowFields(), nil), nil
}

// isMixedErr tells a MixedError failure (always fatal) from a bad line.
func isMixedErr(err error) bool {
	var se *scanError
	return errors.As(err, &se) && se.kind == ErrSchema
}

func cloneNode(n *inferNode) inferNode {
	c := inferNode{kind: n.kind, name: n.name}
	if n.names != nil {
		c.names = append([]string(nil), n.names...)
		c.fields = make(map[string]*inferNode, len(n.fields))
		for k, v := range n.fields {
			cv := cloneNode(v)
			c.fields[k] = &cv
		}
	}
	if n.elem != nil {
		e := cloneNode(n.elem)
		c.elem = &e
	}
	return c
}
