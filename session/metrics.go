package session

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// counters are the server's running totals, kept as atomics so Stats can
// read them without Prometheus; the collectors read the same values.
type counters struct {
	sessions      atomic.Int64
	subscriptions atomic.Int64
	runs          atomic.Uint64
	reads         atomic.Uint64
	refreshes     atomic.Uint64
	unchanged     atomic.Uint64
	pushes        atomic.Uint64
	pushBytes     atomic.Uint64
	sentFrames    atomic.Uint64
	sentBytes     atomic.Uint64
	slowConsumers atomic.Uint64
	changes       atomic.Uint64
	resets        atomic.Uint64
}

// Stats is a snapshot of a Server's counters.
type Stats struct {
	Sessions      int    // open sessions
	Subscriptions int    // live queries, summed over sessions
	Queries       int    // shared queries (distinct text and permission context)
	Runs          uint64 // query evaluations against the backend
	Reads         uint64 // read transactions those ran in (under load, several evaluations share one)
	Refreshes     uint64 // stale live queries brought up to date, per session
	Unchanged     uint64 // refreshes that found the result unchanged
	Pushes        uint64 // refresh-ok frames sent
	PushBytes     uint64 // bytes of those frames
	SentFrames    uint64 // every frame queued for a client
	SentBytes     uint64 // bytes of those frames
	QueuedFrames  int    // frames waiting in outbound queues, summed over sessions
	SlowConsumers uint64 // sessions closed with ErrSlowConsumer
	Changes       uint64 // committed transactions applied
	Resets        uint64 // resets and schema changes that made every query stale
	Processed     int64  // the processed tx-id
}

// metrics are the Prometheus collectors that are more than a counter.
type metrics struct {
	errors  *prometheus.CounterVec
	latency prometheus.Histogram
}

// newMetrics builds the server's collectors and registers them with reg
// when it is not nil.
func newMetrics(s *Server, reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "triplesync_errors_total",
			Help: "Error messages sent to clients, by type.",
		}, []string{"type"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "triplesync_write_to_push_seconds",
			Help:    "Time from a transaction's commit (as the WAL records it) to the refresh it caused being queued for a client.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16), // 0.5ms .. 16s
		}),
	}
	if reg == nil {
		return m, nil
	}
	c := &s.stats
	gauge := func(name, help string, f func() float64) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f)
	}
	counter := func(name, help string, v *atomic.Uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	cs := []prometheus.Collector{
		m.errors, m.latency,
		gauge("triplesync_sessions", "Open WebSocket sessions.", func() float64 { return float64(c.sessions.Load()) }),
		gauge("triplesync_subscriptions", "Live queries, summed over sessions.", func() float64 { return float64(c.subscriptions.Load()) }),
		gauge("triplesync_queries", "Shared queries: distinct query text and permission context.", func() float64 { return float64(s.queryCount()) }),
		gauge("triplesync_processed_tx_id", "Highest tx-id whose WAL the server has handled.", func() float64 { p, _ := s.wm.load(); return float64(p) }),
		counter("triplesync_query_runs_total", "Query evaluations against Postgres.", &c.runs),
		counter("triplesync_query_reads_total", "Read transactions query evaluations ran in; under load several share one.", &c.reads),
		counter("triplesync_refreshes_total", "Stale live queries brought up to date, per session.", &c.refreshes),
		counter("triplesync_refreshes_unchanged_total", "Refreshes that found the result unchanged (nothing pushed).", &c.unchanged),
		counter("triplesync_pushes_total", "refresh-ok frames queued for clients.", &c.pushes),
		counter("triplesync_push_bytes_total", "Bytes of refresh-ok frames queued for clients.", &c.pushBytes),
		counter("triplesync_sent_frames_total", "Frames queued for clients, of every kind.", &c.sentFrames),
		counter("triplesync_sent_bytes_total", "Bytes of frames queued for clients, of every kind.", &c.sentBytes),
		counter("triplesync_slow_consumers_total", "Sessions closed because their outbound queue filled.", &c.slowConsumers),
		counter("triplesync_changes_total", "Committed transactions the invalidator handled.", &c.changes),
		counter("triplesync_resets_total", "WAL resets, schema changes and rule reloads that made every query stale.", &c.resets),
	}
	for _, col := range cs {
		if err := reg.Register(col); err != nil {
			return nil, err
		}
	}
	return m, nil
}
