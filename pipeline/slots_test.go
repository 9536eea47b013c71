package pipeline_test

import (
	"context"
	"sync/atomic"
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

// batchSpy records the largest batch its LLM was stepped with.
type batchSpy struct {
	*pipelinetest.LLM
	largest atomic.Int64
}

func (b *batchSpy) Step(batch []pipeline.Sequence, out []pipeline.TokenOutput) error {
	if n := int64(len(batch)); n > b.largest.Load() {
		b.largest.Store(n)
	}
	return b.LLM.Step(batch, out)
}

// Chats beyond MaxBatch wait in the queue, in arrival order, and join the
// batch as running sequences finish (continuous batching).
func TestChatsBeyondMaxBatchQueue(t *testing.T) {
	llm := &batchSpy{LLM: &pipelinetest.LLM{StepDelay: time.Millisecond}}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, &pipeline.SchedulerOptions{MaxBatch: 2, MaxInFlight: 64})
	h.load(t, pipeline.LLMSlot, "m")
	long := "a b c d e f g h i j k l m n o p q r s t"
	var recs []*pipelinetest.Recorder
	for _, text := range []string{long, long, "short", "short"} {
		rec := pipelinetest.NewRecorder()
		_, err := h.sched.Chat(context.Background(), userMsg(text), rec)
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	assert.Eventually(t, func() bool { return h.sched.QueueDepth() == 2 }, wait, time.Millisecond,
		"two decode, two wait")
	for _, r := range recs {
		require.IsType(t, pipeline.Done{}, r.Wait(wait))
	}
	assert.EqualValues(t, 2, llm.largest.Load(), "never more than MaxBatch sequences in a step")
	assert.Equal(t, "short", recs[2].Text())
	assert.Equal(t, "short", recs[3].Text())
}
