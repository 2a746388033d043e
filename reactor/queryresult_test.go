package reactor_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/reactor"
	"github.com/triplesync/triplesync/store"
)

// Data and PageInfo, built on demand, are the result tree split as
// callbacks have always seen it: the tree without "$pageInfo", and
// "$pageInfo".
func TestQueryResultDataAndPageInfo(t *testing.T) {
	idA, titleA := store.EntityID{0xa1, 6: 0x40, 8: 0x80}, store.EntityID{0xa2, 6: 0x40, 8: 0x80}
	attrs := store.MustNewAttrs(
		store.Attr{ID: idA, Namespace: "todos", Label: "id", Type: store.TypeString, Unique: true, Indexed: true},
		store.Attr{ID: titleA, Namespace: "todos", Label: "title", Type: store.TypeString},
	)
	var ts []store.Triple
	for i := range 3 {
		e := store.EntityID{byte(i + 1), 6: 0x40, 8: 0x80}
		ts = append(ts, store.Triple{E: e, A: idA, V: store.Ref(e)}, store.Triple{E: e, A: titleA, V: store.String("t")})
	}
	snap, err := store.Load(attrs, ts)
	require.NoError(t, err)
	q, err := query.Parse([]byte(`{"todos":{"$":{"limit":2}}}`), attrs)
	require.NoError(t, err)
	res, err := query.Eval(query.SnapshotSource(snap), q)
	require.NoError(t, err)

	r := reactor.Notification{Result: res}.QueryResult()
	tree := res.Tree()
	assert.Equal(t, tree["$pageInfo"], r.PageInfo())
	delete(tree, "$pageInfo")
	assert.Equal(t, tree, r.Data())
	assert.Len(t, r.Data()["todos"], 2)

	none := reactor.QueryResult{Error: reactor.ErrClosed}
	assert.Nil(t, none.Data())
	assert.Nil(t, none.PageInfo())
}
