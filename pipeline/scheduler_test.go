package pipeline_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
)

const wait = 10 * time.Second

type harness struct {
	th    *pipeline.Thread
	slots *pipeline.Slots
	sched *pipeline.Scheduler
	stop  func()
}

func newHarness(t *testing.T, models map[string]pipeline.Model, opts *pipeline.SchedulerOptions) *harness {
	t.Helper()
	th := pipeline.StartThread()
	loader := pipelinetest.Loader(models)
	slots := pipeline.NewSlots(th, map[pipeline.Category]pipeline.Loader{
		pipeline.LLMSlot: loader, pipeline.ASRSlot: loader, pipeline.TTSSlot: loader, pipeline.ImageSlot: loader,
	}, nil)
	sched := pipeline.NewScheduler(th, slots, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sched.Run(ctx) }()
	h := &harness{th: th, slots: slots, sched: sched}
	h.stop = func() {
		cancel()
		<-done
		slots.Close()
		th.Stop()
	}
	t.Cleanup(h.stop)
	return h
}

func (h *harness) load(t *testing.T, c pipeline.Category, name string) {
	t.Helper()
	_, err := h.slots.Load(context.Background(), pipeline.ModelRef{Category: c, Name: name})
	require.NoError(t, err)
}

func userMsg(s string) *pipeline.ChatRequest {
	return &pipeline.ChatRequest{Messages: []pipeline.Message{{Role: "user", Content: s}}}
}

func TestChatGeneratesAndEnds(t *testing.T) {
	llm := &pipelinetest.LLM{}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, nil)
	h.load(t, pipeline.LLMSlot, "m")
	rec := pipelinetest.NewRecorder()
	start, err := h.sched.Chat(context.Background(), userMsg("hello brave new world"), rec)
	require.NoError(t, err)
	assert.Equal(t, "scripted", start.Model.ID)
	final := rec.Wait(wait)
	require.IsType(t, pipeline.Done{}, final)
	done := final.(pipeline.Done)
	assert.Equal(t, pipeline.FinishStop, done.Finish)
	assert.Equal(t, "hello brave new world", rec.Text())
	assert.Equal(t, start.PromptTokens, done.Usage.PromptTokens)
	assert.Equal(t, 5, done.Usage.CompletionTokens, "4 words and the end token")
	counted := 0
	for _, ev := range rec.Events() {
		if d, ok := ev.(pipeline.TextDelta); ok {
			counted += d.Tokens
		}
	}
	assert.Equal(t, 4, counted, "the deltas count the tokens that made their text; the end token has none")
	assert.Eventually(t, func() bool { return llm.Live() == 0 }, wait, time.Millisecond)
}

func TestChatMaxTokensAndStop(t *testing.T) {
	llm := &pipelinetest.LLM{}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, nil)
	h.load(t, pipeline.LLMSlot, "m")

	req := userMsg("one two three four five")
	req.MaxTokens = 2
	rec := pipelinetest.NewRecorder()
	_, err := h.sched.Chat(context.Background(), req, rec)
	require.NoError(t, err)
	final := rec.Wait(wait).(pipeline.Done)
	assert.Equal(t, pipeline.FinishLength, final.Finish)
	assert.Equal(t, "one two", rec.Text())

	req = userMsg("one two three four five")
	req.Stop = []string{" thr"}
	rec = pipelinetest.NewRecorder()
	_, err = h.sched.Chat(context.Background(), req, rec)
	require.NoError(t, err)
	assert.Equal(t, pipeline.FinishStop, rec.Wait(wait).(pipeline.Done).Finish)
	assert.Equal(t, "one two", rec.Text())
}

func TestChatSequencesDecodeTogether(t *testing.T) {
	llm := &pipelinetest.LLM{PrefillChunk: 1000}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, nil)
	h.load(t, pipeline.LLMSlot, "m")
	var recs []*pipelinetest.Recorder
	text := "a b c d e f g h i j"
	// Hold the thread so that all five are admitted before the first step.
	hold := make(chan struct{})
	go func() { _ = h.th.Do(context.Background(), func() error { <-hold; return nil }) }()
	for range 5 {
		rec := pipelinetest.NewRecorder()
		_, err := h.sched.Chat(context.Background(), userMsg(text), rec)
		require.NoError(t, err)
		recs = append(recs, rec)
	}
	close(hold)
	for _, r := range recs {
		require.IsType(t, pipeline.Done{}, r.Wait(wait))
		assert.Equal(t, text, r.Text())
	}
	// 11 tokens each; batched, the steps are far fewer than 5*11.
	assert.Less(t, llm.Steps(), int64(25))
}

