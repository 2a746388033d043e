package pg

// SchemaVersion is the schema version this binary migrates to: the version
// of the last entry of migrations.
const SchemaVersion = 4

// migration is one step of the schema. Steps are never edited once released;
// a change is a new step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations are applied in order, each in its own transaction. See the
// package comment for the design of the triples indexes.
var migrations = []migration{
	{1, "attrs", `
CREATE TABLE attrs (
	id                uuid PRIMARY KEY,
	namespace         text NOT NULL,
	label             text NOT NULL,
	value_type        text NOT NULL DEFAULT 'any'
		CHECK (value_type IN ('any', 'string', 'number', 'boolean', 'date', 'json', 'ref')),
	cardinality       text NOT NULL DEFAULT 'one' CHECK (cardinality IN ('one', 'many')),
	is_unique         boolean NOT NULL DEFAULT false,
	is_indexed        boolean NOT NULL DEFAULT false,
	ref_namespace     text,
	reverse_label     text,
	on_delete_cascade boolean NOT NULL DEFAULT false,
	created_at        timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT attrs_namespace_label_key UNIQUE (namespace, label),
	-- Link settings belong to links only (as store.Attr.Validate says).
	CONSTRAINT attrs_link_check CHECK (value_type = 'ref'
		OR (ref_namespace IS NULL AND reverse_label IS NULL AND NOT on_delete_cascade))
);

-- A reverse label names the link from the target's side: unique there.
CREATE UNIQUE INDEX attrs_reverse_key ON attrs (ref_namespace, reverse_label)
	WHERE reverse_label IS NOT NULL;

-- Updates and deletes carry the whole old attribute through the WAL.
ALTER TABLE attrs REPLICA IDENTITY FULL;
`},

	{2, "triples", `
-- triples_sort_key orders JSON values like store.Compare: a kind byte, then
-- the value's bytes (see the pg package comment). One self-contained
-- function using only built-ins, so rebuilding the index never depends on
-- search_path (pg_restore runs with an empty one), and plpgsql so the number
-- is converted once.
CREATE FUNCTION triples_sort_key(v jsonb) RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
	n    numeric;
	f    float8;
	bits bigint;
BEGIN
	CASE jsonb_typeof(v)
	WHEN 'null' THEN
		RETURN decode('00', 'hex');
	WHEN 'boolean' THEN
		RETURN decode(CASE WHEN v = 'true'::jsonb THEN '0101' ELSE '0100' END, 'hex');
	WHEN 'number' THEN
		-- The float64 the store holds. Where numeric -> float8 would raise an
		-- error, saturate: at or beyond the point where rounding leaves the
		-- float64 range to +-Infinity, at or below half the smallest
		-- subnormal to 0. Never -0 (numeric has none).
		n := v::numeric;
		IF n >= 1.7976931348623158079372897140530341507993e308 THEN
			f := 'Infinity';
		ELSIF n <= -1.7976931348623158079372897140530341507993e308 THEN
			f := '-Infinity';
		ELSIF abs(n) <= 2.4703282292062327208828439643411068618252990130716238221279e-324 THEN
			f := 0;
		ELSE
			f := n::float8;
		END IF;
		-- IEEE bits whose unsigned order is numeric order: flip every bit of
		-- a negative, only the sign bit of a positive (>> is arithmetic).
		bits := ('x' || encode(float8send(f), 'hex'))::bit(64)::bigint;
		RETURN decode('02', 'hex') || int8send(bits # ((bits >> 63) | (-9223372036854775807 - 1)));
	WHEN 'string' THEN
		-- UTF-8 bytes through bytea's escape input, backslashes doubled
		-- (convert_to is only STABLE), cut to fit a btree entry.
		RETURN decode('03', 'hex') || substr(replace(v #>> '{}', E'\\', E'\\\\')::bytea, 1, 1024);
	ELSE
		RETURN decode('04', 'hex') || substr(replace(v::text, E'\\', E'\\\\')::bytea, 1, 1024);
	END CASE;
END
$$;

CREATE TABLE triples (
	entity_id  uuid NOT NULL,
	attr_id    uuid NOT NULL REFERENCES attrs (id) ON DELETE CASCADE,
	value      jsonb NOT NULL,
	-- Identity of the value in keys: jsonb itself can outgrow a btree entry.
	value_md5  text NOT NULL GENERATED ALWAYS AS (md5(value::text)) STORED,
	ea         boolean NOT NULL DEFAULT false,
	eav        boolean NOT NULL DEFAULT false,
	av         boolean NOT NULL DEFAULT false,
	ave        boolean NOT NULL DEFAULT false,
	vae        boolean NOT NULL DEFAULT false,
	created_at bigint NOT NULL DEFAULT (extract(epoch FROM now()) * 1000)::bigint,
	PRIMARY KEY (entity_id, attr_id, value_md5),
	-- Links hold the target's uuid as a JSON string; vae and eav rely on it.
	CONSTRAINT triples_link_check CHECK (NOT (eav OR vae) OR jsonb_typeof(value) = 'string')
);

CREATE UNIQUE INDEX triples_ea_idx ON triples (entity_id, attr_id) WHERE ea;
CREATE UNIQUE INDEX triples_av_idx ON triples (attr_id, value_md5) WHERE av;
CREATE INDEX triples_ave_idx ON triples (attr_id, triples_sort_key(value), entity_id) WHERE ave;
CREATE INDEX triples_vae_idx ON triples ((value #>> '{}'), attr_id, entity_id) WHERE vae;
CREATE INDEX triples_eav_idx ON triples (entity_id, attr_id, value) WHERE eav;
CREATE INDEX triples_attr_idx ON triples (attr_id, entity_id);

-- Updates and deletes carry the whole old row through the WAL: the
-- invalidator needs the old value and flags.
ALTER TABLE triples REPLICA IDENTITY FULL;
`},

	{3, "transactions", `
CREATE TABLE transactions (
	id          bigserial PRIMARY KEY,
	mutation_id text UNIQUE,
	created_at  timestamptz NOT NULL DEFAULT now()
);
`},

	{4, "publication", `
-- CREATE PUBLICATION has no IF NOT EXISTS; an operator may have made it.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = 'triplesync') THEN
		CREATE PUBLICATION triplesync FOR TABLE triples, attrs, transactions;
	END IF;
END
$$;
`},
}

// Publication is the name of the publication the wal package subscribes to.
const Publication = "triplesync"
