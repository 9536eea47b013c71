package transport

import (
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/ominix/ominix-api/pipeline"
)

// CodeRequestTooLarge is the error code of 413 answers.
const CodeRequestTooLarge = "request_too_large"

// BodyLimit bounds request bodies to limit bytes: a declared Content-Length
// above it is answered 413 at once, and reading past it (chunked bodies)
// fails with *http.MaxBytesError, which ReadBody turns into a 413 error.
// Apply it per route group: chat and audio uploads need different limits.
func BodyLimit(limit int64) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				WriteError(w, r, tooLarge(limit))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, limit)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// ReadBody reads the whole request body. A body over the BodyLimit fails
// with a KindTooLarge *pipeline.Error (413); other read errors (the client
// went away mid-upload) are KindInvalid.
func ReadBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(r.Body)
	if err == nil {
		return b, nil
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge(mbe.Limit)
	}
	return nil, &pipeline.Error{Kind: pipeline.KindInvalid, Message: "Could not read the request body.", Err: err}
}

func tooLarge(limit int64) *pipeline.Error {
	return &pipeline.Error{Kind: pipeline.KindTooLarge, Code: CodeRequestTooLarge,
		Message: fmt.Sprintf("Request body too large: this endpoint accepts at most %s.", byteSize(limit))}
}

// byteSize formats n bytes for people: "16 MiB (16777216 bytes)".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB (%d bytes)", n>>20, n)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB (%d bytes)", n>>10, n)
	}
	return fmt.Sprintf("%d bytes", n)
}
