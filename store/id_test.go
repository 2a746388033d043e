package store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

func TestParseEntityID(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // canonical form; empty for an error
	}{
		{"lower", "0123abcd-4567-89ef-0123-456789abcdef", "0123abcd-4567-89ef-0123-456789abcdef"},
		{"upper", "0123ABCD-4567-89EF-0123-456789ABCDEF", "0123abcd-4567-89ef-0123-456789abcdef"},
		{"nil uuid", "00000000-0000-0000-0000-000000000000", "00000000-0000-0000-0000-000000000000"},
		{"empty", "", ""},
		{"short", "0123abcd-4567-89ef-0123-456789abcde", ""},
		{"long", "0123abcd-4567-89ef-0123-456789abcdef0", ""},
		{"no dashes", "0123abcd456789ef0123456789abcdef0000", ""},
		{"dash moved", "0123abc-d4567-89ef-0123-456789abcdef", ""},
		{"non-hex", "0123abcg-4567-89ef-0123-456789abcdef", ""},
		{"braces", "{123abcd-4567-89ef-0123-456789abcde}", ""},
		{"non-ascii", "0123abcé-4567-89ef-0123-456789abcd", ""},
		{"extra dash", "00000000-0000-0000-0000-00-000000000", ""}, // found by FuzzApply: parsed past the end
		{"dash for a digit", "00000000-0000-0000-0000-0000000000-0", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := store.ParseEntityID(tt.in)
			if tt.want == "" {
				assert.ErrorIs(t, err, store.ErrInvalidID, "ParseEntityID(%q)", tt.in)
				return
			}
			require.NoError(t, err, "ParseEntityID(%q)", tt.in)
			assert.Equal(t, tt.want, id.String())
		})
	}
	assert.Panics(t, func() { store.MustParseEntityID("x") })
}

func TestEntityIDBasics(t *testing.T) {
	a := store.MustParseEntityID("11111111-1111-4111-8111-111111111111")
	b := store.MustParseEntityID("11111111-1111-4111-8111-111111111112")
	assert.Equal(t, -1, a.Compare(b))
	assert.Equal(t, 1, b.Compare(a))
	assert.Equal(t, 0, a.Compare(a))
	assert.True(t, store.EntityID{}.IsZero())
	assert.False(t, a.IsZero())

	text, err := json.Marshal(a)
	require.NoError(t, err)
	assert.Equal(t, `"11111111-1111-4111-8111-111111111111"`, string(text))
	var back store.EntityID
	require.NoError(t, json.Unmarshal(text, &back))
	assert.Equal(t, a, back)
	assert.ErrorIs(t, json.Unmarshal([]byte(`"nope"`), &back), store.ErrInvalidID)

	id, err := store.NewEntityID(bytes.NewReader(bytes.Repeat([]byte{0xff}, 16)))
	require.NoError(t, err)
	assert.Equal(t, "ffffffff-ffff-4fff-bfff-ffffffffffff", id.String(), "version 4, RFC 4122 variant")
	c := store.MustParseEntityID("0123abcd-4567-489a-bcde-f0123456789a")
	assert.Equal(t, "x:0123abcd-4567-489a-bcde-f0123456789a", string(c.Append([]byte("x:"))))
	assert.Equal(t, c.String(), string(c.Append(nil)))
	_, err = store.NewEntityID(bytes.NewReader([]byte{1, 2}))
	assert.Error(t, err, "a short reader")
}

func TestLookupEntityID(t *testing.T) {
	a := store.MustParseEntityID("a0000000-0000-4000-8000-000000000002")
	id1 := store.LookupEntityID(a, store.String("ann@example.com"))
	assert.Equal(t, id1, store.LookupEntityID(a, store.String("ann@example.com")), "deterministic")
	assert.NotEqual(t, id1, store.LookupEntityID(a, store.String("bob@example.com")))
	assert.NotEqual(t, id1, store.LookupEntityID(store.MustParseEntityID("a0000000-0000-4000-8000-000000000003"), store.String("ann@example.com")))
	assert.Equal(t, byte(0x80), id1[6]&0xf0, "version 8 layout")
	assert.Equal(t, byte(0x80), id1[8]&0xc0, "RFC 4122 variant")

	// The derivation LookupEntityID documents, computed with crypto/sha256.
	ns := store.MustParseEntityID("1c823f7b-73a9-49b1-9ede-e0a0b069c98e")
	big := strings.Repeat("x", 300) // longer than LookupEntityID's stack buffer
	for _, v := range []store.Value{store.String("ann@example.com"), store.Number(-1.5e-7), store.Null(),
		store.Bool(false), store.String(big), mustParse(t, `{"b":[1,"\u2028"],"a":{}}`)} {
		sum := sha256.Sum256(append(append(ns[:], a[:]...), v.AppendJSON(nil)...))
		var want store.EntityID
		copy(want[:], sum[:])
		want[6] = want[6]&0x0f | 0x80
		want[8] = want[8]&0x3f | 0x80
		assert.Equal(t, want, store.LookupEntityID(a, v), "%s", v)
	}
}

