package openai

import "github.com/ominix/ominix-api/pipeline"

// Error types, the "type" member of OpenAI's error object, as OpenAI uses
// them: invalid_request_error for anything wrong with the request (including
// a bad API key, code invalid_api_key, and an unknown model, code
// model_not_found), "requests" for request rate limits (code
// rate_limit_exceeded) and server_error for failures on our side.
const (
	TypeInvalidRequest = "invalid_request_error"
	TypeRateLimit      = "requests"
	TypeServer         = "server_error"
)

// Default codes used when a *pipeline.Error carries none.
const (
	CodeInvalidAPIKey      = "invalid_api_key"
	CodeRateLimitExceeded  = "rate_limit_exceeded"
	CodeServiceUnavailable = "service_unavailable"
	CodeCancelled          = "cancelled"
	CodeTimeout            = "timeout"
)

// InternalMessage is what clients see for errors that carry no message of
// their own. The cause is for logs only.
const InternalMessage = "The server had an error while processing your request."

// ErrorResponse is OpenAI's ErrorResponse: {"error": {...}}. It is the body
// of every failed HTTP response and the data of a mid-stream error frame.
type ErrorResponse struct {
	Error ErrorObject `json:"error"`
}

// ErrorObject is OpenAI's Error. Param and Code are null when unknown.
type ErrorObject struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// NewError converts err to OpenAI's error object. A *pipeline.Error keeps its
// message, param and code; its kind picks the type and a default code. Any
// other error is internal and shows only InternalMessage.
func NewError(err error) ErrorObject {
	e := pipeline.AsError(err)
	if e == nil {
		e = &pipeline.Error{Kind: pipeline.KindInternal}
	}
	typ, code := TypeInvalidRequest, e.Code
	switch e.Kind {
	case pipeline.KindInvalid, pipeline.KindNotFound, pipeline.KindTooLarge:
	case pipeline.KindUnauthorized:
		code = or(code, CodeInvalidAPIKey)
	case pipeline.KindOverloaded:
		typ, code = TypeRateLimit, or(code, CodeRateLimitExceeded)
	case pipeline.KindUnavailable:
		typ, code = TypeServer, or(code, CodeServiceUnavailable)
	case pipeline.KindCancelled:
		typ, code = TypeServer, or(code, CodeCancelled)
	case pipeline.KindTimeout:
		typ, code = TypeServer, or(code, CodeTimeout)
	default:
		typ = TypeServer
	}
	msg := e.Message
	if msg == "" || (e.Kind == pipeline.KindInternal && msg == "internal error") {
		msg = InternalMessage
	}
	return ErrorObject{Message: msg, Type: typ, Param: optional(e.Param), Code: optional(code)}
}

// NewErrorResponse wraps NewError(err) in OpenAI's ErrorResponse.
func NewErrorResponse(err error) ErrorResponse { return ErrorResponse{Error: NewError(err)} }

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
