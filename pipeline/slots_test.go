package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
)

// A load waiting behind a stuck load of the same slot gives up when its
// context ends; the stuck loader's model, arriving after its caller gave
// up, is closed and the previous model keeps serving.
func TestLoadAbandonedAndWaitingLoads(t *testing.T) {
	release := make(chan struct{})
	late := &pipelinetest.LLM{Name: "late"}
	old := &pipelinetest.LLM{Name: "old"}
	loader := pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
		if ref.Name == "old" {
			return old, nil
		}
		<-release // ignores ctx, like a read stuck in the kernel
		return late, nil
	})
	th := pipeline.StartThread()
	defer th.Stop()
	slots := pipeline.NewSlots(th, map[pipeline.Category]pipeline.Loader{pipeline.LLMSlot: loader}, nil)
	defer slots.Close()
	_, err := slots.Load(context.Background(), pipeline.ModelRef{Category: pipeline.LLMSlot, Name: "old"})
	require.NoError(t, err)

	stuckCtx, giveUp := context.WithCancel(context.Background())
	stuck := make(chan error, 1)
	go func() {
		_, err := slots.Load(stuckCtx, pipeline.ModelRef{Category: pipeline.LLMSlot, Name: "late"})
		stuck <- err
	}()
	require.Eventually(t, func() bool { return slots.Status()[0].Loading == "late" }, wait, time.Millisecond)

	waitCtx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = slots.Load(waitCtx, pipeline.ModelRef{Category: pipeline.LLMSlot, Name: "old"})
	require.ErrorIs(t, err, context.DeadlineExceeded, "the waiting load gives up with its context")

	giveUp()
	close(release)
	select {
	case err := <-stuck:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(wait):
		t.Fatal("the stuck load did not return")
	}
	assert.True(t, late.Closed(), "the late model is closed, not installed")
	lease, err := slots.Acquire(pipeline.LLMSlot)
	require.NoError(t, err)
	assert.Equal(t, "old", lease.Model().Info().ID, "the previous model keeps serving")
	lease.Release()
}
