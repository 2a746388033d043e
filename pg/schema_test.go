package pg_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var seed = flag.Uint64("seed", 0, "seed of the random sort-key test (0: from the clock)")

const (
	attrTitle = "00000000-0000-0000-0000-0000000000a1"
	attrOwner = "00000000-0000-0000-0000-0000000000a2"
	entity1   = "00000000-0000-0000-0000-000000000001"
	entity2   = "00000000-0000-0000-0000-000000000002"
)

func TestSchema_Constraints(t *testing.T) {
	pool := mustMigrate(t)
	ctx := t.Context()
	_, err := pool.Exec(ctx, `insert into attrs (id, namespace, label, value_type, cardinality, is_unique, is_indexed) values
		($1, 'todos', 'title', 'string', 'one', true, true)`, attrTitle)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `insert into attrs (id, namespace, label, value_type, cardinality, ref_namespace, reverse_label) values
		($1, 'todos', 'owner', 'ref', 'many', 'users', 'todos')`, attrOwner)
	require.NoError(t, err)
	_, err = pool.Exec(ctx, `insert into triples (entity_id, attr_id, value, ea, av, ave) values ($1, $2, '"a"', true, true, true)`, entity1, attrTitle)
	require.NoError(t, err)

	tests := []struct {
		name string
		sql  string
		args []any
		code string // SQLSTATE
	}{
		{"value type", `insert into attrs (id, namespace, label, value_type) values (gen_random_uuid(), 'x', 'y', 'text')`, nil, "23514"},
		{"cardinality", `insert into attrs (id, namespace, label, cardinality) values (gen_random_uuid(), 'x', 'y', 'some')`, nil, "23514"},
		{"namespace label", `insert into attrs (id, namespace, label) values (gen_random_uuid(), 'todos', 'title')`, nil, "23505"},
		{"reverse label", `insert into attrs (id, namespace, label, value_type, ref_namespace, reverse_label)
			values (gen_random_uuid(), 'notes', 'owner', 'ref', 'users', 'todos')`, nil, "23505"},
		{"link settings on a non-link", `insert into attrs (id, namespace, label, ref_namespace) values (gen_random_uuid(), 'x', 'y', 'users')`, nil, "23514"},
		{"same triple", `insert into triples (entity_id, attr_id, value) values ($1, $2, '"a"')`, []any{entity1, attrTitle}, "23505"},
		{"ea: second value", `insert into triples (entity_id, attr_id, value, ea) values ($1, $2, '"b"', true)`, []any{entity1, attrTitle}, "23505"},
		{"av: value taken", `insert into triples (entity_id, attr_id, value, av) values ($1, $2, '"a"', true)`, []any{entity2, attrTitle}, "23505"},
		{"unknown attr", `insert into triples (entity_id, attr_id, value) values ($1, gen_random_uuid(), '1')`, []any{entity1}, "23503"},
		{"link to a number", `insert into triples (entity_id, attr_id, value, vae) values ($1, $2, '1', true)`, []any{entity1, attrOwner}, "23514"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := pool.Exec(ctx, tt.sql, tt.args...)
			var pgErr *pgconn.PgError
			require.ErrorAs(t, err, &pgErr)
			assert.Equal(t, tt.code, pgErr.Code, "%s", pgErr.Message)
		})
	}

	// The same value for a different entity is fine without av, and
	// value_md5 and created_at fill themselves in.
	before := time.Now().UnixMilli()
	_, err = pool.Exec(ctx, `insert into triples (entity_id, attr_id, value, eav, vae) values ($1, $2, to_jsonb($3::text), true, true)`,
		entity2, attrOwner, entity1)
	require.NoError(t, err)
	var md5OK bool
	var createdAt int64
	require.NoError(t, pool.QueryRow(ctx, `select value_md5 = md5(value::text), created_at from triples where entity_id = $1`, entity2).
		Scan(&md5OK, &createdAt))
	assert.True(t, md5OK, "value_md5 = md5(value::text)")
	assert.GreaterOrEqual(t, createdAt, before-1000, "created_at is ms since the epoch")

	// Deleting an attribute deletes its triples.
	_, err = pool.Exec(ctx, `delete from attrs where id = $1`, attrTitle)
	require.NoError(t, err)
	var n int
	require.NoError(t, pool.QueryRow(ctx, `select count(*) from triples where attr_id = $1`, attrTitle).Scan(&n))
	assert.Zero(t, n, "triples of a deleted attr")
}

