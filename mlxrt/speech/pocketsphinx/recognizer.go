//go:build cgo && pocketsphinx

package pocketsphinx

/*
#cgo pkg-config: pocketsphinx sphinxbase
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/cmn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

// The library logs through one process-wide callback. Ours drops
// information messages and keeps the last error, so that a failed load can
// say why; a mutex guards it because loads and decoding run on different
// threads.
static pthread_mutex_t ominix_ps_mu = PTHREAD_MUTEX_INITIALIZER;
static char ominix_ps_err[512];

static void ominix_ps_log(void *ud, err_lvl_t lvl, const char *fmt, ...) {
	if (lvl < ERR_ERROR) return;
	char buf[sizeof ominix_ps_err];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&ominix_ps_mu);
	memcpy(ominix_ps_err, buf, sizeof buf);
	pthread_mutex_unlock(&ominix_ps_mu);
}

// err_set_logfp(NULL) stops the direct writes (the configuration dump)
// to stderr; the callback then receives every message.
static void ominix_ps_init_log(void) {
	err_set_logfp(NULL);
	err_set_callback(ominix_ps_log, NULL);
}

// ominix_ps_last_error copies and clears the last error message.
static void ominix_ps_last_error(char *out, size_t n) {
	pthread_mutex_lock(&ominix_ps_mu);
	snprintf(out, n, "%s", ominix_ps_err);
	ominix_ps_err[0] = 0;
	pthread_mutex_unlock(&ominix_ps_mu);
}

// The front end's own voice-activity detection (-remove_silence, on by
// default) drops frames it judges silent, and word timestamps then drift
// by the pauses inside an utterance; segmenting is the caller's job (the
// pipeline's VAD), so every frame is decoded.
static ps_decoder_t *ominix_ps_new(const char *hmm, const char *lm, const char *dict, int *frate) {
	cmd_ln_t *cfg = cmd_ln_init(NULL, ps_args(), TRUE,
		"-hmm", hmm, "-lm", lm, "-dict", dict, "-remove_silence", "no", NULL);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	if (ps != NULL) *frate = cmd_ln_int32_r(cfg, "-frate");
	cmd_ln_free_r(cfg); // the decoder keeps its own reference
	return ps;
}

// The cepstral mean estimate adapts across utterances of a decoder. A
// stream starts from the estimate the decoder had when it was created, so
// that a pooled decoder carries nothing over from its previous stream, but
// weighted as only prior frames so that it adapts within the first
// utterance; ominix_ps_cmn_update folds the frames seen so far into the
// mean and runs after every chunk.
static mfcc_t *ominix_ps_cmn_save(ps_decoder_t *ps) {
	cmn_t *c = ps_get_feat(ps)->cmn_struct;
	if (c == NULL) return NULL;
	mfcc_t *v = malloc(c->veclen * sizeof(mfcc_t));
	if (v != NULL) cmn_live_get(c, v);
	return v;
}

static void ominix_ps_cmn_restore(ps_decoder_t *ps, mfcc_t const *v, int prior) {
	cmn_t *c = ps_get_feat(ps)->cmn_struct;
	if (c == NULL || v == NULL) return;
	cmn_live_set(c, v);
	if (prior > 0) {
		for (int i = 0; i < c->veclen; i++) c->sum[i] = v[i] * prior;
		c->nframe = prior;
	}
}

void ominix_ps_cmn_update(ps_decoder_t *ps) {
	cmn_t *c = ps_get_feat(ps)->cmn_struct;
	if (c != NULL) cmn_live_update(c);
}

double ominix_ps_logprob(ps_decoder_t *ps) {
	return logmath_log_to_ln(ps_get_logmath(ps), ps_get_prob(ps));
}
*/
import "C"

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/ominix/ominix-api/pipeline"
)

// Available reports nil when the engine is compiled in and Debian's en-us
// model is installed; otherwise a KindUnavailable error that says what to
// install.
func Available() error {
	if err := DefaultPaths().Check(); err != nil {
		return modelMissing(err)
	}
	return nil
}

// cmnPriorFrames is how many frames (10 ms each) the model's initial
// cepstral mean counts for when a stream starts. The library's own weight
// (500 frames, updated only at the end of an utterance) leaves the first
// utterance of a stream normalized by the prior alone, which costs accuracy
// on any channel unlike the training data (the flite round trip's word error
// rate falls from 0.12 to 0.07 with a one-second prior updated per chunk).
const cmnPriorFrames = 100

var (
	logOnce sync.Once
	// createMu serializes decoder creation so that the error captured by
	// the log callback belongs to the load that failed.
	createMu sync.Mutex
)

// recognizer implements pipeline.Transcriber over a pool of decoders.
type recognizer struct {
	info  pipeline.ModelInfo
	opts  Options
	frate int // feature frames per second

	mu     sync.Mutex
	free   []*decoder
	closed bool
}

// decoder is one PocketSphinx decoder and the cepstral mean it started with.
type decoder struct {
	ps   *C.ps_decoder_t
	cmn0 *C.mfcc_t // C memory; nil when the model has no CMN
}

func (d *decoder) free() {
	C.ps_free(d.ps)
	C.free(unsafe.Pointer(d.cmn0))
}

var (
	_ pipeline.Transcriber    = (*recognizer)(nil)
	_ pipeline.LanguageLister = (*recognizer)(nil)
)

