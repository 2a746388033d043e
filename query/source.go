package query

import (
	"encoding/binary"
	"strconv"

	"github.com/triplesync/triplesync/store"
)

// Source is where the evaluator reads triples: the in-memory store through
// [SnapshotSource] on clients, Postgres (package pg) on the server. The same
// evaluator runs over both, so they answer the same query the same way as
// long as each Source keeps this contract; querytest.TestSource checks it.
//
// The evaluator works in stages. Each stage hands Scan every request it can
// make without the answers of the others, so a remote source can answer a
// whole stage in one round trip (several statements in one batch). A query
// needs a handful of stages: a few per level of nesting, plus one per extra
// chunk when an ordered scan with a limit runs short of matches. Scan takes
// no context: a source that does IO binds one per evaluation (construct it
// with the context, evaluate, drop it). The evaluator calls Scan from one
// goroutine, one call at a time, and every stage depends on the answers of
// the one before: a source must answer all the stages of one evaluation
// from one consistent state of the data (on Postgres, one REPEATABLE READ
// or serializable read-only transaction), or pages can come out wrong.
//
// The scans the evaluator sends, and what serves them:
//
//	EAV, E (+A)             an entity's attributes: ids, where values, fields,
//	                        forward links (E: up to a level's candidates, so
//	                        thousands; pass arrays)
//	AEV, A (+V/Range/Like)  a whole attribute: listing a namespace by its id
//	                        attribute, reading an attribute for a whole
//	                        namespace, where probes (with Limit) on attributes
//	                        without an index; Desc when ordering by id
//	AVE, A, Range/V/Like,   ordered pages and probes over unique or indexed
//	  Desc, After, Limit    attributes: one index range scan
//	VAE, A, V (+Limit)      reverse links: the entities whose ref A points
//	                        at one of V
type Source interface {
	// Scan answers scans: out[i] holds the triples scans[i] selects, in the
	// order scans[i] asks for (see [Scan]); len(out) == len(scans). A nil
	// out[i] is an empty answer. The caller owns the returned slices and may
	// modify them; the source must not keep or modify scans' slices.
	//
	// Scan fails as a whole: on any error the evaluation stops and returns
	// it wrapped. A scan that breaks the contract (see [Scan]) is an error
	// wrapping [ErrBadScan]; IO errors are returned as they are.
	Scan(scans []Scan) ([][]store.Triple, error)
}

// Index names the order of a [Scan]'s answer, after the four indexes of
// the store.
type Index uint8

const (
	// EAV orders by entity, attribute, value. E is required.
	EAV Index = iota + 1
	// AEV orders by attribute, entity, value. A is required.
	AEV
	// AVE orders by attribute, value, entity. A is required. The evaluator
	// sets Limit or After on AVE scans only for attributes with
	// [store.FlagAVE] (unique or indexed), which a source can serve from an
	// index; on other attributes it reads whole answers.
	AVE
	// VAE orders by value (the target of a link), attribute, entity. V and
	// A are required, and A must be a ref attribute.
	VAE
)

var indexNames = [...]string{"", "eav", "aev", "ave", "vae"}

// String returns the index's name, e.g. "ave".
func (ix Index) String() string {
	if int(ix) < len(indexNames) && ix != 0 {
		return indexNames[ix]
	}
	return "Index(" + strconv.Itoa(int(ix)) + ")"
}

// Scan is one request to a [Source]: the triples that pass every filter, in
// Index order, reversed when Desc, from just after After, at most Limit.
//
// A triple t passes when all of these hold:
//
//	A is zero (allowed for EAV only) or t.A == A
//	E is nil, or t.E is in E         (a non-nil empty E selects nothing)
//	V is nil, or t.V is in V         (a non-nil empty V selects nothing)
//	Range.Contains(t.V)              (the zero range holds every value)
//	Like is nil, or Like.MatchValue(t.V) (only strings can match)
//
// Values compare with [store.Compare] (null < booleans < numbers < strings
// < objects and arrays; strings bytewise, like COLLATE "C") and ids
// bytewise (the order of Postgres's uuid). The order of the answer is the
// index's key order — EAV (e, a, v), AEV (a, e, v), AVE (a, v, e), VAE (v,
// a, e) — ascending, or descending in every part when Desc.
//
// After, when set, keeps only triples strictly after *After in that order
// (strictly before it in key order when Desc); After need not be a stored
// triple. Limit, when above zero, keeps the first Limit triples of the
// ordered, filtered answer; zero means no limit.
//
// E and V, when set, are sorted ascending without duplicates; a source may
// rely on it. VAE reads ref attributes only: a VAE scan of any other
// attribute is an error; values in V that are not canonical ref strings
// select nothing. CreatedAt must be the stored one. A scan without the
// fields its index requires (or with an unknown Index, or a negative
// Limit) is an error wrapping [ErrBadScan]; [Scan.Validate] checks all
// but the ref attribute, which needs the registry.
type Scan struct {
	Index Index
	A     store.AttrID
	E     []store.EntityID
	V     []store.Value
	Range store.ValueRange
	Like  *Like
	Desc  bool
	After *store.TripleKey
	Limit int
}

