package store

import (
	"strconv"
	"strings"
)

// ValueType is the type an attribute's values must have.
type ValueType uint8

const (
	TypeAny     ValueType = iota // any JSON value; attributes created on first write get this
	TypeString                   // JSON string
	TypeNumber                   // JSON number
	TypeBoolean                  // JSON boolean
	TypeDate                     // number of ms since the Unix epoch, or an RFC 3339 or YYYY-MM-DD string, stored as the number
	TypeJSON                     // any JSON value, object or array included
	TypeRef                      // a link: a string holding the target entity's UUID
)

var valueTypeNames = [...]string{"any", "string", "number", "boolean", "date", "json", "ref"}

// String returns the type's name in the schema and on the wire.
func (t ValueType) String() string {
	if int(t) < len(valueTypeNames) {
		return valueTypeNames[t]
	}
	return "ValueType(" + strconv.Itoa(int(t)) + ")"
}

// ParseValueType parses the names used in the schema and on the wire.
func ParseValueType(s string) (ValueType, error) {
	for i, n := range valueTypeNames {
		if n == s {
			return ValueType(i), nil
		}
	}
	return 0, wrapErr(ErrInvalidAttr, "value type "+strconv.Quote(s))
}

// MarshalText implements encoding.TextMarshaler.
func (t ValueType) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *ValueType) UnmarshalText(b []byte) error {
	v, err := ParseValueType(string(b))
	*t = v
	return err
}

// Cardinality says whether an entity holds one value of an attribute or many.
type Cardinality uint8

const (
	CardinalityOne  Cardinality = iota // writing a value replaces the previous one
	CardinalityMany                    // writing a value adds to the set
)

// String returns "one" or "many".
func (c Cardinality) String() string {
	if c == CardinalityMany {
		return "many"
	}
	return "one"
}

// ParseCardinality parses "one" or "many".
func ParseCardinality(s string) (Cardinality, error) {
	switch s {
	case "one":
		return CardinalityOne, nil
	case "many":
		return CardinalityMany, nil
	}
	return 0, wrapErr(ErrInvalidAttr, "cardinality "+strconv.Quote(s))
}

// MarshalText implements encoding.TextMarshaler.
func (c Cardinality) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (c *Cardinality) UnmarshalText(b []byte) error {
	v, err := ParseCardinality(string(b))
	*c = v
	return err
}

// Attr is an attribute: a row of the attrs table. An attribute belongs to one
// namespace (e.g. "todos") and has a label unique within it (e.g. "title").
// Every namespace has an attribute labelled "id" whose triples hold each
// entity's own id: they say which entities a namespace has.
//
// A ref attribute (Type == TypeRef) links an entity of Namespace to an entity
// of RefNamespace; the link reads forward as Label and backward, from the
// target, as ReverseLabel.
type Attr struct {
	ID              AttrID      `json:"id"`
	Namespace       string      `json:"namespace"`
	Label           string      `json:"label"`
	Type            ValueType   `json:"value-type"`
	Cardinality     Cardinality `json:"cardinality"`
	Unique          bool        `json:"unique"`
	Indexed         bool        `json:"indexed"`
	RefNamespace    string      `json:"ref-namespace,omitempty"`
	ReverseLabel    string      `json:"reverse-label,omitempty"`
	OnDeleteCascade bool        `json:"on-delete-cascade,omitempty"`
}

// IDLabel is the label of the attribute every namespace has for its
// entities' ids.
const IDLabel = "id"

// IsRef reports whether a is a link attribute.
func (a *Attr) IsRef() bool { return a.Type == TypeRef }

// Flags returns the indexes a triple of this attribute belongs to.
func (a *Attr) Flags() IndexFlags {
	var f IndexFlags
	if a.Cardinality == CardinalityOne {
		f |= FlagEA
	}
	if a.IsRef() {
		f |= FlagEAV | FlagVAE
	}
	if a.Unique {
		f |= FlagAV
	}
	if a.Unique || a.Indexed {
		f |= FlagAVE
	}
	return f
}