// TestLookupEntityIDPinned pins ids LookupEntityID gives (SHA-256, version
// 8 layout, since it stopped using SHA-1): a client and a server of
// different builds must derive the same id for the same lookup.
func TestLookupEntityIDPinned(t *testing.T) {
	a := store.MustParseEntityID("a0000000-0000-4000-8000-000000000002")
	for _, c := range []struct {
		v  store.Value
		id string
	}{
		{store.String("ann@example.com"), "c720edd4-6418-8a1a-8765-1ca65e505783"},
		{store.Number(7), "c97e42ea-a706-8214-b4a6-bb843d5f8b63"},
		{store.Null(), "49566599-cf93-8a94-a4f5-3a2045a4c5d2"},
		{store.Bool(true), "244b6a61-37d5-8f34-b1e8-4bfcfbaffed8"},
	} {
		assert.Equal(t, c.id, store.LookupEntityID(a, c.v).String(), "%s", c.v)
	}
	v := store.String("ann@example.com")
	assert.Zero(t, testing.AllocsPerRun(10, func() { store.LookupEntityID(a, v) }), "allocations")
}

func mustParse(t *testing.T, s string) store.Value {
	t.Helper()
	v, err := store.ParseValue([]byte(s))
	require.NoError(t, err)
	return v
}

// FuzzParseEntityID: no panic; a parsed id prints as the lower-cased input
// and parses back to itself.
func FuzzParseEntityID(f *testing.F) {
	for _, s := range []string{"0123abcd-4567-89ef-0123-456789abcdef", "0123ABCD-4567-89EF-0123-456789ABCDEF",
		"00000000-0000-0000-0000-00-000000000", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := store.ParseEntityID(s)
		if err != nil {
			require.ErrorIs(t, err, store.ErrInvalidID)
			return
		}
		require.Equal(t, strings.ToLower(s), id.String())
		back, err := store.ParseEntityID(id.String())
		require.NoError(t, err)
		require.Equal(t, id, back)
	})
}

// TestAttrIDForPinned pins ids AttrIDFor gave before it moved from
// crypto/sha256 to internal/sha2: attributes defined by name are stored on
// servers and clients, so these ids must never change.
func TestAttrIDForPinned(t *testing.T) {
	for _, c := range []struct{ ns, label, id string }{
		{"users", "email", "b9f73a79-4fbc-80c3-98a7-b3159652d9e2"},
		{"todos", "title", "e3aa0a31-da92-85aa-8282-ff126b396fbc"},
		{"", "", "ce008e2b-9644-8d34-a440-c6d8d0b33ed1"},
		{"a", "bc", "49163213-fdc5-8877-8eaf-d91da0b3a782"},
		{"ab", "c", "c7d1f5e4-bcf1-8e6c-b1a8-4d284c278331"},
		{"pets", "id", "bf0ed54f-de56-8b56-ab62-b7343410c7ef"},
	} {
		assert.Equal(t, c.id, store.AttrIDFor(c.ns, c.label).String(), "%s.%s", c.ns, c.label)
	}
}

// TestSearchIDs holds Compare to bytes.Compare and SearchIDs to
// slices.BinarySearchFunc over random sorted ids with repeats.
func TestSearchIDs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	newID := func() store.EntityID {
		var id store.EntityID
		id[r.IntN(2)*8] = byte(r.IntN(4)) // few distinct words: ties in the first
		id[15] = byte(r.IntN(4))
		return id
	}
	for range 200 {
		ids := make([]store.EntityID, r.IntN(12))
		for i := range ids {
			ids[i] = newID()
		}
		slices.SortFunc(ids, store.EntityID.Compare)
		for range 10 {
			x, y := newID(), newID()
			require.Equal(t, bytes.Compare(x[:], y[:]), x.Compare(y), "%v %v", x, y)
			wantI, wantOK := slices.BinarySearchFunc(ids, x, store.EntityID.Compare)
			i, ok := store.SearchIDs(ids, x)
			require.Equal(t, wantI, i, "%v in %v", x, ids)
			require.Equal(t, wantOK, ok, "%v in %v", x, ids)
		}
	}
}
