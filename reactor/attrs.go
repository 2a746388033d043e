package reactor

import (
	"errors"

	"github.com/triplesync/triplesync/internal/jsonlite"
	"github.com/triplesync/triplesync/store"
)

// The attribute registry is stored (the SettingAttrs setting) as the JSON
// array init-ok carries, which encoding/json wrote from []store.Attr. It
// is written by store.AppendAttrsJSON and read here by hand, for the size
// of the WebAssembly client, to the same bytes and accepting the same
// texts; the tests hold both to encoding/json.

var errAttrsShape = errors.New("reactor: attrs: not a list of attributes")

// decodeAttrs reads what json.Unmarshal into []store.Attr accepted, to
// the same list; it fails where that failed (the error says less).
func decodeAttrs(data []byte) ([]store.Attr, error) {
	d := jsonlite.NewDecoder(data)
	var list []store.Attr
	var err error
	switch d.Peek() {
	case jsonlite.Null:
		err = d.Skip()
	case jsonlite.Array:
		list = []store.Attr{}
		err = d.Array(func(int) error {
			list = append(list, store.Attr{})
			return decodeAttr(d, &list[len(list)-1])
		})
	default:
		err = errAttrsShape
	}
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, err
	}
	return list, nil
}

var attrFields = []string{"id", "namespace", "label", "value-type", "cardinality", "unique", "indexed", "ref-namespace", "reverse-label", "on-delete-cascade"}

func decodeAttr(d *jsonlite.Decoder, a *store.Attr) error {
	if d.Null() {
		return nil
	}
	return d.Object(func(k string) error {
		name := jsonlite.Match(k, attrFields)
		if name != "" && d.Null() {
			return nil // null leaves a field as it is
		}
		switch name {
		case "id", "value-type", "cardinality":
			s, err := d.String()
			if err != nil {
				return err
			}
			switch name {
			case "id":
				return a.ID.UnmarshalText([]byte(s))
			case "value-type":
				return a.Type.UnmarshalText([]byte(s))
			}
			return a.Cardinality.UnmarshalText([]byte(s))
		case "namespace":
			return stringField(d, &a.Namespace)
		case "label":
			return stringField(d, &a.Label)
		case "ref-namespace":
			return stringField(d, &a.RefNamespace)
		case "reverse-label":
			return stringField(d, &a.ReverseLabel)
		case "unique":
			return boolField(d, &a.Unique)
		case "indexed":
			return boolField(d, &a.Indexed)
		case "on-delete-cascade":
			return boolField(d, &a.OnDeleteCascade)
		}
		return d.Skip()
	})
}

func stringField(d *jsonlite.Decoder, dst *string) error {
	s, err := d.String()
	if err == nil {
		*dst = s
	}
	return err
}

func boolField(d *jsonlite.Decoder, dst *bool) error {
	b, err := d.Bool()
	if err == nil {
		*dst = b
	}
	return err
}
