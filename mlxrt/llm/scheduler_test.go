package llm_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/llm"
	"github.com/ominix/ominix-api/mlxrt/llm/config"
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

// TestDefaultMaxTokens serves chats without max_tokens: the completion
// budget is generation_config.json's max_new_tokens, clamped to the room
// the context leaves; a request's own max_tokens wins.
func TestDefaultMaxTokens(t *testing.T) {
	dir := filepath.Join(goldenRoot, "qwen3-f32")
	data, err := os.ReadFile(filepath.Join(dir, "generation_config.json"))
	require.NoError(t, err)
	gen, err := config.ParseGeneration(data)
	require.NoError(t, err)
	require.NotNil(t, gen.MaxNewTokens)
	def := *gen.MaxNewTokens

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	th := pipeline.StartThread()
	defer th.Stop()
	var opts llm.Options // read by the loader, set before each Load
	loaders := map[pipeline.Category]pipeline.Loader{
		pipeline.LLMSlot: pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
			o := opts
			return llm.Load(ctx, ref.Name, &o)
		}),
	}
	slots := pipeline.NewSlots(th, loaders, nil)
	defer slots.Close()
	ref := pipeline.ModelRef{Category: pipeline.LLMSlot, Name: dir}
	_, err = slots.Load(ctx, ref)
	require.NoError(t, err)
	sched := pipeline.NewScheduler(th, slots, nil)
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()

	// Greedy, so the run is reproducible; this prompt's answer has no end
	// token in its first max_new_tokens tokens.
	chat := func(max int) (pipeline.ChatStart, pipeline.Done) {
		t.Helper()
		zero := 0.0
		req := userChat("Tell me about the quick brown fox")
		req.Sampling.Temperature = &zero
		req.MaxTokens = max
		rec := pipelinetest.NewRecorder()
		start, err := sched.Chat(ctx, req, rec)
		require.NoError(t, err)
		ev := rec.Wait(time.Minute)
		require.IsType(t, pipeline.Done{}, ev, "%v", pipeline.ErrorOf(ev))
		return start, ev.(pipeline.Done)
	}
	start, d := chat(0)
	assert.Equal(t, def, start.MaxTokens, "max_new_tokens is the default budget")
	assert.Equal(t, pipeline.FinishLength, d.Finish)
	assert.Equal(t, def, d.Usage.CompletionTokens)
	prompt := start.PromptTokens
	require.Greater(t, 256-prompt, def, "the context leaves more room than the default")

	start, d = chat(def + 5)
	assert.Equal(t, def+5, start.MaxTokens, "the request's max_tokens wins")
	assert.Equal(t, def+5, d.Usage.CompletionTokens)
	start, d = chat(3)
	assert.Equal(t, 3, start.MaxTokens)
	assert.Equal(t, 3, d.Usage.CompletionTokens)

	// A context with room for fewer tokens than the default clamps it.
	opts.ContextLength = prompt + 10
	_, err = slots.Load(ctx, ref)
	require.NoError(t, err)
	start, d = chat(0)
	assert.Equal(t, 10, start.MaxTokens)
	assert.Equal(t, pipeline.FinishLength, d.Finish)
	assert.Equal(t, 10, d.Usage.CompletionTokens)

	require.NoError(t, sched.Shutdown(ctx))
	require.NoError(t, <-done)
}
