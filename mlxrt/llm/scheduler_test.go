package llm_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
)

// TestThroughScheduler serves chats with a loaded engine through the
// pipeline's slots, scheduler and pinned thread, as the server does.
func TestThroughScheduler(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	th := pipeline.StartThread()
	defer th.Stop()
	loaders := map[pipeline.Category]pipeline.Loader{
		pipeline.LLMSlot: pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
			return llm.Load(ctx, ref.Name, nil)
		}),
	}
	slots := pipeline.NewSlots(th, loaders, nil)
	defer slots.Close()
	info, err := slots.Load(ctx, pipeline.ModelRef{Category: pipeline.LLMSlot, Name: filepath.Join(goldenRoot, "qwen3-f32")})
	require.NoError(t, err)
	assert.Equal(t, "qwen3", info.Family)
	sched := pipeline.NewScheduler(th, slots, nil)
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()

	chat := func(seed int64, max int) *pipelinetest.Recorder {
		temp := 1.0
		req := userChat("Tell me about the quick brown fox")
		req.Sampling.Temperature, req.Sampling.Seed = &temp, &seed
		req.MaxTokens = max
		rec := pipelinetest.NewRecorder()
		_, err := sched.Chat(ctx, req, rec)
		require.NoError(t, err)
		return rec
	}
	alone := chat(3, 12)
	require.IsType(t, pipeline.Done{}, alone.Wait(time.Minute))
	// Three at once, one of them the same request: batching changes nothing.
	recs := []*pipelinetest.Recorder{chat(3, 12), chat(4, 20), chat(5, 5)}
	for _, r := range recs {
		ev := r.Wait(time.Minute)
		require.IsType(t, pipeline.Done{}, ev, "%v", pipeline.ErrorOf(ev))
	}
	assert.Equal(t, alone.Text(), recs[0].Text())
	d := recs[2].Wait(time.Minute).(pipeline.Done)
	assert.LessOrEqual(t, d.Usage.CompletionTokens, 5)
	assert.Positive(t, d.Usage.PromptTokens)

	require.NoError(t, sched.Shutdown(ctx))
	require.NoError(t, <-done)
}
