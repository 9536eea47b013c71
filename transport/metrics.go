package transport

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
)

// Metrics implements pipeline.Metrics and sessions.Metrics with Prometheus
// collectors, and serves them at /metrics. Metric names are part of the
// server's contract (DESIGN.md).
type Metrics struct {
	reg            *prometheus.Registry
	sessionsActive prometheus.Gauge
	queueDepth     prometheus.Gauge
	activeTasks    prometheus.Gauge
	tokens         *prometheus.CounterVec
	ttft           *prometheus.HistogramVec
	interToken     *prometheus.HistogramVec
	slowConsumers  *prometheus.CounterVec
	modelLoaded    *prometheus.GaugeVec
	stepSeconds    *prometheus.HistogramVec
}

var (
	_ pipeline.Metrics = (*Metrics)(nil)
	_ sessions.Metrics = (*Metrics)(nil)
)

// NewMetrics registers the server's collectors (plus Go runtime and process
// collectors) in a fresh registry.
func NewMetrics() *Metrics {
	latency := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sessionsActive: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ominix_sessions_active",
			Help: "Sessions whose work is queued or running."}),
		queueDepth: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ominix_queue_depth",
			Help: "Admitted tasks waiting for an in-flight place."}),
		activeTasks: prometheus.NewGauge(prometheus.GaugeOpts{Name: "ominix_tasks_in_flight",
			Help: "Tasks being stepped on the model thread."}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ominix_tokens_generated_total",
			Help: "Tokens generated, by model."}, []string{"model"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ominix_time_to_first_token_seconds",
			Help: "Time from admission to the first generated token.", Buckets: latency}, []string{"model"}),
		interToken: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ominix_inter_token_seconds",
			Help: "Time between consecutive tokens of one sequence.", Buckets: latency}, []string{"model"}),
		slowConsumers: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ominix_slow_consumer_disconnects_total",
			Help: "Subscribers dropped by their slow-consumer policy, by reason."}, []string{"reason"}),
		modelLoaded: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ominix_model_loaded",
			Help: "1 for the model serving in each slot."}, []string{"slot", "model"}),
		stepSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "ominix_step_seconds",
			Help: "Duration of one scheduler step on the model thread, by slot.", Buckets: latency}, []string{"slot"}),
	}
	m.reg.MustRegister(m.sessionsActive, m.queueDepth, m.activeTasks, m.tokens, m.ttft, m.interToken,
		m.slowConsumers, m.modelLoaded, m.stepSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Registry exposes the registry for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) SessionsActive(n int) { m.sessionsActive.Set(float64(n)) }

func (m *Metrics) SlowConsumer(err error) {
	reason := "other"
	var pe *pipeline.Error
	if errors.As(err, &pe) && pe.Code != "" {
		reason = pe.Code
	}
	m.slowConsumers.WithLabelValues(reason).Inc()
}

func (m *Metrics) QueueDepth(n int)  { m.queueDepth.Set(float64(n)) }
func (m *Metrics) ActiveTasks(n int) { m.activeTasks.Set(float64(n)) }

func (m *Metrics) TokensGenerated(model string, n int) {
	m.tokens.WithLabelValues(model).Add(float64(n))
}

func (m *Metrics) TimeToFirstToken(model string, d time.Duration) {
	m.ttft.WithLabelValues(model).Observe(d.Seconds())
}

func (m *Metrics) InterToken(model string, d time.Duration) {
	m.interToken.WithLabelValues(model).Observe(d.Seconds())
}

func (m *Metrics) ModelLoaded(slot pipeline.Category, model string, loaded bool) {
	if loaded {
		m.modelLoaded.WithLabelValues(string(slot), model).Set(1)
		return
	}
	m.modelLoaded.DeleteLabelValues(string(slot), model)
}

func (m *Metrics) StepDuration(c pipeline.Category, d time.Duration) {
	m.stepSeconds.WithLabelValues(string(c)).Observe(d.Seconds())
}
