package reactor

// RecomputeAll evaluates every subscribed query again, as if an input had
// touched them all, so a test sees what subscribers would see now, not
// only what the core chose to recompute.
func (c *Core) RecomputeAll() {
	for _, qs := range c.subscribed() {
		c.recompute(qs)
	}
}

// MaxHeldConfirmed is how many confirmed mutations the core keeps only
// for cached queries without subscribers.
const MaxHeldConfirmed = maxHeldConfirmed
