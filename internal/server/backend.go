package server

import (
	"context"

	"github.com/triplesync/triplesync/pg"
	"github.com/triplesync/triplesync/query"
	"github.com/triplesync/triplesync/session"
	"github.com/triplesync/triplesync/store"
)

// backend adapts pg.DB to session.Backend: the session package does not
// import pg (edges do not import each other, STYLE.md L1), so its request
// and check types mirror pg's field for field and convert here. It reads
// the DB from the server, which makes it in Open.
type backend struct{ srv *Server }

var _ session.Backend = backend{}

func (b backend) Read(ctx context.Context, fn func(src query.Source) error) error {
	return b.srv.db.Read(ctx, fn)
}

func (b backend) LoadAttrs(ctx context.Context) (*store.Attrs, error) {
	return b.srv.db.LoadAttrs(ctx)
}

func (b backend) Transact(ctx context.Context, req session.TransactRequest) (session.TransactResult, error) {
	r := pg.TransactRequest{MutationID: req.MutationID, Steps: req.Steps, Now: req.Now}
	if check := req.Check; check != nil {
		r.Check = func(c pg.WriteCheck) error { return check(session.WriteCheck(c)) }
	}
	res, err := b.srv.db.Transact(ctx, r)
	return session.TransactResult(res), err
}
