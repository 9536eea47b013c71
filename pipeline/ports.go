package pipeline

import (
	"context"
	"image"
)

// Category names a model slot. Each category holds at most one model.
type Category string

// The slot categories.
const (
	LLMSlot   Category = "llm"
	ASRSlot   Category = "asr"
	TTSSlot   Category = "tts"
	ImageSlot Category = "image"
)

// Categories lists every slot category in a fixed order.
var Categories = []Category{LLMSlot, ASRSlot, TTSSlot, ImageSlot}

// ToolFormat names the way a model family writes tool calls in its output.
type ToolFormat string

// Tool-call formats the pipeline can parse out of generated text.
const (
	ToolsNone    ToolFormat = ""
	ToolsHermes  ToolFormat = "hermes"  // <tool_call>{"name":…,"arguments":…}</tool_call> (Qwen2/2.5/3)
	ToolsMistral ToolFormat = "mistral" // [TOOL_CALLS][{"name":…,"arguments":…}] (Mistral v0.3+)
	ToolsLlama3  ToolFormat = "llama3"  // a bare {"name":…,"parameters":…} object (Llama 3.1+)
)

// ModelInfo describes a loaded model.
type ModelInfo struct {
	ID       string   // public name, shown in /v1/models
	Category Category // the slot it lives in
	Family   string   // e.g. "qwen3", "llama", "pocketsphinx", "flite"
	OwnedBy  string   // shown in /v1/models; zero value means "ominix"
	Created  int64    // unix seconds the model was loaded

	// LLM only.
	ContextLength int // tokens of prompt plus completion the model accepts
	// DefaultMaxTokens is the completion budget of a request that sets
	// none (generation_config.json's max_new_tokens); zero means the rest
	// of the context.
	DefaultMaxTokens int
	ToolFormat       ToolFormat // how tool calls appear in the output
	ThinkOpen        string     // reasoning block delimiters, e.g. "<think>"; empty when the model has none
	ThinkClose       string
}

// Model is anything a slot can hold.
type Model interface {
	Info() ModelInfo
	// Close frees the model. It runs on the pinned thread, after every
	// sequence or stream of the model has been released.
	Close() error
}

// Activator is implemented by models that need set-up on the pinned thread
// after Loader.Load returned (creating native decoders, uploading weights to
// a GPU). A failed Activate discards the model and keeps the previous one.
type Activator interface {
	Activate() error
}

// ModelRef names a model to load: a hub id ("org/name") or a local directory
// already checked against the allowed model roots.
type ModelRef struct {
	Category Category
	Name     string
}

// Loader opens models. Load runs off the pinned thread (it reads files, maps
// weights, may download); it must honour ctx and return a model that has not
// yet touched thread-bound state.
type Loader interface {
	Load(ctx context.Context, ref ModelRef) (Model, error)
}

// LoaderFunc adapts a function to Loader.
type LoaderFunc func(ctx context.Context, ref ModelRef) (Model, error)

// Load calls f.
func (f LoaderFunc) Load(ctx context.Context, ref ModelRef) (Model, error) { return f(ctx, ref) }

// LLM is a language model that generates step by step over a batch of
// sequences (continuous batching: sequences join and leave between steps).
type LLM interface {
	Model
	// Prepare renders req with the model's chat template and tokenizes it.
	// It may run on any goroutine, concurrently with Step, and must not touch
	// pinned-thread state. A prompt that does not fit the context fails with
	// a KindInvalid *Error whose Code is "context_length_exceeded".
	Prepare(req *ChatRequest) (Sequence, error)
	// Step advances every sequence in batch by one step on the pinned thread:
	// sequences still reading their prompt consume the next prefill chunk
	// (and sample their first token once the prompt is done); the others
	// decode one token. out has len(batch); Step fills out[i] for batch[i].
	// An error fails the whole batch; per-sequence failures go in out[i].Err.
	Step(batch []Sequence, out []TokenOutput) error
}

// Sequence is one generation in progress: the prompt, its KV cache, the
// sampler state and the incremental detokenizer.
type Sequence interface {
	// PromptTokens is the number of tokens of the rendered prompt.
	PromptTokens() int
	// InReasoning reports whether the rendered prompt leaves the model inside
	// its thinking block, so that output starts as reasoning text.
	InReasoning() bool
	// Release frees the sequence's cache. It runs on the pinned thread and may
	// be called more than once; a sequence that was never passed to Step
	// holds no thread state and may be released from any goroutine.
	Release()
}

