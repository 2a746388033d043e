package store

import "github.com/triplesync/triplesync/internal/errs"

// The package builds its messages without fmt, which (with the reflection it
// pulls in) would cost the WebAssembly client about 120 KB gzip. Each helper
// writes what the fmt verb it replaces wrote.

// wrapErr returns an error reading base's message, ": " and msg, which
// unwraps to base: fmt.Errorf("%w: "+msg, base).
func wrapErr(base error, msg string) error {
	return errs.With(base.Error()+": "+msg, base)
}

// errText is err's message as %v prints it ("<nil>" for none).
func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// lookupText is l as %s prints it ("<nil>" for none).
func lookupText(l *LookupRef) string {
	if l == nil {
		return "<nil>"
	}
	return l.String()
}

// typeName is x's type as %T prints it, for the types a decoded JSON value
// or a caller's Go value plausibly has. Naming any type needs reflect, which
// the package leaves out; other types read "unsupported type".
func typeName(x any) string {
	switch x.(type) {
	case nil:
		return "<nil>"
	case bool:
		return "bool"
	case string:
		return "string"
	case float64:
		return "float64"
	case float32:
		return "float32"
	case int:
		return "int"
	case int8:
		return "int8"
	case int16:
		return "int16"
	case int32:
		return "int32"
	case int64:
		return "int64"
	case uint:
		return "uint"
	case uint8:
		return "uint8"
	case uint16:
		return "uint16"
	case uint32:
		return "uint32"
	case uint64:
		return "uint64"
	case uintptr:
		return "uintptr"
	case complex64:
		return "complex64"
	case complex128:
		return "complex128"
	case map[string]any:
		return "map[string]interface {}"
	case []any:
		return "[]interface {}"
	case []string:
		return "[]string"
	case []float64:
		return "[]float64"
	case []int:
		return "[]int"
	case []byte:
		return "[]uint8"
	case map[string]string:
		return "map[string]string"
	case EntityID:
		return "store.EntityID"
	case *EntityID:
		return "*store.EntityID"
	case []EntityID:
		return "[]store.EntityID"
	case Value:
		return "store.Value"
	case *Value:
		return "*store.Value"
	case Lookup:
		return "store.Lookup"
	case *Lookup:
		return "*store.Lookup"
	case []Lookup:
		return "[]store.Lookup"
	case LookupRef:
		return "store.LookupRef"
	case *LookupRef:
		return "*store.LookupRef"
	case Triple:
		return "store.Triple"
	case *Triple:
		return "*store.Triple"
	case Step:
		return "store.Step"
	case *Step:
		return "*store.Step"
	case TxOp:
		return "store.TxOp"
	case *TxOp:
		return "*store.TxOp"
	case func():
		return "func()"
	case chan int:
		return "chan int"
	}
	if _, ok := x.(interface {
		Float64() (float64, error)
		Int64() (int64, error)
		String() string
	}); ok {
		return "json.Number" // or another package's Number of that shape
	}
	return "unsupported type"
}