// TestSortKey_Order is an oracle test: triples_sort_key must order values
// exactly like the store (kind, then false < true, float64 order, bytewise
// strings). The seed is printed and settable with -seed.
func TestSortKey_Order(t *testing.T) {
	pool := mustMigrate(t)
	s := *seed
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -seed=%d)", s, s)
	rng := rand.New(rand.NewPCG(s, s))

	values := []string{
		`null`, `false`, `true`, `0`, `-0`, `1`, `-1`, `1.5`, `-1.5`, `0.1`, `1e-300`, `-1e-300`,
		`5e-324`, `-5e-324`, `2.2250738585072014e-308`, `1.7976931348623157e308`, `-1.7976931348623157e308`,
		`9007199254740993`, `9007199254740992`,
		`""`, `"a"`, `"A"`, `"ab"`, `"a\\b"`, `"a\\\\b"`, `"\\\\x41"`, `"é"`, `"z"`, `"😀"`, `"\u007f"`, `"\uffff"`,
	}
	for range 300 {
		values = append(values, randomNumber(rng), randomString(rng))
	}

	rows, err := pool.Query(t.Context(), `select v::text, triples_sort_key(v) from unnest($1::jsonb[]) as v`, values)
	require.NoError(t, err)
	type keyed struct {
		json string
		key  []byte
	}
	got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (keyed, error) {
		var k keyed
		return k, r.Scan(&k.json, &k.key)
	})
	require.NoError(t, err)
	require.Len(t, got, len(values))

	slices.SortStableFunc(got, func(a, b keyed) int { return compareJSON(t, a.json, b.json) })
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		want := compareJSON(t, a.json, b.json) // <= 0 after sorting
		assert.Equal(t, want, bytes.Compare(a.key, b.key),
			"keys of %s and %s: %x, %x", a.json, b.json, a.key, b.key)
	}
}

// TestSortKey_Kinds checks the kind order including objects and arrays,
// which the oracle leaves out (their order is only approximately the
// store's), and that long strings are cut, not refused.
func TestSortKey_Kinds(t *testing.T) {
	pool := mustMigrate(t)
	// Numbers beyond float64 (the store refuses them, Postgres does not)
	// saturate rather than fail.
	ordered := []string{`null`, `false`, `true`, `-1e400`, `-1e308`, `0`, `1e308`, `1e400`,
		`""`, `"zzz"`, `"😀"`, `[]`, `{"a": 1}`}
	var keys [][]byte
	for _, v := range ordered {
		var k []byte
		require.NoError(t, pool.QueryRow(t.Context(), `select triples_sort_key($1::jsonb)`, v).Scan(&k))
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		assert.Equal(t, -1, bytes.Compare(keys[i-1], keys[i]), "key(%s) < key(%s)", ordered[i-1], ordered[i])
	}

	var tiny, zero []byte
	require.NoError(t, pool.QueryRow(t.Context(), `select triples_sort_key('1e-400'), triples_sort_key('0')`).Scan(&tiny, &zero))
	assert.Equal(t, zero, tiny, "below the smallest subnormal is 0")

	long := strings.Repeat("x", 100_000)
	var k1, k2 []byte
	require.NoError(t, pool.QueryRow(t.Context(), `select triples_sort_key(to_jsonb($1::text)), triples_sort_key(to_jsonb($1::text || 'y'))`, long).Scan(&k1, &k2))
	assert.Len(t, k1, 1+1024)
	assert.Equal(t, k1, k2, "strings sharing 1024 bytes share a key")

	_, err := pool.Exec(t.Context(), `insert into attrs (id, namespace, label, is_indexed) values ($1, 'docs', 'body', true)`, attrTitle)
	require.NoError(t, err)
	_, err = pool.Exec(t.Context(), `insert into triples (entity_id, attr_id, value, ave) values ($1, $2, to_jsonb($3::text), true)`,
		entity1, attrTitle, long)
	require.NoError(t, err, "a 100 kB indexed string")
}

