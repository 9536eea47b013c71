package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
)

// StatusClientClosedRequest is the status logged for requests whose client
// went away (nginx's 499); nobody receives it.
const StatusClientClosedRequest = 499

// DefaultRetryAfter is sent in Retry-After when a 429 or 503 error does not
// say how long to wait.
const DefaultRetryAfter = time.Second

// StatusOf returns the HTTP status for an error kind: 400 invalid, 401
// unauthorized, 404 not found, 413 too large, 429 overloaded, 499 cancelled,
// 503 unavailable, 504 timeout and 500 for everything else.
func StatusOf(kind pipeline.ErrorKind) int {
	switch kind {
	case pipeline.KindInvalid:
		return http.StatusBadRequest
	case pipeline.KindUnauthorized:
		return http.StatusUnauthorized
	case pipeline.KindNotFound:
		return http.StatusNotFound
	case pipeline.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case pipeline.KindOverloaded:
		return http.StatusTooManyRequests
	case pipeline.KindCancelled:
		return StatusClientClosedRequest
	case pipeline.KindUnavailable:
		return http.StatusServiceUnavailable
	case pipeline.KindTimeout:
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}

// WriteError answers with err as OpenAI's error JSON
// ({"error":{"message","type","param","code"}}) and the status of its kind.
// Errors that are not *pipeline.Error are internal: the client sees a
// generic message and the cause is logged. 429 and 503 carry Retry-After
// (whole seconds, rounded up; DefaultRetryAfter when the error names no
// delay), 401 carries WWW-Authenticate. Call it before anything else was
// written to w.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := pipeline.AsError(err)
	if e == nil {
		e = &pipeline.Error{Kind: pipeline.KindInternal, Err: errors.New("WriteError called with a nil error")}
	}
	status := StatusOf(e.Kind)
	logError(r, status, e)
	h := w.Header()
	switch status {
	case http.StatusTooManyRequests, http.StatusServiceUnavailable:
		h.Set("Retry-After", RetryAfterSeconds(e.RetryAfter))
	case http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="ominix-api"`)
	}
	WriteJSON(w, status, openai.NewErrorResponse(e))
}

// RetryAfterSeconds formats d for a Retry-After header: whole seconds,
// rounded up, at least 1.
func RetryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		d = DefaultRetryAfter
	}
	secs := (d + time.Second - 1) / time.Second
	return strconv.FormatInt(int64(secs), 10)
}

// logError logs what the client cannot see: the cause of server-side
// failures. Client errors are left to the request log.
func logError(r *http.Request, status int, e *pipeline.Error) {
	if status < 500 || status == StatusClientClosedRequest {
		return
	}
	ctx := context.Background()
	if r != nil {
		ctx = r.Context()
	}
	level := slog.LevelWarn
	if status == http.StatusInternalServerError {
		level = slog.LevelError
	}
	attrs := []any{"status", status}
	if e.Message != "" {
		attrs = append(attrs, "message", e.Message)
	}
	if e.Err != nil {
		attrs = append(attrs, "cause", e.Err.Error())
	}
	LoggerFrom(ctx).Log(ctx, level, "request failed", attrs...)
}

// WriteJSON writes v as the JSON body with status, without HTML escaping
// (see openai.Marshal). An encoding failure, which only a bug can cause,
// becomes a 500 with OpenAI's generic error.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	body, err := openai.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = openai.Marshal(openai.NewErrorResponse(fmt.Errorf("encode response: %w", err)))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

// NotFound answers unknown routes the way OpenAI does: 404 with
// "Invalid URL (METHOD /path)". Use it as the router's NotFound handler.
func NotFound(w http.ResponseWriter, r *http.Request) {
	WriteError(w, r, &pipeline.Error{Kind: pipeline.KindNotFound,
		Message: fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path)})
}

// MethodNotAllowed answers a known path called with the wrong method: 405
// with an OpenAI error. Use it as the router's MethodNotAllowed handler.
func MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	WriteJSON(w, http.StatusMethodNotAllowed, openai.NewErrorResponse(&pipeline.Error{Kind: pipeline.KindInvalid,
		Message: fmt.Sprintf("Method %s is not allowed for %s.", r.Method, r.URL.Path)}))
}
