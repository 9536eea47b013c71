package openai

import "github.com/ominix/ominix-api/pipeline"

// Object names, the "object" member of OpenAI's response objects.
const (
	ObjectChatCompletion      = "chat.completion"
	ObjectChatCompletionChunk = "chat.completion.chunk"
	ObjectList                = "list"
	ObjectModel               = "model"
)

// ChatCompletion is OpenAI's CreateChatCompletionResponse, the body of a
// non-streaming chat completion. Member order follows OpenAI's responses.
type ChatCompletion struct {
	ID                string           `json:"id"`
	Object            string           `json:"object"`
	Created           int64            `json:"created"`
	Model             string           `json:"model"`
	Choices           []ChatChoice     `json:"choices"`
	Usage             *CompletionUsage `json:"usage,omitempty"`
	SystemFingerprint string           `json:"system_fingerprint,omitempty"`
}

// ChatChoice is one choice of a ChatCompletion.
type ChatChoice struct {
	Index   int         `json:"index"`
	Message ChatMessage `json:"message"`
	// Logprobs is null unless the request asked for logprobs.
	Logprobs     *ChoiceLogprobs `json:"logprobs"`
	FinishReason string          `json:"finish_reason"`
}

// ChatMessage is OpenAI's ChatCompletionResponseMessage. Content is null
// when the message is only tool calls; Refusal is always null here (no
// engine refuses through a separate channel). ReasoningContent is the
// de-facto extension (DeepSeek, vLLM, llama.cpp) carrying the model's
// thinking text; OpenAI's SDKs keep unknown members, so clients that know it
// can read it.
type ChatMessage struct {
	Role             string           `json:"role"`
	Content          Nullable[string] `json:"content"`
	Refusal          Nullable[string] `json:"refusal"`
	ReasoningContent string           `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCall       `json:"tool_calls,omitempty"`
}

// ToolCall is OpenAI's ChatCompletionMessageToolCall: a complete function
// call. Type is always "function".
type ToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall names the function and carries its arguments as JSON text,
// as the model wrote them.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ChoiceLogprobs is the logprobs member of a choice. Refusal is always null.
type ChoiceLogprobs struct {
	Content []TokenLogprob `json:"content"`
	Refusal []TokenLogprob `json:"refusal"`
}

// TokenLogprob is OpenAI's ChatCompletionTokenLogprob. Bytes is a list of
// integers (never base64); TopLogprobs is an empty list, not null, when the
// request asked for none.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is one of the most likely tokens at a position.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// ChatCompletionChunk is OpenAI's CreateChatCompletionStreamResponse, one
// SSE data frame of a streamed completion. Usage is absent unless the request
// set stream_options.include_usage; then it is null on every chunk except the
// trailer, which has no choices.
type ChatCompletionChunk struct {
	ID                string                    `json:"id"`
	Object            string                    `json:"object"`
	Created           int64                     `json:"created"`
	Model             string                    `json:"model"`
	SystemFingerprint string                    `json:"system_fingerprint,omitempty"`
	Choices           []ChunkChoice             `json:"choices"`
	Usage             Nullable[CompletionUsage] `json:"usage,omitzero"`
}

// ChunkChoice is one choice of a chunk. FinishReason is null until the
// choice's last chunk; Logprobs is null on chunks without content tokens.
type ChunkChoice struct {
	Index        int             `json:"index"`
	Delta        ChatDelta       `json:"delta"`
	Logprobs     *ChoiceLogprobs `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

// ChatDelta is OpenAI's ChatCompletionStreamResponseDelta. Every member is
// optional: the first chunk carries the role (with content "" and refusal
// null, as OpenAI sends), later chunks one kind of fragment each, the last
// chunk none. ReasoningContent is the reasoning extension, see ChatMessage.
type ChatDelta struct {
	Role             string           `json:"role,omitempty"`
	Content          Nullable[string] `json:"content,omitzero"`
	ReasoningContent string           `json:"reasoning_content,omitempty"`
	ToolCalls        []ToolCallChunk  `json:"tool_calls,omitempty"`
	Refusal          Nullable[string] `json:"refusal,omitzero"`
}

// ToolCallChunk is OpenAI's ChatCompletionMessageToolCallChunk. The first
// fragment of a call has Index, ID, Type "function" and the function name
// with empty arguments; later fragments have Index and an arguments piece.
type ToolCallChunk struct {
	Index    int                   `json:"index"`
	ID       string                `json:"id,omitempty"`
	Type     string                `json:"type,omitempty"`
	Function ToolCallChunkFunction `json:"function"`
}

// ToolCallChunkFunction is the function part of a ToolCallChunk.
type ToolCallChunkFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

// CompletionUsage is OpenAI's CompletionUsage. The details objects are
// always present, with zeros for what does not apply, as OpenAI sends them.
type CompletionUsage struct {
	PromptTokens            int                     `json:"prompt_tokens"`
	CompletionTokens        int                     `json:"completion_tokens"`
	TotalTokens             int                     `json:"total_tokens"`
	PromptTokensDetails     PromptTokensDetails     `json:"prompt_tokens_details"`
	CompletionTokensDetails CompletionTokensDetails `json:"completion_tokens_details"`
}

// PromptTokensDetails breaks down prompt tokens; CachedTokens are prompt
// tokens served from a reused KV cache.
type PromptTokensDetails struct {
	CachedTokens int `json:"cached_tokens"`
	AudioTokens  int `json:"audio_tokens"`
}

// CompletionTokensDetails breaks down completion tokens; ReasoningTokens
// are those generated inside the model's thinking block (they are included
// in CompletionTokens).
type CompletionTokensDetails struct {
	ReasoningTokens          int `json:"reasoning_tokens"`
	AudioTokens              int `json:"audio_tokens"`
	AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
	RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
}

// NewUsage converts pipeline usage to OpenAI's CompletionUsage; TotalTokens
// is prompt plus completion tokens.
func NewUsage(u pipeline.Usage) CompletionUsage {
	return CompletionUsage{
		PromptTokens:            u.PromptTokens,
		CompletionTokens:        u.CompletionTokens,
		TotalTokens:             u.PromptTokens + u.CompletionTokens,
		PromptTokensDetails:     PromptTokensDetails{CachedTokens: u.CachedTokens},
		CompletionTokensDetails: CompletionTokensDetails{ReasoningTokens: u.ReasoningTokens},
	}
}

// NewTokenLogprob converts one pipeline token logprob, with its
// alternatives, to OpenAI's shape.
func NewTokenLogprob(lp pipeline.TokenLogprobs) TokenLogprob {
	top := make([]TopLogprob, len(lp.Top))
	for i, t := range lp.Top {
		top[i] = TopLogprob{Token: t.Token, Logprob: t.Logprob, Bytes: byteList(t.Bytes, t.Token)}
	}
	return TokenLogprob{
		Token:       lp.Token,
		Logprob:     lp.Logprob,
		Bytes:       byteList(lp.Bytes, lp.Token),
		TopLogprobs: top,
	}
}

// byteList returns b as a list of integers; when b is nil it uses the
// token's own UTF-8 bytes, which is what b means for text tokens.
func byteList(b []byte, token string) []int {
	if b == nil {
		b = []byte(token)
	}
	out := make([]int, len(b))
	for i, c := range b {
		out[i] = int(c)
	}
	return out
}

// Model is OpenAI's Model object in GET /v1/models.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
}

// ModelList is OpenAI's ListModelsResponse. Data is never null.
type ModelList struct {
	Object string  `json:"object"`
	Data   []Model `json:"data"`
}

// NewModel describes a loaded model. OwnedBy defaults to "ominix".
func NewModel(info pipeline.ModelInfo) Model {
	owner := info.OwnedBy
	if owner == "" {
		owner = "ominix"
	}
	return Model{ID: info.ID, Object: ObjectModel, Created: info.Created, OwnedBy: owner}
}

// NewModelList lists the given models in order.
func NewModelList(infos []pipeline.ModelInfo) ModelList {
	data := make([]Model, 0, len(infos))
	for _, info := range infos {
		data = append(data, NewModel(info))
	}
	return ModelList{Object: ObjectList, Data: data}
}