// TestIndexes_Used checks that the query shapes documented in the package
// comment can use their indexes. Sequential scans are priced out and the
// general indexes (primary key, triples_attr_idx) dropped inside a rolled
// back transaction, so a plan names the index only if it matches.
func TestIndexes_Used(t *testing.T) {
	pool := mustMigrate(t)
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(context.Background())
	_, err = tx.Exec(ctx, "set local enable_seqscan = off")
	require.NoError(t, err)

	explain := func(query string) string {
		plan := queryStrings(t, tx, "explain "+query, attrTitle)
		return strings.Join(plan, "\n")
	}
	assert.Contains(t, explain(`select entity_id from triples where attr_id = $1`), "triples_attr_idx", "attr scan")

	_, err = tx.Exec(ctx, "drop index triples_attr_idx; alter table triples drop constraint triples_pkey")
	require.NoError(t, err)
	tests := []struct {
		name, query, index string
	}{
		{"ave range", `select entity_id from triples where attr_id = $1 and ave
			and triples_sort_key(value) > triples_sort_key('5') and triples_sort_key(value) < decode('03', 'hex')`, "triples_ave_idx"},
		{"ave equal", `select entity_id from triples where attr_id = $1 and ave
			and triples_sort_key(value) = triples_sort_key('"x"') and value = '"x"'`, "triples_ave_idx"},
		{"ave order", `select entity_id from triples where attr_id = $1 and ave
			order by triples_sort_key(value), entity_id limit 10`, "triples_ave_idx"},
		{"vae reverse", `select entity_id from triples where vae and attr_id = $1
			and (value #>> '{}') = any(array['00000000-0000-0000-0000-000000000001'])`, "triples_vae_idx"},
		{"vae any attr", `select entity_id from triples where vae and $1::uuid is not null
			and (value #>> '{}') = any(array['00000000-0000-0000-0000-000000000001'])`, "triples_vae_idx"},
		{"eav", `select value from triples where eav and entity_id = $1 and attr_id = $1`, "triples_eav_idx"},
		{"ea", `select value from triples where ea and entity_id = $1 and attr_id = $1`, "triples_ea_idx"},
		{"av", `select entity_id from triples where av and attr_id = $1 and value_md5 = md5('"x"')`, "triples_av_idx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Contains(t, explain(tt.query), tt.index)
		})
	}
}

// compareJSON is the store's value order on JSON texts of null, booleans,
// numbers and strings.
func compareJSON(tb testing.TB, a, b string) int {
	var x, y any
	require.NoError(tb, json.Unmarshal([]byte(a), &x))
	require.NoError(tb, json.Unmarshal([]byte(b), &y))
	if c := kind(x) - kind(y); c != 0 {
		return sign(c)
	}
	switch x := x.(type) {
	case bool:
		if x == y.(bool) {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case float64:
		y := y.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case string:
		return strings.Compare(x, y.(string))
	}
	return 0
}

func kind(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case float64:
		return 2
	case string:
		return 3
	}
	return 4
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func randomNumber(rng *rand.Rand) string {
	var f float64
	switch rng.IntN(4) {
	case 0:
		f = float64(rng.IntN(200) - 100)
	case 1:
		f = rng.NormFloat64() * 1000
	default: // any finite float64, subnormals included
		for f = math.NaN(); math.IsNaN(f) || math.IsInf(f, 0); {
			f = math.Float64frombits(rng.Uint64())
		}
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

func randomString(rng *rand.Rand) string {
	alphabet := []rune{'a', 'b', 'B', '\\', '"', ' ', '~', 0x7f, 'é', 'ß', '中', '😀', 0xffff, 0x10ffff}
	r := make([]rune, rng.IntN(6))
	for i := range r {
		r[i] = alphabet[rng.IntN(len(alphabet))]
	}
	b, _ := json.Marshal(string(r))
	return string(b)
}
