package pg

import (
	"github.com/jackc/pgx/v5"

	"github.com/triplesync/triplesync/store"
)

// tripleRows holds triples column by column, as the unnest statements
// below take them: one statement writes any number of rows.
type tripleRows struct {
	e, a                  [][16]byte
	v                     []string // canonical JSON text
	createdAt             []int64
	ea, eav, av, ave, vae []bool
}

func (r *tripleRows) add(t store.Triple, f store.IndexFlags) {
	r.e = append(r.e, t.E)
	r.a = append(r.a, t.A)
	r.v = append(r.v, t.V.String())
	r.createdAt = append(r.createdAt, t.CreatedAt)
	r.ea = append(r.ea, f&store.FlagEA != 0)
	r.eav = append(r.eav, f&store.FlagEAV != 0)
	r.av = append(r.av, f&store.FlagAV != 0)
	r.ave = append(r.ave, f&store.FlagAVE != 0)
	r.vae = append(r.vae, f&store.FlagVAE != 0)
}

func (r *tripleRows) len() int { return len(r.e) }

// insertTriples inserts rows with their flags.
const insertTriples = `insert into triples (entity_id, attr_id, value, created_at, ea, eav, av, ave, vae)
	select e, a, v::jsonb, c, ea, eav, av, ave, vae
	from unnest($1::uuid[], $2::uuid[], $3::text[], $4::int8[], $5::bool[], $6::bool[], $7::bool[], $8::bool[], $9::bool[])
		as r(e, a, v, c, ea, eav, av, ave, vae)`

// updateTriples sets created_at and the flags of rows by primary key.
const updateTriples = `update triples t set created_at = r.c, ea = r.ea, eav = r.eav, av = r.av, ave = r.ave, vae = r.vae
	from unnest($1::uuid[], $2::uuid[], $3::text[], $4::int8[], $5::bool[], $6::bool[], $7::bool[], $8::bool[], $9::bool[])
		as r(e, a, v, c, ea, eav, av, ave, vae)
	where t.entity_id = r.e and t.attr_id = r.a and t.value_md5 = md5(r.v::jsonb::text)`

// deleteTriples deletes rows by primary key; value_md5 is the md5 of
// jsonb's text form, which the canonical text parses into.
const deleteTriples = `delete from triples t
	using unnest($1::uuid[], $2::uuid[], $3::text[]) as r(e, a, v)
	where t.entity_id = r.e and t.attr_id = r.a and t.value_md5 = md5(r.v::jsonb::text)`

func (r *tripleRows) queueInsert(b *pgx.Batch) {
	if r.len() > 0 {
		b.Queue(insertTriples, r.e, r.a, r.v, r.createdAt, r.ea, r.eav, r.av, r.ave, r.vae)
	}
}

func (r *tripleRows) queueUpdate(b *pgx.Batch) {
	if r.len() > 0 {
		b.Queue(updateTriples, r.e, r.a, r.v, r.createdAt, r.ea, r.eav, r.av, r.ave, r.vae)
	}
}

func (r *tripleRows) queueDelete(b *pgx.Batch) {
	if r.len() > 0 {
		b.Queue(deleteTriples, r.e, r.a, r.v)
	}
}