func TestChatCancelStopsWork(t *testing.T) {
	llm := &pipelinetest.LLM{NoEOS: true, StepDelay: time.Millisecond}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, nil)
	h.load(t, pipeline.LLMSlot, "m")
	ctx, cancel := context.WithCancelCause(context.Background())
	rec := pipelinetest.NewRecorder()
	_, err := h.sched.Chat(ctx, userMsg("la la"), rec)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return llm.Tokens() > 5 }, wait, time.Millisecond)
	gone := errors.New("client went away")
	cancel(gone)
	final := rec.Wait(wait)
	require.IsType(t, pipeline.Failed{}, final)
	assert.ErrorIs(t, pipeline.ErrorOf(final), gone)
	require.Eventually(t, func() bool { return llm.Live() == 0 }, wait, time.Millisecond)
	steps := llm.Steps()
	time.Sleep(20 * time.Millisecond) // nothing may step a cancelled sequence
	assert.Equal(t, steps, llm.Steps())
}

func TestChatFailsMidStream(t *testing.T) {
	llm := &pipelinetest.LLM{FailAfter: 2, FailErr: &pipeline.Error{Kind: pipeline.KindInternal, Message: "device lost"}}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, nil)
	h.load(t, pipeline.LLMSlot, "m")
	rec := pipelinetest.NewRecorder()
	_, err := h.sched.Chat(context.Background(), userMsg("a b c d"), rec)
	require.NoError(t, err)
	final := rec.Wait(wait)
	require.IsType(t, pipeline.Failed{}, final)
	assert.Equal(t, "device lost", pipeline.AsError(pipeline.ErrorOf(final)).Message)
	assert.Equal(t, "a b", rec.Text())
}

func TestBacklogBound(t *testing.T) {
	llm := &pipelinetest.LLM{NoEOS: true}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, &pipeline.SchedulerOptions{MaxInFlight: 1, MaxBacklog: 2, MaxBatch: 1})
	h.load(t, pipeline.LLMSlot, "m")
	hold := make(chan struct{})
	go func() { _ = h.th.Do(context.Background(), func() error { <-hold; return nil }) }()
	defer close(hold)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs []error
	for range 5 {
		_, err := h.sched.Chat(ctx, userMsg("x"), pipelinetest.NewRecorder())
		errs = append(errs, err)
	}
	rejected := 0
	for _, err := range errs {
		if err != nil {
			require.ErrorIs(t, err, pipeline.ErrOverloaded)
			assert.Positive(t, pipeline.AsError(err).RetryAfter)
			rejected++
		}
	}
	assert.GreaterOrEqual(t, rejected, 2)
}

func TestEmptySlotIsUnavailable(t *testing.T) {
	h := newHarness(t, map[string]pipeline.Model{}, nil)
	_, err := h.sched.Chat(context.Background(), userMsg("x"), pipelinetest.NewRecorder())
	require.ErrorIs(t, err, pipeline.ErrUnavailable)
}

func TestSlotSwitchAndFailedLoad(t *testing.T) {
	a, b := &pipelinetest.LLM{Name: "a", NoEOS: true}, &pipelinetest.LLM{Name: "b"}
	h := newHarness(t, map[string]pipeline.Model{"a": a, "b": b}, nil)
	h.load(t, pipeline.LLMSlot, "a")
	ctx, cancel := context.WithCancel(context.Background())
	rec := pipelinetest.NewRecorder()
	_, err := h.sched.Chat(ctx, userMsg("keep going"), rec)
	require.NoError(t, err)

	_, err = h.slots.Load(context.Background(), pipeline.ModelRef{Category: pipeline.LLMSlot, Name: "missing"})
	require.Error(t, err)
	assert.Equal(t, "a", h.slots.Status()[0].Model, "a failed load keeps the previous model")

	h.load(t, pipeline.LLMSlot, "b")
	assert.False(t, a.Closed(), "a is still in use")
	rec2 := pipelinetest.NewRecorder()
	start, err := h.sched.Chat(context.Background(), userMsg("hi"), rec2)
	require.NoError(t, err)
	assert.Equal(t, "b", start.Model.ID)
	require.IsType(t, pipeline.Done{}, rec2.Wait(wait))
	cancel()
	rec.Wait(wait)
	assert.Eventually(t, a.Closed, wait, time.Millisecond, "a closes after its last sequence")
}

