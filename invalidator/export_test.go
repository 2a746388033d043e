package invalidator

// SetLinear makes Apply find matching registrations by scanning every
// registered topic instead of asking the index: the baseline of
// BenchmarkInvalidate.
func (inv *Invalidator) SetLinear(on bool) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	inv.linear = on
}
