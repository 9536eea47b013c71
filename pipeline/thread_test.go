package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ominix/ominix-api/pipeline"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestThreadRecoversPanics(t *testing.T) {
	th := pipeline.StartThread()
	defer th.Stop()
	err := th.Do(context.Background(), func() error { panic("boom") })
	var pe *pipeline.PanicError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "boom", pe.Value)
	assert.Contains(t, string(pe.Stack), "thread_test.go")
	// The thread survives a panic.
	require.NoError(t, th.Do(context.Background(), func() error { return nil }))
}

func TestThreadStop(t *testing.T) {
	th := pipeline.StartThread()
	th.Stop()
	th.Stop()
	err := th.Do(context.Background(), func() error { return nil })
	assert.ErrorIs(t, err, pipeline.ErrThreadStopped)
}

func TestThreadDoCancelledBeforeRun(t *testing.T) {
	th := pipeline.StartThread()
	defer th.Stop()
	block := make(chan struct{})
	started := make(chan struct{})
	go func() {
		_ = th.Do(context.Background(), func() error { close(started); <-block; return nil })
	}()
	<-started
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("client went away")
	cancel(cause)
	ran := false
	err := th.Do(ctx, func() error { ran = true; return nil })
	close(block)
	assert.ErrorIs(t, err, cause)
	assert.False(t, ran)
}