func TestShutdownDrainsThenCancels(t *testing.T) {
	llm := &pipelinetest.LLM{StepDelay: time.Millisecond}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, nil)
	h.load(t, pipeline.LLMSlot, "m")
	short := pipelinetest.NewRecorder()
	_, err := h.sched.Chat(context.Background(), userMsg("a b c"), short)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	require.NoError(t, h.sched.Shutdown(ctx), "short work drains before the deadline")
	assert.IsType(t, pipeline.Done{}, short.Wait(wait))
	_, err = h.sched.Chat(context.Background(), userMsg("late"), pipelinetest.NewRecorder())
	assert.ErrorIs(t, err, pipeline.ErrUnavailable)
}

func TestShutdownDeadlineCancelsWithFinalEvent(t *testing.T) {
	llm := &pipelinetest.LLM{NoEOS: true, StepDelay: time.Millisecond}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, nil)
	h.load(t, pipeline.LLMSlot, "m")
	rec := pipelinetest.NewRecorder()
	_, err := h.sched.Chat(context.Background(), userMsg("forever"), rec)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	assert.ErrorIs(t, h.sched.Shutdown(ctx), context.DeadlineExceeded)
	final := rec.Wait(wait)
	require.IsType(t, pipeline.Failed{}, final)
	assert.Equal(t, "server_shutting_down", pipeline.AsError(pipeline.ErrorOf(final)).Code)
}

func TestLongSpeechDoesNotStallChat(t *testing.T) {
	llm := &pipelinetest.LLM{NoEOS: true}
	h := newHarness(t, map[string]pipeline.Model{"m": llm, "tts": pipelinetest.Synthesizer{}}, nil)
	h.load(t, pipeline.LLMSlot, "m")
	h.load(t, pipeline.TTSSlot, "tts")
	speech := pipelinetest.NewRecorder()
	syn, err := h.sched.Speak(context.Background(), pipeline.SpeechOptions{}, speech)
	require.NoError(t, err)
	for range 200 {
		require.NoError(t, syn.Push("This is one more sentence of a very long text. "))
	}
	syn.Close()
	chat := pipelinetest.NewRecorder()
	req := userMsg("tok")
	req.MaxTokens = 50
	_, err = h.sched.Chat(context.Background(), req, chat)
	require.NoError(t, err)
	require.IsType(t, pipeline.Done{}, chat.Wait(wait))
	chunks := 0
	for _, ev := range speech.Events() {
		if _, ok := ev.(pipeline.AudioChunk); ok {
			chunks++
		}
	}
	assert.Less(t, chunks, 200, "the chat finished while speech was still being made")
	require.IsType(t, pipeline.Done{}, speech.Wait(wait))
}

func TestTranscriptionUtterances(t *testing.T) {
	asr := &pipelinetest.Transcriber{Words: []string{"alpha", "beta", "gamma"}}
	h := newHarness(t, map[string]pipeline.Model{"asr": asr}, nil)
	h.load(t, pipeline.ASRSlot, "asr")
	rec := pipelinetest.NewRecorder()
	tr, err := h.sched.Transcribe(context.Background(), pipeline.TranscribeOptions{}, rec)
	require.NoError(t, err)
	loud := make([]float32, 3200) // 200 ms: two words
	for i := range loud {
		loud[i] = 0.5
	}
	tr.Item("item_1")
	require.NoError(t, tr.Push(loud))
	tr.Commit()
	tr.Item("item_2")
	require.NoError(t, tr.Push(loud[:1600]))
	tr.Close()
	require.IsType(t, pipeline.Done{}, rec.Wait(wait))
	var finals []pipeline.TranscriptDone
	partials := 0
	for _, ev := range rec.Events() {
		switch e := ev.(type) {
		case pipeline.TranscriptDone:
			finals = append(finals, e)
		case pipeline.TranscriptDelta:
			partials++
		}
	}
	require.Len(t, finals, 2)
	assert.Equal(t, "item_1", finals[0].ItemID)
	assert.Equal(t, "alpha beta", finals[0].Text)
	assert.Equal(t, "item_2", finals[1].ItemID)
	assert.Equal(t, "gamma", finals[1].Text)
	assert.InDelta(t, 0.2, finals[0].Usage.InputAudioSeconds, 1e-9)
	assert.Positive(t, partials)
	assert.Eventually(t, func() bool { return asr.Open() == 0 }, wait, time.Millisecond)
}

