// Package openai is the OpenAI wire format of ominix-api: request decoding
// and validation, response and event types that follow OpenAI's OpenAPI
// schemas, and pure encoders that turn pipeline events into the exact bytes
// OpenAI clients expect. It does no HTTP and no I/O.
//
// Use DecodeChatRequest to turn a POST /v1/chat/completions body into a
// validated pipeline.ChatRequest (every failure is a *pipeline.Error of kind
// KindInvalid naming the offending field); use ChatStream to encode a
// streamed completion (stream: true) as SSE frames, and ChatAggregator to
// build the non-streaming chat.completion object from the same events; use
// NewError to turn any error into OpenAI's error object; use the
// transcription and speech types with FormatSRT and FormatVTT for the audio
// endpoints.
//
// Everything here is safe for concurrent use except ChatStream and
// ChatAggregator values, which belong to one response each.
package openai
