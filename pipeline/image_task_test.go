package pipeline_test

import (
	"context"
	"errors"
	"image"
	"image/color"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
)

// stepImages is an image generator double: each job takes steps denoising
// steps (each stepDelay long), previews every step, and counts releases.
type stepImages struct {
	steps     int
	stepDelay time.Duration
	failAt    int // step that fails; 0 means none
	startErr  error

	mu       sync.Mutex
	started  int
	ran      int
	released atomic.Int32
}

func (g *stepImages) Info() pipeline.ModelInfo {
	return pipeline.ModelInfo{ID: "steps", Category: pipeline.ImageSlot}
}
func (g *stepImages) Close() error { return nil }

func (g *stepImages) Start(req *pipeline.ImageRequest) (pipeline.ImageJob, error) {
	if g.startErr != nil {
		return nil, g.startErr
	}
	g.mu.Lock()
	g.started++
	g.mu.Unlock()
	return &stepJob{g: g, n: req.N}, nil
}

type stepJob struct {
	g    *stepImages
	n    int
	done int
	once sync.Once
}

func (j *stepJob) Steps() int { return j.g.steps }

func (j *stepJob) Step() (image.Image, error) {
	time.Sleep(j.g.stepDelay)
	j.done++
	j.g.mu.Lock()
	j.g.ran++
	j.g.mu.Unlock()
	if j.done == j.g.failAt {
		return nil, errors.New("latents went NaN")
	}
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	img.SetGray(0, 0, color.Gray{Y: uint8(j.done)})
	return img, nil
}

func (j *stepJob) Result() ([]image.Image, error) {
	out := make([]image.Image, j.n)
	for i := range out {
		out[i] = image.NewGray(image.Rect(0, 0, 8, 8))
	}
	return out, nil
}

func (j *stepJob) Release() { j.once.Do(func() { j.g.released.Add(1) }) }

func (g *stepImages) ranSteps() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ran
}

func TestImageGenerationProgressAndResult(t *testing.T) {
	gen := &stepImages{steps: 5}
	h := newImageHarness(t, gen)
	rec := newEventRecorder()
	info, err := h.sched.GenerateImage(context.Background(), &pipeline.ImageRequest{Prompt: "a cat", N: 2}, rec)
	require.NoError(t, err)
	assert.Equal(t, "steps", info.ID)
	final := rec.wait(t)
	require.IsType(t, pipeline.ImageDone{}, final)
	assert.Len(t, final.(pipeline.ImageDone).Images, 2)
	var steps []int
	for _, ev := range rec.events() {
		if p, ok := ev.(pipeline.ImageProgress); ok {
			steps = append(steps, p.Step)
			assert.Equal(t, 5, p.Steps)
			assert.NotNil(t, p.Preview)
		}
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5}, steps, "one progress event per denoising step, in order")
	assert.EqualValues(t, 1, gen.released.Load(), "the job is released once")
}

func TestImageGenerationCancelAndFailure(t *testing.T) {
	gen := &stepImages{steps: 1000, stepDelay: time.Millisecond}
	h := newImageHarness(t, gen)
	ctx, cancel := context.WithCancel(context.Background())
	rec := newEventRecorder()
	_, err := h.sched.GenerateImage(ctx, &pipeline.ImageRequest{Prompt: "slow", N: 1}, rec)
	require.NoError(t, err)
	require.Eventually(t, func() bool { return gen.ranSteps() >= 3 }, wait, time.Millisecond)
	cancel()
	final := rec.wait(t)
	require.IsType(t, pipeline.Failed{}, final)
	assert.ErrorIs(t, pipeline.ErrorOf(final), context.Canceled)
	ran := gen.ranSteps()
	assert.Less(t, ran, 1000)
	require.Eventually(t, func() bool { return gen.released.Load() == 1 }, wait, time.Millisecond, "a cancelled job is released")
	time.Sleep(20 * time.Millisecond)
	assert.LessOrEqual(t, gen.ranSteps(), ran+1, "no steps after the cancellation took effect")

	failing := &stepImages{steps: 5, failAt: 3}
	h = newImageHarness(t, failing)
	rec = newEventRecorder()
	_, err = h.sched.GenerateImage(context.Background(), &pipeline.ImageRequest{Prompt: "x", N: 1}, rec)
	require.NoError(t, err)
	final = rec.wait(t)
	require.IsType(t, pipeline.Failed{}, final)
	assert.ErrorContains(t, pipeline.ErrorOf(final), "latents went NaN")
	assert.EqualValues(t, 1, failing.released.Load())

	refused := &stepImages{steps: 5, startErr: pipeline.Invalid("size", "1x1 is too small")}
	h = newImageHarness(t, refused)
	rec = newEventRecorder()
	_, err = h.sched.GenerateImage(context.Background(), &pipeline.ImageRequest{Prompt: "x", N: 1}, rec)
	require.NoError(t, err)
	final = rec.wait(t)
	require.IsType(t, pipeline.Failed{}, final)
	assert.Equal(t, "size", pipeline.AsError(pipeline.ErrorOf(final)).Param)
}

func TestImageSlotEmptyIsUnavailable(t *testing.T) {
	h := newHarness(t, nil, nil)
	_, err := h.sched.GenerateImage(context.Background(), &pipeline.ImageRequest{Prompt: "x", N: 1}, newEventRecorder())
	assert.ErrorIs(t, err, pipeline.ErrUnavailable)
}

func newImageHarness(t *testing.T, gen *stepImages) *harness {
	t.Helper()
	h := newHarness(t, map[string]pipeline.Model{"steps": gen}, nil)
	_, err := h.slots.Load(context.Background(), pipeline.ModelRef{Category: pipeline.ImageSlot, Name: "steps"})
	require.NoError(t, err)
	return h
}

// eventRecorder is a Sink that keeps every event and signals the final one.
type eventRecorder struct {
	mu    sync.Mutex
	evs   []pipeline.Event
	final chan pipeline.Event
}

func newEventRecorder() *eventRecorder { return &eventRecorder{final: make(chan pipeline.Event, 1)} }

func (r *eventRecorder) Emit(ev pipeline.Event) {
	r.mu.Lock()
	r.evs = append(r.evs, ev)
	r.mu.Unlock()
	if pipeline.Terminal(ev) {
		r.final <- ev
	}
}

func (r *eventRecorder) events() []pipeline.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pipeline.Event(nil), r.evs...)
}

func (r *eventRecorder) wait(t *testing.T) pipeline.Event {
	t.Helper()
	select {
	case ev := <-r.final:
		return ev
	case <-time.After(wait):
		t.Fatal("no final event")
		return nil
	}
}
