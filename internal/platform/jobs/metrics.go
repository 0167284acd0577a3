package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"prelude/internal/platform/db"
)

type metrics struct {
	processed *prometheus.CounterVec
	duration  *prometheus.HistogramVec
}

// newMetrics creates the queue's metrics and registers them with reg (if
// any). The collectors always exist so the rest of the package never checks
// for nil. A second queue on the same registry (tests, or two queues in one
// process) shares the first one's collectors instead of failing.
func newMetrics(d *db.DB, reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "prelude_jobs_processed_total",
			Help: "Job runs by kind and outcome (succeeded, retried, dead, lost).",
		}, []string{"kind", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "prelude_jobs_duration_seconds",
			Help: "Time handlers took, by kind.",
			// Jobs range from a quick notification to a slow mailbox scan.
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"kind"}),
	}
	if reg == nil {
		return m
	}
	if c, err := register(reg, m.processed); err == nil {
		m.processed = c.(*prometheus.CounterVec)
	} else {
		log.Warn("register job metrics", "err", err)
	}
	if c, err := register(reg, m.duration); err == nil {
		m.duration = c.(*prometheus.HistogramVec)
	} else {
		log.Warn("register job metrics", "err", err)
	}
	if _, err := register(reg, newDepthCollector(d, log)); err != nil {
		log.Warn("register job metrics", "err", err)
	}
	return m
}

// register returns c, or the collector already registered in its place.
func register(reg prometheus.Registerer, c prometheus.Collector) (prometheus.Collector, error) {
	err := reg.Register(c)
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		return are.ExistingCollector, nil
	}
	return c, err
}

// depthCollector reports how many jobs are in each status, counted in the
// database at scrape time: the queue is shared by all instances, so every
// instance reports the same whole-queue figure rather than a local guess.
type depthCollector struct {
	db   *db.DB
	log  *slog.Logger
	desc *prometheus.Desc
}

func newDepthCollector(d *db.DB, log *slog.Logger) *depthCollector {
	return &depthCollector{db: d, log: log,
		desc: prometheus.NewDesc("prelude_jobs_queue_depth", "Jobs in the database by status.", []string{"status"}, nil)}
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts := map[string]int64{}
	err := c.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		rows, err := tx.Query(ctx, "SELECT status, COUNT(*) FROM jobs GROUP BY status")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			var n int64
			if err := rows.Scan(&s, &n); err != nil {
				return err
			}
			counts[s] = n
		}
		return rows.Err()
	})
	if err != nil {
		c.log.Warn("count jobs for metrics", "err", err)
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, s := range allStatuses() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[s]), s)
	}
}