// Selects reports whether t passes s's filters (not After or Limit): the
// reference semantics a source implements.
func (s *Scan) Selects(t store.Triple) bool { return s.selects(&t) }

func (s *Scan) selects(t *store.Triple) bool {
	if !s.A.IsZero() && t.A != s.A {
		return false
	}
	if s.E != nil && !hasID(s.E, t.E) {
		return false
	}
	if s.V != nil && !containsValue(s.V, t.V) {
		return false
	}
	if !s.Range.Contains(t.V) {
		return false
	}
	return s.Like == nil || s.Like.MatchValue(t.V)
}

// Compare orders two triples by s's index key, in s's direction: negative
// when a comes first in the answer.
func (s *Scan) Compare(a, b store.Triple) int { return s.compare(&a, &b) }

func (s *Scan) compare(a, b *store.Triple) int {
	c := compareIndex(s.Index, a, b)
	if s.Desc {
		return -c
	}
	return c
}

// cmpID is [store.EntityID.Compare] on two 64-bit words: the comparators
// here run millions of times on large results.
func cmpID(a, b *store.EntityID) int {
	x, y := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if x == y {
		x, y = binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	}
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// CompareIndex orders two triples by the key of index ix, ascending.
func CompareIndex(ix Index, a, b store.Triple) int {
	return compareIndex(ix, &a, &b)
}

func compareIndex(ix Index, a, b *store.Triple) int {
	switch ix {
	case EAV:
		if c := cmpID(&a.E, &b.E); c != 0 {
			return c
		}
		if c := cmpID(&a.A, &b.A); c != 0 {
			return c
		}
		return store.Compare(a.V, b.V)
	case AEV:
		if c := cmpID(&a.A, &b.A); c != 0 {
			return c
		}
		if c := cmpID(&a.E, &b.E); c != 0 {
			return c
		}
		return store.Compare(a.V, b.V)
	case AVE:
		if c := cmpID(&a.A, &b.A); c != 0 {
			return c
		}
		if c := store.Compare(a.V, b.V); c != 0 {
			return c
		}
		return cmpID(&a.E, &b.E)
	default:
		if c := store.Compare(a.V, b.V); c != 0 {
			return c
		}
		if c := cmpID(&a.A, &b.A); c != 0 {
			return c
		}
		return cmpID(&a.E, &b.E)
	}
}

// Validate checks the fields s's index requires, returning an error that
// wraps [ErrBadScan].
func (s *Scan) Validate() error {
	switch s.Index {
	case EAV:
		if s.E == nil {
			return badScan(s, "eav needs entities")
		}
	case AEV, AVE:
		if s.A.IsZero() {
			return badScan(s, "needs an attribute")
		}
	case VAE:
		if s.A.IsZero() || s.V == nil {
			return badScan(s, "vae needs an attribute and values")
		}
	default:
		return badScan(s, "unknown index")
	}
	if s.Limit < 0 {
		return badScan(s, "negative limit")
	}
	return nil
}

func badScan(s *Scan, why string) error {
	return &scanError{index: s.Index, why: why}
}

type scanError struct {
	index Index
	why   string
}

// Error names the scan's index and what is wrong with it.
func (e *scanError) Error() string {
	return ErrBadScan.Error() + ": " + e.index.String() + ": " + e.why
}

// Unwrap returns ErrBadScan.
func (e *scanError) Unwrap() error { return ErrBadScan }

// hasID reports whether the sorted ids hold id.
func hasID(ids []store.EntityID, id store.EntityID) bool {
	_, ok := store.SearchIDs(ids, id)
	return ok
}

func containsValue(vals []store.Value, v store.Value) bool {
	lo, hi := 0, len(vals)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := store.Compare(vals[m], v); {
		case c == 0:
			return true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}
