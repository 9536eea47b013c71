package transport

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/go-chi/chi/v5/middleware"

	"github.com/ominix/ominix-api/pipeline"
)

// HeaderRequestID carries the request id in requests and responses.
const HeaderRequestID = "X-Request-Id"

type ctxKey int

const (
	requestIDKey ctxKey = iota
	loggerKey
)

// validRequestID accepts ids a client or proxy may send us: short and
// printable, so they are safe in logs and headers.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// RequestID gives every request an id: the client's X-Request-Id when it is
// short and printable, otherwise a new random "req_…" id. The id is echoed in
// the X-Request-Id response header and available through RequestIDFrom.
func RequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set(HeaderRequestID, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "req_" + hex.EncodeToString(b[:])
}

// RequestIDFrom returns the request id set by RequestID, or "".
func RequestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// LoggerFrom returns the request's logger (set by Logger, carrying the
// request id), or slog.Default().
func LoggerFrom(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}

// Logger logs one line per request when it ends: method, path (never the
// query, which may hold a WebSocket api_key), status, bytes, duration and
// request id. Headers and bodies are never logged, so neither is an API key.
// It also makes a request-scoped logger available through LoggerFrom. A nil
// logger means slog.Default(). Put it after RequestID.
func Logger(logger *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			base := logger
			if base == nil {
				base = slog.Default()
			}
			l := base
			if id := RequestIDFrom(r.Context()); id != "" {
				l = base.With("request_id", id)
			}
			ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
			start := time.Now()
			defer func() {
				status := ww.Status()
				if status == 0 {
					status = http.StatusOK // nothing written: net/http sends 200
				}
				level := slog.LevelInfo
				if status >= 500 && status != StatusClientClosedRequest {
					level = slog.LevelWarn
				}
				l.LogAttrs(r.Context(), level, "request",
					slog.String("method", r.Method), slog.String("path", r.URL.Path),
					slog.Int("status", status), slog.Int("bytes", ww.BytesWritten()),
					slog.Duration("duration", time.Since(start)), slog.String("remote", r.RemoteAddr))
			}()
			next.ServeHTTP(ww, r.WithContext(context.WithValue(r.Context(), loggerKey, l)))
		})
	}
}

// Recover turns a panic in a handler into a 500 with OpenAI's generic error
// and logs the panic value with its stack. When the response had already
// started, it aborts the connection instead (http.ErrAbortHandler), so the
// client sees a broken response rather than a truncated success.
// http.ErrAbortHandler itself passes through untouched.
func Recover(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			LoggerFrom(r.Context()).Error("handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if ww.Status() != 0 {
				panic(http.ErrAbortHandler)
			}
			WriteError(ww, r, &pipeline.Error{Kind: pipeline.KindInternal, Err: fmt.Errorf("panic: %v", v)})
		}()
		next.ServeHTTP(ww, r)
	})
}

// DefaultPublicPaths are served without an API key: health probes.
var DefaultPublicPaths = []string{"/health", "/healthz", "/readyz"}

// AuthOptions configure Auth.
type AuthOptions struct {
	// Key is the API key clients must present. Empty disables
	// authentication: every request passes.
	Key string
	// Public lists exact paths served without a key. Nil means
	// DefaultPublicPaths. /metrics is not public by default: Prometheus can
	// send the key (scrape config "authorization: {credentials: …}"); list
	// it here to open it. Static pages should be mounted outside the
	// authenticated route group, so the browser demos can load and ask for
	// the key.
	Public []string
}

// Auth requires the API key on every request except the public paths. The
// key may come as "Authorization: Bearer <key>" or "x-api-key: <key>"; on
// WebSocket upgrade requests, where browsers cannot set headers, also as the
// "openai-insecure-api-key.<key>" sub-protocol or the api_key query
// parameter. Keys are compared in constant time (as SHA-256 digests, so the
// key's length does not leak). Failures are 401 with OpenAI's error
// (code invalid_api_key) and WWW-Authenticate: Bearer.
func Auth(opts AuthOptions) func(http.Handler) http.Handler {
	public := opts.Public
	if public == nil {
		public = DefaultPublicPaths
	}
	open := make(map[string]bool, len(public))
	for _, p := range public {
		open[p] = true
	}
	want := sha256.Sum256([]byte(opts.Key))
	return func(next http.Handler) http.Handler {
		if opts.Key == "" {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if open[r.URL.Path] {
				next.ServeHTTP(w, r)
				return
			}
			keys := APIKeys(r)
			for _, k := range keys {
				got := sha256.Sum256([]byte(k))
				if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
					next.ServeHTTP(w, r)
					return
				}
			}
			WriteError(w, r, authError(len(keys) > 0))
		})
	}
}

func authError(presented bool) *pipeline.Error {
	msg := "You didn't provide an API key. Send it in an Authorization header using Bearer auth " +
		"(Authorization: Bearer YOUR_KEY) or in an x-api-key header."
	if presented {
		msg = "Incorrect API key provided."
	}
	return &pipeline.Error{Kind: pipeline.KindUnauthorized, Code: "invalid_api_key", Message: msg}
}

// SubprotocolKeyPrefix is the WebSocket sub-protocol prefix OpenAI's browser
// clients use to send the API key.
const SubprotocolKeyPrefix = "openai-insecure-api-key."

// APIKeys returns the API keys a request presents, in the places Auth
// accepts them. Empty values are skipped.
func APIKeys(r *http.Request) []string {
	var keys []string
	add := func(k string) {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	if scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Bearer") {
		add(cred)
	}
	add(r.Header.Get("X-Api-Key"))
	if isWebSocketUpgrade(r) {
		for _, line := range r.Header.Values("Sec-WebSocket-Protocol") {
			for _, p := range strings.Split(line, ",") {
				if k, ok := strings.CutPrefix(strings.TrimSpace(p), SubprotocolKeyPrefix); ok {
					add(k)
				}
			}
		}
		add(r.URL.Query().Get("api_key"))
	}
	return keys
}

func isWebSocketUpgrade(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}
