package pipeline

import (
	"context"
	"fmt"
)

type imageTask struct {
	*taskBase
	gen  ImageGenerator
	req  *ImageRequest
	job  ImageJob
	done int
}

// GenerateImage starts an image generation on the image slot's model. Each
// denoising step emits ImageProgress; the result is ImageDone.
func (s *Scheduler) GenerateImage(ctx context.Context, req *ImageRequest, sink Sink) (ModelInfo, error) {
	lease, gen, err := acquireAs[ImageGenerator](s.slots, ImageSlot, "image generator")
	if err != nil {
		return ModelInfo{}, err
	}
	t := &imageTask{taskBase: s.newBase(ctx, ImageSlot, sink, lease), gen: gen, req: req}
	if err := s.submit(t); err != nil {
		s.end(t.taskBase, nil)
		return ModelInfo{}, err
	}
	return gen.Info(), nil
}

func (t *imageTask) ready() bool { return true }

func (t *imageTask) step(s *Scheduler) bool {
	var final Event
	err := s.run(func() error {
		if t.job == nil {
			job, err := t.gen.Start(t.req)
			if err != nil {
				return err
			}
			t.job = job
			return nil
		}
		if t.done < t.job.Steps() {
			preview, err := t.job.Step()
			if err != nil {
				return err
			}
			t.done++
			t.sink.Emit(ImageProgress{Step: t.done, Steps: t.job.Steps(), Preview: preview})
			return nil
		}
		imgs, err := t.job.Result()
		if err != nil {
			return err
		}
		t.job.Release()
		final = ImageDone{Images: imgs}
		return nil
	})
	if err != nil {
		t.abort(s, fmt.Errorf("generate image: %w", err))
		return true
	}
	if final != nil {
		s.end(t.taskBase, final)
		return true
	}
	return false
}

func (t *imageTask) abort(s *Scheduler, err error) {
	if t.job != nil {
		_ = s.run(func() error { t.job.Release(); return nil })
	}
	s.end(t.taskBase, failure(err))
}
