// Package transport is ominix-api's HTTP layer: the chi router, the
// middleware every request passes through, and the one place where errors
// become HTTP responses. Handlers stay thin: decode, validate, call one
// pipeline or sessions function, encode (OpenAI shapes come from
// transport/openai, SSE framing from transport/sse).
//
// Use WriteError to answer with an OpenAI error object and the status of its
// pipeline.ErrorKind (with Retry-After on 429 and 503); use ReadBody to read
// a request body bounded by BodyLimit (413 beyond it); use RequestID,
// Logger, Recover, CORS, Auth and BodyLimit as chi middleware (each is a
// plain func(http.Handler) http.Handler).
package transport
