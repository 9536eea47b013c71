package pipeline

import "encoding/json"

// Message is one chat message after transport-level validation. Content is
// the text of the message (multi-part text content already joined).
type Message struct {
	Role       string     `json:"role"` // system, developer, user, assistant, tool
	Content    string     `json:"content"`
	Name       string     `json:"name,omitempty"`
	Reasoning  string     `json:"reasoning_content,omitempty"` // earlier assistant thinking, if the client sends it back
	ToolCalls  []ToolCall `json:"tool_calls,omitempty"`
	ToolCallID string     `json:"tool_call_id,omitempty"`
}

// ToolCall is a complete function call made by the assistant.
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"` // JSON text, as the model wrote it
}

// Tool is a function the model may call.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"` // JSON Schema object
	Strict      bool            `json:"strict,omitempty"`
}

// ToolChoice says whether and which tools the model may call.
type ToolChoice struct {
	Mode string `json:"mode"` // "auto" (zero value), "none", "required" or "function"
	Name string `json:"name,omitempty"`
}

// Sampling holds decoding parameters. Nil pointers mean "the model's default"
// (generation_config.json), which is greedy when the model names none.
type Sampling struct {
	Temperature       *float64 `json:"temperature,omitempty"`
	TopP              *float64 `json:"top_p,omitempty"`
	TopK              *int     `json:"top_k,omitempty"`
	MinP              *float64 `json:"min_p,omitempty"`
	PresencePenalty   float64  `json:"presence_penalty,omitempty"`
	FrequencyPenalty  float64  `json:"frequency_penalty,omitempty"`
	RepetitionPenalty float64  `json:"repetition_penalty,omitempty"` // 0 or 1 means off
	Seed              *int64   `json:"seed,omitempty"`
}

// ChatRequest is a validated chat completion request.
type ChatRequest struct {
	Model      string     `json:"model"`
	Messages   []Message  `json:"messages"`
	Tools      []Tool     `json:"tools,omitempty"`
	ToolChoice ToolChoice `json:"tool_choice"`
	// MaxTokens bounds the completion. Zero means "up to the context length".
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Sampling    Sampling `json:"sampling"`
	Stop        []string `json:"stop,omitempty"` // at most 4 strings, never emitted
	Logprobs    bool     `json:"logprobs,omitempty"`
	TopLogprobs int      `json:"top_logprobs,omitempty"` // 0..20
	// EnableThinking is passed to chat templates that accept it (Qwen3);
	// nil means the template's default.
	EnableThinking *bool `json:"enable_thinking,omitempty"`
	// TemplateKwargs are extra variables for the chat template.
	TemplateKwargs map[string]any `json:"chat_template_kwargs,omitempty"`
}
