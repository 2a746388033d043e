package store

import "testing"

// TestIsRef checks isRef against comparing with Ref.
func TestIsRef(t *testing.T) {
	e := EntityID{0xab, 1, 2, 3, 4, 5, 0x46, 7, 0x88, 9, 10, 11, 12, 13, 14, 0xff}
	other := EntityID{1}
	for _, v := range []Value{Ref(e), Ref(other), String(e.String()[:35]), String("AB" + e.String()[2:]), Null(), Number(1),
		{kind: KindString, num: 1, str: e.String()}, {kind: KindJSON, str: e.String()}} {
		if got, want := e.isRef(v), v == Ref(e); got != want {
			t.Errorf("isRef(%v) = %v, want %v", v, got, want)
		}
	}
}
