package pipeline

import "time"

// Metrics receives the pipeline's measurements. Implementations must be
// cheap and non-blocking: they are called from the scheduler loop. The
// transport implements it with Prometheus collectors.
type Metrics interface {
	// QueueDepth reports the number of admitted tasks waiting to start.
	QueueDepth(n int)
	// ActiveTasks reports the number of tasks being stepped.
	ActiveTasks(n int)
	// TokensGenerated counts generated tokens of model.
	TokensGenerated(model string, n int)
	// TimeToFirstToken observes admission to first generated token.
	TimeToFirstToken(model string, d time.Duration)
	// InterToken observes the gap between consecutive tokens of a sequence.
	InterToken(model string, d time.Duration)
	// ModelLoaded reports a model entering (true) or leaving a slot.
	ModelLoaded(slot Category, model string, loaded bool)
	// StepDuration observes how long one step of a category took on the thread.
	StepDuration(c Category, d time.Duration)
}

// NopMetrics discards every measurement.
type NopMetrics struct{}

func (NopMetrics) QueueDepth(int)                         {}
func (NopMetrics) ActiveTasks(int)                        {}
func (NopMetrics) TokensGenerated(string, int)            {}
func (NopMetrics) TimeToFirstToken(string, time.Duration) {}
func (NopMetrics) InterToken(string, time.Duration)       {}
func (NopMetrics) ModelLoaded(Category, string, bool)     {}
func (NopMetrics) StepDuration(Category, time.Duration)   {}
