package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	tassert "github.com/stretchr/testify/assert"
)

// TestTypeNameMatchesFmt: typeName writes what %T did for every type it
// names.
func TestTypeNameMatchesFmt(t *testing.T) {
	id := EntityID{1}
	v := String("x")
	l := Lookup{Label: "a"}
	lr := LookupRef{}
	tr := Triple{}
	st := Step{}
	op := TxOp{}
	for _, x := range []any{nil, true, "s", 1.5, float32(1), 1, int8(1), int16(1), int32(1), int64(1),
		uint(1), uint8(1), uint16(1), uint32(1), uint64(1), uintptr(1), complex64(1), complex128(1),
		map[string]any{}, []any{}, []string{}, []float64{}, []int{}, []byte{}, map[string]string{},
		id, &id, []EntityID{}, v, &v, l, &l, []Lookup{}, lr, &lr, tr, &tr, st, &st, op, &op,
		func() {}, make(chan int), json.Number("1")} {
		tassert.Equal(t, fmt.Sprintf("%T", x), typeName(x))
	}
	tassert.Equal(t, "unsupported type", typeName(struct{}{}))
}

// TestMsgHelpers: the helpers write what the fmt verbs they replace wrote.
func TestMsgHelpers(t *testing.T) {
	err := wrapErr(ErrMalformedStep, "x")
	tassert.Equal(t, fmt.Errorf("%w: x", ErrMalformedStep).Error(), err.Error())
	tassert.ErrorIs(t, err, ErrMalformedStep)
	tassert.Equal(t, fmt.Sprintf("%v", error(nil)), errText(nil))
	tassert.Equal(t, fmt.Sprintf("%v", io.EOF), errText(io.EOF))
	var nilRef *LookupRef
	//lint:ignore S1025 the point is fmt's own rendering, which lookupText replaces
	tassert.Equal(t, fmt.Sprintf("%s", nilRef), lookupText(nil))
	l := &LookupRef{A: EntityID{2}, V: Number(1)}
	//lint:ignore S1025 likewise
	tassert.Equal(t, fmt.Sprintf("%s", l), lookupText(l))
	tassert.Equal(t, fmt.Sprintf("[%s %s]", l.A, l.V), l.String())
	tr := Triple{E: EntityID{1}, A: EntityID{2}, V: String("<&>")}
	tassert.Equal(t, fmt.Sprintf("[%s %s %s]", tr.E, tr.A, tr.V), tr.String())
	for _, e := range []error{&StepError{Index: 3, Err: io.EOF}, &StepError{Index: 1, Op: OpAddTriple, Err: io.EOF}, &StepError{}} {
		se := e.(*StepError)
		want := fmt.Sprintf("step %d (%s): %v", se.Index, se.Op, se.Err)
		if se.Op == "" {
			want = fmt.Sprintf("step %d: %v", se.Index, se.Err)
		}
		tassert.Equal(t, want, e.Error())
	}
	oe := &OpError{Index: 2, Action: "link", Err: errors.New("x")}
	tassert.Equal(t, fmt.Sprintf("op %d (%s): %v", oe.Index, oe.Action, oe.Err), oe.Error())
	for k := range 8 {
		tassert.Equal(t, fmt.Sprintf("Kind(%d)", k), "Kind("+itoaTest(k)+")")
		if k >= len(kindNames) {
			tassert.Equal(t, fmt.Sprintf("Kind(%d)", k), Kind(k).String())
		}
		if k >= len(modeNames) {
			tassert.Equal(t, fmt.Sprintf("Mode(%d)", k), Mode(k).String())
		}
		if k >= len(valueTypeNames) {
			tassert.Equal(t, fmt.Sprintf("ValueType(%d)", k), ValueType(k).String())
		}
	}
	for _, f := range []float64{1, -2.5, 1e21, 1e-7, 123456789, 0.000001} {
		_, err := NumberOK(f) // finite: no error; the message format is checked below
		tassert.NoError(t, err)
	}
	_, nerr := NumberOK(posInf())
	tassert.Equal(t, fmt.Errorf("%w: number %v", ErrInvalidValue, posInf()).Error(), nerr.Error())
}

func itoaTest(k int) string { return fmt.Sprint(k) }

func posInf() float64 { var z float64; return 1 / z }
