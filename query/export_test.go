package query

// SetTinyPlans shrinks the plans' thresholds so that small test data takes
// every path: the ordered plan even after a selective probe, chunks of one,
// fallbacks. It returns a function restoring the defaults.
func SetTinyPlans() (restore func()) {
	p, f, m, b := probeMin, probeFactor, minChunk, backChunk
	probeMin, probeFactor, minChunk, backChunk = 1, 0, 1, 1
	return func() { probeMin, probeFactor, minChunk, backChunk = p, f, m, b }
}
