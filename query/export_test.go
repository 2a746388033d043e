package query

// SetTinyPlans shrinks the plans' thresholds so that small test data takes
// every path: the ordered plan even after a selective probe, chunks of one,
// fallbacks. It returns a function restoring the defaults.
func SetTinyPlans() (restore func()) {
	p, f, m, b := probeMin, probeFactor, minChunk, backChunk
	probeMin, probeFactor, minChunk, backChunk = 1, 0, 1, 1
	return func() { probeMin, probeFactor, minChunk, backChunk = p, f, m, b }
}

// DecodeJSON and AppendCanon expose the query text's decoder and canonical
// encoder to the oracle tests, which hold them to their encoding/json
// originals.
var DecodeJSON = decodeJSON

func AppendCanon(dst []byte, x any) ([]byte, bool) { return appendCanon(dst, x) }
