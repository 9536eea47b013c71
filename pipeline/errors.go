package pipeline

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrorKind classifies failures so that every transport maps them to a
// status and an OpenAI error type in one place.
type ErrorKind int

// Error kinds. The comment gives the HTTP status transports use.
const (
	KindInternal     ErrorKind = iota // 500 server_error
	KindInvalid                       // 400 invalid_request_error
	KindNotFound                      // 404 invalid_request_error
	KindTooLarge                      // 413 invalid_request_error
	KindOverloaded                    // 429 rate_limit_exceeded, with RetryAfter
	KindUnavailable                   // 503 service_unavailable (no model, shutting down), with RetryAfter
	KindUnauthorized                  // 401 invalid_api_key
	KindCancelled                     // 499 (client gone) or a final "cancelled" event
	KindTimeout                       // 504
)

// Error is the error type the pipeline and its engines return to clients.
// Message is safe to show to the caller; Err, if set, is the internal cause
// and is logged, never sent.
type Error struct {
	Kind       ErrorKind
	Message    string
	Param      string        // request field at fault, if any
	Code       string        // OpenAI-style machine code, e.g. "context_length_exceeded"
	RetryAfter time.Duration // for KindOverloaded and KindUnavailable
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrOverloaded) and similar sentinel checks match on kind.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Kind == e.Kind
}

// Sentinels for errors.Is: they match any *Error of the same kind.
var (
	ErrOverloaded  = &Error{Kind: KindOverloaded}
	ErrUnavailable = &Error{Kind: KindUnavailable}
	ErrInvalid     = &Error{Kind: KindInvalid}
	ErrNotFound    = &Error{Kind: KindNotFound}
	ErrCancelled   = &Error{Kind: KindCancelled}
)

// Invalid returns a KindInvalid error about request field param.
func Invalid(param, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Param: param, Message: fmt.Sprintf(format, args...)}
}

// AsError converts any error into an *Error, classifying unknown errors as
// internal with a generic message (the cause stays in Err for logs).
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &Error{Kind: KindCancelled, Message: "request cancelled", Code: "cancelled", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &Error{Kind: KindTimeout, Message: "request timed out", Code: "timeout", Err: err}
	}
	return &Error{Kind: KindInternal, Message: "internal error", Err: err}
}