func TestSynthesisMarksAndVoiceErrors(t *testing.T) {
	h := newHarness(t, map[string]pipeline.Model{"tts": pipelinetest.Synthesizer{}}, nil)
	h.load(t, pipeline.TTSSlot, "tts")
	rec := pipelinetest.NewRecorder()
	syn, err := h.sched.Speak(context.Background(), pipeline.SpeechOptions{Voice: "alloy"}, rec)
	require.NoError(t, err)
	require.NoError(t, syn.Push("Hello there. How are"))
	syn.Mark("m1", pipeline.SpeechOptions{Voice: "nope"})
	require.NoError(t, syn.Push("Bad voice."))
	syn.Close()
	final := rec.Wait(wait)
	require.IsType(t, pipeline.Failed{}, final)
	assert.Equal(t, "voice", pipeline.AsError(pipeline.ErrorOf(final)).Param)
	var texts []string
	marks := 0
	for _, ev := range rec.Events() {
		switch e := ev.(type) {
		case pipeline.AudioChunk:
			texts = append(texts, e.Text)
		case pipeline.AudioMark:
			marks++
		}
	}
	assert.Equal(t, []string{"Hello there.", "How are"}, texts)
	assert.Equal(t, 1, marks)
}

func TestManySessionsConcurrently(t *testing.T) {
	llm := &pipelinetest.LLM{}
	h := newHarness(t, map[string]pipeline.Model{"m": llm}, &pipeline.SchedulerOptions{MaxInFlight: 64, MaxBatch: 32, MaxBacklog: 512})
	h.load(t, pipeline.LLMSlot, "m")
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := pipelinetest.NewRecorder()
			_, err := h.sched.Chat(context.Background(), userMsg("one two three"), rec)
			if !assert.NoError(t, err) {
				return
			}
			assert.IsType(t, pipeline.Done{}, rec.Wait(wait))
			assert.Equal(t, "one two three", rec.Text())
		}()
	}
	wg.Wait()
	assert.Equal(t, 0, h.sched.QueueDepth())
}

func TestTranscriptionClearKeepsCommittedItems(t *testing.T) {
	asr := &pipelinetest.Transcriber{Words: []string{"one", "two", "three", "four"}}
	h := newHarness(t, map[string]pipeline.Model{"asr": asr}, nil)
	h.load(t, pipeline.ASRSlot, "asr")
	// Hold the thread so that everything below is queued before any step.
	hold := make(chan struct{})
	go func() { _ = h.th.Do(context.Background(), func() error { <-hold; return nil }) }()
	rec := pipelinetest.NewRecorder()
	tr, err := h.sched.Transcribe(context.Background(), pipeline.TranscribeOptions{}, rec)
	require.NoError(t, err)
	loud := make([]float32, 1600)
	for i := range loud {
		loud[i] = 0.5
	}
	tr.Item("a")
	require.NoError(t, tr.Push(loud))
	tr.Commit()
	tr.Item("b")
	require.NoError(t, tr.Push(loud))
	tr.Clear() // drops b's audio, keeps a's commit
	require.NoError(t, tr.Push(loud))
	tr.Commit()
	tr.Close()
	close(hold)
	require.IsType(t, pipeline.Done{}, rec.Wait(wait))
	var finals []string
	for _, ev := range rec.Events() {
		if d, ok := ev.(pipeline.TranscriptDone); ok {
			finals = append(finals, d.ItemID+":"+d.Text)
		}
	}
	assert.Equal(t, []string{"a:one", "b:two"}, finals)
}