// Validate checks that the definition is self-consistent.
func (a *Attr) Validate() error {
	switch {
	case a.ID.IsZero():
		return wrapErr(ErrInvalidAttr, "missing id")
	case !validName(a.Namespace):
		return wrapErr(ErrInvalidAttr, "namespace "+strconv.Quote(a.Namespace))
	case !validName(a.Label):
		return wrapErr(ErrInvalidAttr, "label "+strconv.Quote(a.Label)+" in "+a.Namespace)
	case a.Type > TypeRef:
		return wrapErr(ErrInvalidAttr, "value type "+strconv.Itoa(int(a.Type)))
	case a.Cardinality > CardinalityMany:
		return wrapErr(ErrInvalidAttr, "cardinality "+strconv.Itoa(int(a.Cardinality)))
	case a.IsRef() && (!validName(a.RefNamespace) || !validName(a.ReverseLabel)):
		return wrapErr(ErrInvalidAttr, "link "+a.Namespace+"."+a.Label+" needs ref-namespace and reverse-label")
	case a.IsRef() && a.ReverseLabel == IDLabel:
		return wrapErr(ErrInvalidAttr, "link "+a.Namespace+"."+a.Label+" cannot read back as "+a.RefNamespace+".id")
	case !a.IsRef() && (a.RefNamespace != "" || a.ReverseLabel != "" || a.OnDeleteCascade):
		return wrapErr(ErrInvalidAttr, a.Namespace+"."+a.Label+" is not a link but has link settings")
	case a.Label == IDLabel && (a.Type != TypeAny && a.Type != TypeString || a.Cardinality != CardinalityOne):
		return wrapErr(ErrInvalidAttr, a.Namespace+".id must be a string of cardinality one")
	}
	return nil
}

// validName accepts the identifiers InstaQL can name: a letter or underscore,
// then letters, digits, underscores or hyphens; "$" and "." are reserved by
// the query language.
func validName(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// Check returns v as a's triples hold it, or an error wrapping ErrWrongType.
// Dates given as RFC 3339 strings become milliseconds since the epoch; ref
// values must be canonical UUID strings and are lower-cased.
func (a *Attr) Check(v Value) (Value, error) {
	wrong := func() (Value, error) {
		return Value{}, wrapErr(ErrWrongType, a.Namespace+"."+a.Label+" wants "+a.Type.String()+", got "+v.Kind().String()+" "+v.String())
	}
	if a.Label == IDLabel {
		r, ok := canonicalRef(v)
		if !ok {
			return Value{}, wrapErr(ErrWrongType, a.Namespace+".id wants a uuid, got "+v.String())
		}
		return r, nil
	}
	switch a.Type {
	case TypeAny, TypeJSON:
		return v, nil
	case TypeString:
		if v.kind != KindString && v.kind != KindNull {
			return wrong()
		}
	case TypeNumber:
		if v.kind != KindNumber && v.kind != KindNull {
			return wrong()
		}
	case TypeBoolean:
		if v.kind != KindBool && v.kind != KindNull {
			return wrong()
		}
	case TypeDate:
		switch v.kind {
		case KindNull, KindNumber:
		case KindString:
			// RFC 3339, or a bare date: midnight UTC, as JavaScript's Date
			// reads it.
			ms, ok := parseDate(v.str)
			if !ok {
				return wrong()
			}
			return Number(float64(ms)), nil
		default:
			return wrong()
		}
	case TypeRef:
		r, ok := canonicalRef(v)
		if !ok {
			return wrong()
		}
		return r, nil
	}
	return v, nil
}

// canonicalRef returns the ref value for the UUID string v holds, in
// canonical lower-case form; v itself when it already is, which saves an
// allocation per triple when loading.
func canonicalRef(v Value) (Value, bool) {
	id, ok := v.AsEntityID()
	if !ok {
		return Value{}, false
	}
	for i := 0; i < len(v.str); i++ {
		if c := v.str[i]; 'A' <= c && c <= 'F' {
			return Ref(id), true
		}
	}
	return v, true
}

// IndexFlags is the set of indexes a triple belongs to, as stored in the
// triples table's flag columns and carried by changes.
type IndexFlags uint8

const (
	FlagEA  IndexFlags = 1 << iota // cardinality one: at most one value per entity and attribute
	FlagEAV                        // refs, forward
	FlagAV                         // unique: at most one entity per attribute and value
	FlagAVE                        // indexed or unique: ordered by value
	FlagVAE                        // refs, reverse
)

// String lists the flags, e.g. "ea|ave".
func (f IndexFlags) String() string {
	names := []string{"ea", "eav", "av", "ave", "vae"}
	var parts []string
	for i, n := range names {
		if f&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "|")
}