// New loads the model at paths and creates opts.Decoders decoders. It reads
// files for a while (about 0.6 s per decoder) and should run off the pinned
// thread; ctx is checked between decoders. The default model missing is a
// KindUnavailable error; other paths missing or unloadable are KindInvalid
// errors with Param "model" carrying the library's complaint. Some
// malformed model files make the library exit the process instead of
// failing (sphinxbase's E_FATAL); paths are checked for presence first,
// but only load model directories you trust.
func New(ctx context.Context, paths ModelPaths, opts *Options) (pipeline.Transcriber, error) {
	o := opts.withDefaults()
	if err := paths.Check(); err != nil {
		if paths == DefaultPaths() {
			return nil, modelMissing(err)
		}
		return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "model", Message: "load pocketsphinx: " + err.Error(), Err: err}
	}
	logOnce.Do(func() { C.ominix_ps_init_log() })
	r := &recognizer{opts: o, info: pipeline.ModelInfo{
		ID:       "pocketsphinx-" + modelName(paths.LM),
		Category: pipeline.ASRSlot,
		Family:   "pocketsphinx",
		Created:  time.Now().Unix(),
	}}
	for i := range o.Decoders {
		if ctx.Err() != nil {
			r.Close()
			return nil, fmt.Errorf("load pocketsphinx: %w", context.Cause(ctx))
		}
		d, frate, err := newDecoder(paths)
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("load pocketsphinx: decoder %d of %d: %w", i+1, o.Decoders, err)
		}
		r.frate = frate
		r.free = append(r.free, d)
	}
	return r, nil
}

// modelName is the language model's file name without its extensions:
// "en-us.lm.bin" → "en-us".
func modelName(lm string) string {
	base := filepath.Base(lm)
	if i := strings.Index(strings.ToLower(base), ".lm"); i > 0 {
		return base[:i]
	}
	return base
}

func newDecoder(p ModelPaths) (*decoder, int, error) {
	hmm, lm, dict := C.CString(p.HMM), C.CString(p.LM), C.CString(p.Dict)
	defer C.free(unsafe.Pointer(hmm))
	defer C.free(unsafe.Pointer(lm))
	defer C.free(unsafe.Pointer(dict))
	createMu.Lock()
	defer createMu.Unlock()
	var frate C.int
	ps := C.ominix_ps_new(hmm, lm, dict, &frate)
	if ps == nil {
		return nil, 0, &pipeline.Error{Kind: pipeline.KindInvalid, Param: "model",
			Message: "the library rejected the model: " + lastError()}
	}
	if frate <= 0 {
		C.ps_free(ps)
		return nil, 0, fmt.Errorf("decoder reports frame rate %d", frate)
	}
	return &decoder{ps: ps, cmn0: C.ominix_ps_cmn_save(ps)}, int(frate), nil
}

func lastError() string {
	var buf [512]C.char
	C.ominix_ps_last_error(&buf[0], C.size_t(len(buf)))
	if msg := strings.TrimSpace(C.GoString(&buf[0])); msg != "" {
		return msg
	}
	return "no reason given"
}

func (r *recognizer) Info() pipeline.ModelInfo { return r.info }

// Languages is ["en"]: Debian's model is US English, and the scheduler
// refuses recognition in any other language rather than answer French
// speech with English words.
func (r *recognizer) Languages() []string { return []string{"en"} }

// InputRate is 16000: streams take 16 kHz mono audio.
func (r *recognizer) InputRate() int { return InputRate }

// NewStream takes a decoder from the pool for a new stream; Close gives it
// back. With every decoder in use it fails with a KindOverloaded error
// (code "asr_streams_exhausted", RetryAfter one second); after Close of the
// recognizer it fails with KindUnavailable. Options are accepted as
// documented on pipeline.TranscribeOptions: the engine knows only US
// English (Languages; the scheduler refuses other languages before a
// stream starts) and ignores Prompt and Temperature; Words adds word
// timings to transcripts.
func (r *recognizer) NewStream(opts pipeline.TranscribeOptions) (pipeline.TranscribeStream, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, &pipeline.Error{Kind: pipeline.KindUnavailable, Code: "model_unloaded", Message: "the speech recognizer was unloaded"}
	}
	if len(r.free) == 0 {
		return nil, &pipeline.Error{
			Kind:       pipeline.KindOverloaded,
			Code:       "asr_streams_exhausted",
			Message:    fmt.Sprintf("all %d speech recognition streams are in use; try again shortly", r.opts.Decoders),
			RetryAfter: time.Second,
		}
	}
	d := r.free[len(r.free)-1]
	r.free = r.free[:len(r.free)-1]
	C.ominix_ps_cmn_restore(d.ps, d.cmn0, cmnPriorFrames)
	return &stream{r: r, d: d, ps: d.ps, words: opts.Words}, nil
}

// release returns a decoder to the pool, or frees it once the recognizer
// is closed.
func (r *recognizer) release(d *decoder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		d.free()
		return
	}
	r.free = append(r.free, d)
}

// Close frees the idle decoders; decoders still held by open streams are
// freed when those streams close. It runs on the pinned thread and may be
// called more than once.
func (r *recognizer) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	for _, d := range r.free {
		d.free()
	}
	r.free = nil
	return nil
}
