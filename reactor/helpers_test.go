package reactor_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/triplesync/triplesync/store"
)

var seedFlag = flag.Uint64("seed", 0, "seed of the randomised tests (also TRIPLESYNC_SEED); 0 picks one from the clock")

// baseSeed returns the seed of a randomised test: -seed, else
// TRIPLESYNC_SEED, else the clock. It is logged so a failure can be rerun.
func baseSeed(tb testing.TB) uint64 {
	s := *seedFlag
	if s == 0 {
		if env := os.Getenv("TRIPLESYNC_SEED"); env != "" {
			v, err := strconv.ParseUint(env, 10, 64)
			require.NoError(tb, err, "TRIPLESYNC_SEED")
			s = v
		}
	}
	if s == 0 {
		s = uint64(time.Now().UnixNano())
	}
	tb.Logf("seed %d (rerun with -seed=%d or TRIPLESYNC_SEED=%d)", s, s, s)
	return s
}

// newRand returns a deterministic random source usable as Config.Rand.
func newRand(seed uint64) *rand.ChaCha8 {
	var b [32]byte
	binary.LittleEndian.PutUint64(b[:], seed)
	return rand.NewChaCha8(b)
}

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time { return c.t }

func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// names gives test entities, attributes and mutations deterministic ids
// and prints ids back as names.
type names struct {
	byID   map[string]string
	byName map[string]string
}

func newNames() *names { return &names{byID: map[string]string{}, byName: map[string]string{}} }

// id returns the deterministic id of a name.
func (n *names) id(name string) store.EntityID {
	sum := sha256.Sum256([]byte(name))
	var id store.EntityID
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	n.set(id.String(), name)
	return id
}

func (n *names) set(id, name string) {
	n.byID[id] = name
	n.byName[name] = id
}

// short replaces every known id in s by its name.
func (n *names) short(s string) string {
	pairs := make([]string, 0, 4*len(n.byID))
	for id, name := range n.byID {
		pairs = append(pairs, `"`+id+`"`, name, id, name)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// schemaAttr parses "ns.label type [one|many] [unique] [indexed] [-> ns.reverse]".
func schemaAttr(t testing.TB, n *names, l string) store.Attr {
	f := strings.Fields(l)
	ns, label, _ := strings.Cut(f[0], ".")
	typ, err := store.ParseValueType(f[1])
	require.NoError(t, err)
	a := store.Attr{ID: n.id(f[0]), Namespace: ns, Label: label, Type: typ}
	for i := 2; i < len(f); i++ {
		switch f[i] {
		case "one":
		case "many":
			a.Cardinality = store.CardinalityMany
		case "unique":
			a.Unique = true
		case "indexed":
			a.Indexed = true
		case "->":
			a.RefNamespace, a.ReverseLabel, _ = strings.Cut(f[i+1], ".")
			i++
		default:
			t.Fatalf("attribute %q: unknown word %q", l, f[i])
		}
	}
	return a
}

// fields splits a line at spaces outside double quotes and brackets.
func fields(l string) []string {
	var out []string
	var cur strings.Builder
	depth, inStr, esc := 0, false, false
	for _, r := range l {
		switch {
		case esc:
			esc = false
		case inStr && r == '\\':
			esc = true
		case r == '"':
			inStr = !inStr
		case !inStr && (r == '{' || r == '['):
			depth++
		case !inStr && (r == '}' || r == ']'):
			depth--
		case !inStr && depth == 0 && r == ' ':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
