package transport

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
)

// CORSOptions configure CORS.
type CORSOptions struct {
	// Origins lists the browser origins allowed to call the API, exactly as
	// browsers send them ("https://app.example.com", "http://localhost:5173";
	// compared case-insensitively, a trailing slash ignored). "*" allows any
	// origin. Empty disables CORS: no CORS headers are sent, so browsers on
	// other origins are refused by their own policy.
	Origins []string
	// MaxAge is how long browsers may cache a preflight answer. Zero means
	// 10 minutes.
	MaxAge time.Duration
}

// corsMethods are the methods the API uses.
const corsMethods = "GET, POST, DELETE, OPTIONS"

// corsExposed are the response headers scripts may read.
const corsExposed = "X-Request-Id, Retry-After"

// corsDefaultHeaders are allowed when a preflight names none.
const corsDefaultHeaders = "Authorization, Content-Type, X-Api-Key, X-Request-Id, Last-Event-Id"

// CORS answers preflight requests (OPTIONS with Access-Control-Request-Method)
// from allowed origins with 204 and the allowed methods and headers (the
// headers the browser asked for: the origin is trusted, and OpenAI's SDKs
// send many x-stainless-* headers), and a preflight from any other origin with
// 403. Actual requests from allowed origins get Access-Control-Allow-Origin
// (the origin itself, or "*" when "*" is configured) and the exposed headers.
// Credentials (cookies) are never allowed: the API uses keys in headers.
// Responses vary on Origin. Put it before Auth so preflights, which carry no
// key, are answered.
func CORS(opts CORSOptions) func(http.Handler) http.Handler {
	allowed, anyOrigin := map[string]bool{}, false
	for _, o := range opts.Origins {
		o = normalizeOrigin(o)
		switch o {
		case "":
		case "*":
			anyOrigin = true
		default:
			allowed[o] = true
		}
	}
	maxAge := opts.MaxAge
	if maxAge <= 0 {
		maxAge = 10 * time.Minute
	}
	enabled := anyOrigin || len(allowed) > 0
	return func(next http.Handler) http.Handler {
		if !enabled {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Add("Vary", "Origin")
			origin := r.Header.Get("Origin")
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			ok := anyOrigin || allowed[normalizeOrigin(origin)]
			allowOrigin := origin
			if anyOrigin {
				allowOrigin = "*"
			}
			if preflight {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				if !ok {
					WriteJSON(w, http.StatusForbidden, openai.NewErrorResponse(&pipeline.Error{
						Kind: pipeline.KindInvalid, Code: "cors_origin_not_allowed",
						Message: fmt.Sprintf("CORS: origin %q is not allowed; add it to the server's allowed origins (OMINIX_CORS_ORIGINS).", origin)}))
					return
				}
				h.Set("Access-Control-Allow-Origin", allowOrigin)
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", requestedHeaders(r))
				h.Set("Access-Control-Max-Age", strconv.Itoa(int(maxAge/time.Second)))
				w.WriteHeader(http.StatusNoContent)
				return
			}
			if ok {
				h.Set("Access-Control-Allow-Origin", allowOrigin)
				h.Set("Access-Control-Expose-Headers", corsExposed)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// normalizeOrigin lowercases an origin and drops a trailing slash.
func normalizeOrigin(o string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
}

// requestedHeaders returns the headers a preflight asks for, keeping only
// valid header names, or the default list when it names none.
func requestedHeaders(r *http.Request) string {
	var names []string
	for _, line := range r.Header.Values("Access-Control-Request-Headers") {
		for _, n := range strings.Split(line, ",") {
			if n = strings.TrimSpace(n); isToken(n) && len(names) < 64 {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return corsDefaultHeaders
	}
	return strings.Join(names, ", ")
}

// isToken reports whether s is an HTTP token (a valid header name).
func isToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
