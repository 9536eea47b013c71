//go:build cgo && flite

package flite

/*
#cgo LDFLAGS: -lflite_cmu_us_slt -lflite_cmu_us_kal -lflite_cmu_us_kal16 -lflite_cmu_us_awb -lflite_cmu_us_rms -lflite_usenglish -lflite_cmulex -lflite -lm
#include <flite/flite.h>
#include <setjmp.h>
#include <stdlib.h>

cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_kal(const char *voxdir);
cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);

static cst_voice *ominix_flite_register(int i) {
	switch (i) {
	case 0: return register_cmu_us_slt(NULL);
	case 1: return register_cmu_us_kal(NULL);
	case 2: return register_cmu_us_kal16(NULL);
	case 3: return register_cmu_us_awb(NULL);
	case 4: return register_cmu_us_rms(NULL);
	}
	return NULL;
}

// ominix_flite_synth speaks text with voice v at the given duration
// stretch. Flite reports internal errors with cst_error(), which exits the
// process unless cst_errjmp is set; we set it so that such an error comes
// back here (leaking the half-built utterance) and *failed is set.
static cst_wave *ominix_flite_synth(const char *text, cst_voice *v, float stretch, int *failed) {
	jmp_buf jb;
	jmp_buf *saved = cst_errjmp;
	cst_wave *volatile w = NULL;
	*failed = 0;
	feat_set_float(v->features, "duration_stretch", stretch);
	cst_errjmp = &jb;
	if (setjmp(jb) == 0) {
		w = flite_text_to_wave(text, v);
	} else {
		*failed = 1;
		w = NULL;
	}
	cst_errjmp = saved;
	return w;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"time"
	"unsafe"

	"github.com/ominix/ominix-api/mlxrt/speech"
	"github.com/ominix/ominix-api/pipeline"
)

// Available reports nil: the engine is compiled in (its voices are linked
// into the binary, so nothing else needs installing).
func Available() error { return nil }

// voiceOrder is the index ominix_flite_register takes.
var voiceOrder = []string{"slt", "kal", "kal16", "awb", "rms"}

// Flite's process-wide state: initialized once, voices registered once and
// reused by every synthesizer; libMu keeps two threads out of the library.
var (
	libMu     sync.Mutex
	libVoices map[string]*C.cst_voice
	libErr    error
)

// initLibrary initializes Flite and registers the voices, once per process.
// The caller holds libMu.
func initLibrary() error {
	if libVoices != nil || libErr != nil {
		return libErr
	}
	C.flite_init()
	vs := make(map[string]*C.cst_voice, len(voiceOrder))
	for i, name := range voiceOrder {
		v := C.ominix_flite_register(C.int(i))
		if v == nil {
			libErr = fmt.Errorf("flite: register voice %s failed", name)
			return libErr
		}
		vs[name] = v
	}
	libVoices = vs
	return nil
}

// synthesizer implements pipeline.Synthesizer with Flite.
type synthesizer struct {
	info   pipeline.ModelInfo
	opts   Options
	mu     sync.Mutex
	closed bool
}

var (
	_ pipeline.Synthesizer = (*synthesizer)(nil)
	_ pipeline.Activator   = (*synthesizer)(nil)
)

// New returns a Flite synthesizer. It touches no Flite state; Activate (or
// the first Synthesize) does, on the pinned thread.
func New(opts *Options) (pipeline.Synthesizer, error) {
	return &synthesizer{opts: opts.withDefaults(), info: pipeline.ModelInfo{
		ID:       speech.FliteID,
		Category: pipeline.TTSSlot,
		Family:   "flite",
		Created:  time.Now().Unix(),
	}}, nil
}

func (s *synthesizer) Info() pipeline.ModelInfo { return s.info }

// Activate initializes Flite and registers its voices, once per process. It
// runs on the pinned thread.
func (s *synthesizer) Activate() error {
	libMu.Lock()
	defer libMu.Unlock()
	if err := initLibrary(); err != nil {
		return fmt.Errorf("activate flite: %w", err)
	}
	return nil
}

// Voices lists Flite's voices and the OpenAI voice names mapped onto them.
func (s *synthesizer) Voices() []string { return Voices() }

// Synthesize speaks text on the pinned thread and returns it at the voice's
// own rate (8 kHz for kal, 16 kHz for the others). opts.Speed scales the
// tempo (Flite's duration_stretch is 1/speed); Instructions are ignored.
// Empty or all-space text gives empty audio. Errors: an unknown voice is
// KindInvalid with Param "voice" listing the valid ones; a cloned or custom
// voice is speech.ErrNoVoiceCloning; speed outside [0.25, 4] is KindInvalid
// with Param "speed"; text over Options.MaxChars is KindInvalid with Param
// "input"; after Close, KindUnavailable.
func (s *synthesizer) Synthesize(text string, opts pipeline.SpeechOptions) (pipeline.Audio, error) {
	req, err := validate(text, opts, s.opts.MaxChars)
	if err != nil {
		return pipeline.Audio{}, err
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return pipeline.Audio{}, &pipeline.Error{Kind: pipeline.KindUnavailable, Code: "model_unloaded", Message: "the speech synthesizer was unloaded"}
	}
	rate := VoiceRate(req.voice)
	if req.text == "" {
		return pipeline.Audio{Rate: rate}, nil
	}
	return speak(req)
}

var errSynth = errors.New("flite: synthesis failed")

func speak(req request) (pipeline.Audio, error) {
	libMu.Lock()
	defer libMu.Unlock()
	if err := initLibrary(); err != nil {
		return pipeline.Audio{}, err
	}
	ctext := C.CString(req.text)
	defer C.free(unsafe.Pointer(ctext))
	var failed C.int
	w := C.ominix_flite_synth(ctext, libVoices[req.voice], C.float(req.stretch), &failed)
	if failed != 0 || w == nil {
		return pipeline.Audio{}, fmt.Errorf("%w: voice %s, %d bytes of text", errSynth, req.voice, len(req.text))
	}
	defer C.delete_wave(w)
	frames, ch := int(w.num_samples), max(1, int(w.num_channels))
	if frames < 0 || w.sample_rate <= 0 || (frames > 0 && w.samples == nil) {
		return pipeline.Audio{}, fmt.Errorf("%w: malformed wave (%d samples at %d Hz)", errSynth, frames, int(w.sample_rate))
	}
	out := pipeline.Audio{Rate: int(w.sample_rate), Samples: make([]float32, frames)}
	if frames > 0 {
		// Flite's voices are mono; should a wave carry more channels, the
		// first one is kept.
		pcm := unsafe.Slice((*int16)(unsafe.Pointer(w.samples)), frames*ch)
		for i := range out.Samples {
			out.Samples[i] = float32(pcm[i*ch]) / 32768
		}
	}
	return out, nil
}

// Close marks the synthesizer unloaded. Flite's voices stay registered for
// the life of the process (they are static data of the linked libraries and
// the next synthesizer reuses them). It may be called more than once.
func (s *synthesizer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}
