// Package transport is ominix-api's HTTP layer: the server and its chi
// router, the middleware every request passes through, the handlers of the
// OpenAI endpoints, the model management API, the native sessions API (SSE
// and WebSocket), health and metrics, and the one place where errors become
// HTTP responses. Handlers stay thin: decode, validate, call one pipeline or
// sessions function, encode (OpenAI shapes come from transport/openai, SSE
// framing from transport/sse, WebSocket plumbing from transport/ws).
//
// Use New to build the Server from its Deps (scheduler, slots, sessions,
// metrics) and Options (key, origins, loopback and allowed hosts, model
// roots, limits), and
// Server.HTTPServer for an http.Server with the right timeouts. Route
// groups added by other files use the Server's accessors and helpers:
// RequestSession and StreamSession for request-scoped streams,
// HandleSessionType for native session types, AcceptWebSocket for
// upgrades. Use EncodeNativeEvent for the native JSON of a session event
// and ResolveModelName for the model path policy.
//
// Use WriteError to answer with an OpenAI error object and the status of its
// pipeline.ErrorKind (with Retry-After on 429 and 503); use ReadBody to read
// a request body bounded by BodyLimit (413 beyond it); use RequestID,
// Logger, Recover, Guard (foreign origins and DNS rebinding), CORS, Auth
// and BodyLimit as chi middleware (each is a plain func(http.Handler)
// http.Handler).
package transport
