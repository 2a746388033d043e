package reactor

import (
	"slices"
	"time"
)

// markDirty notes that a query's stored record is out of date. It is
// written after CacheFlushDelay, with every other query changed meanwhile.
func (c *Core) markDirty(qs *querySub) {
	qs.dirty = true
	if c.cfg.CacheFlushDelay < 0 {
		c.flush()
		return
	}
	if c.flushAt.IsZero() {
		c.flushAt = c.now().Add(c.cfg.CacheFlushDelay)
	}
}

// flush writes every dirty query, then collects garbage.
func (c *Core) flush() {
	c.flushAt = time.Time{}
	for _, qs := range c.queries {
		if !qs.dirty {
			continue
		}
		qs.dirty = false
		cq := CachedQuery{ID: qs.id, Q: qs.text, ProcessedTxID: qs.processed, LastUsed: qs.lastUsed}
		switch {
		case qs.base != nil:
			cq.Triples = qs.serverTriples()
		case qs.cached != nil:
			cq.Triples = qs.cached
		default:
			continue
		}
		qs.size, qs.stored = len(cq.Triples), true
		c.out.putQuery(cq)
	}
	c.gc()
}

// gc drops stored queries without subscribers: those unused for longer
// than CacheMaxAge, then the least recently used until at most
// CacheMaxEntries queries and CacheMaxTriples triples are stored.
func (c *Core) gc() {
	cutoff := c.now().Add(-c.cfg.CacheMaxAge).UnixMilli()
	var idle []*querySub
	entries, triples := 0, 0
	for _, qs := range c.queries {
		if !qs.stored {
			continue
		}
		if len(qs.subs) == 0 && qs.lastUsed < cutoff {
			c.evict(qs)
			continue
		}
		entries++
		triples += qs.size
		if len(qs.subs) == 0 {
			idle = append(idle, qs)
		}
	}
	if entries <= c.cfg.CacheMaxEntries && triples <= c.cfg.CacheMaxTriples {
		return
	}
	slices.SortFunc(idle, func(a, b *querySub) int {
		switch {
		case a.lastUsed != b.lastUsed:
			if a.lastUsed < b.lastUsed {
				return -1
			}
			return 1
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	for _, qs := range idle {
		if entries <= c.cfg.CacheMaxEntries && triples <= c.cfg.CacheMaxTriples {
			break
		}
		entries--
		triples -= qs.size
		c.evict(qs)
	}
}

func (c *Core) evict(qs *querySub) {
	delete(c.queries, qs.id)
	c.out.delQuery(qs.id)
}