// TextFlusher is implemented by sequences whose detokenizer may hold back
// bytes (the start of a UTF-8 character). When the scheduler ends a
// generation that the model did not end (max tokens), it calls FlushText,
// from the scheduler loop between steps, and emits what it returns.
type TextFlusher interface {
	FlushText() string
}

// TokenOutput is what one Step produced for one sequence.
type TokenOutput struct {
	Prefilled int  // prompt tokens consumed by this step
	Sampled   bool // a token was generated (false while the prompt is still being read)
	Token     int  // the generated token id
	// Text is the text this token completes, ready to show: incremental
	// detokenization never splits a UTF-8 character, so Text may be empty
	// and a later token may carry more than its own bytes. Special tokens of
	// the family's tool-call and reasoning syntax appear as text; other
	// control tokens do not.
	Text string
	// EOS is set when the token ends generation (end-of-sequence or another
	// stop token of the model); Text then holds anything left to flush.
	EOS bool
	// Logprobs describes the sampled token when the request asked for them.
	Logprobs *TokenLogprobs
	Err      error
}

// TranscribeOptions configure a recognition stream.
type TranscribeOptions struct {
	Language    string  // ISO-639-1 hint; engines ignore languages they lack
	Prompt      string  // vocabulary hint, where the engine can use it
	Temperature float64 // ignored by engines without sampling
	Words       bool    // ask for word timestamps where the engine can
}

// Transcriber is a streaming speech recognizer.
type Transcriber interface {
	Model
	// InputRate is the sample rate, in Hz, that streams expect.
	InputRate() int
	// NewStream starts a recognition stream on the pinned thread.
	NewStream(opts TranscribeOptions) (TranscribeStream, error)
}

// TranscribeStream recognizes one utterance at a time. All methods run on
// the pinned thread; each call is one small step.
type TranscribeStream interface {
	// Accept decodes mono samples at the Transcriber's InputRate and returns
	// the current hypothesis of the open utterance ("" when none yet).
	Accept(samples []float32) (string, error)
	// EndUtterance finishes the open utterance and returns its transcript;
	// the stream is then ready for the next utterance.
	EndUtterance() (Transcript, error)
	// Close frees the stream. It may be called more than once.
	Close()
}

// Transcript is a finished recognition result. Times are seconds from the
// start of the utterance's audio.
type Transcript struct {
	Text     string    `json:"text"`
	Language string    `json:"language,omitempty"`
	Duration float64   `json:"duration"`
	Segments []Segment `json:"segments,omitempty"`
	Words    []Word    `json:"words,omitempty"`
}

// Segment is a stretch of a transcript.
type Segment struct {
	Start   float64 `json:"start"`
	End     float64 `json:"end"`
	Text    string  `json:"text"`
	Logprob float64 `json:"avg_logprob"`
}

// Word is one recognized word with its timing.
type Word struct {
	Word  string  `json:"word"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// SpeechOptions configure one synthesis call.
type SpeechOptions struct {
	Voice        string  // engine voice or an OpenAI voice name the engine maps
	Speed        float64 // 0.25..4; zero means 1
	Instructions string  // style hints; engines that cannot follow them ignore them
}

// Synthesizer is a text-to-speech engine that speaks a short unit of text
// (a sentence or clause) per call, so long inputs interleave with other work.
type Synthesizer interface {
	Model
	// Voices lists the voices the engine accepts, OpenAI names included.
	Voices() []string
	// Synthesize speaks text on the pinned thread. An unknown voice is a
	// KindInvalid *Error with Param "voice".
	Synthesize(text string, opts SpeechOptions) (Audio, error)
}

// ImageRequest is a validated image generation request.
type ImageRequest struct {
	Prompt string
	Width  int
	Height int
	Steps  int   // zero means the model's default
	Seed   int64 // zero means random
	N      int
}

// ImageGenerator is a diffusion model run one denoising step at a time.
type ImageGenerator interface {
	Model
	// Start prepares a job on the pinned thread.
	Start(req *ImageRequest) (ImageJob, error)
}

// ImageJob is one image generation in progress; its methods run on the
// pinned thread.
type ImageJob interface {
	// Steps is the number of denoising steps in total.
	Steps() int
	// Step runs the next denoising step and may return a preview decoded
	// from the intermediate latents (nil when it has none).
	Step() (preview image.Image, err error)
	// Result decodes the final images after the last step.
	Result() ([]image.Image, error)
	// Release frees the job; it may be called more than once.
	Release()
}
