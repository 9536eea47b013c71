package transport

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport/openai"
	"github.com/ominix/ominix-api/transport/ws"
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

// GuardOptions configure Guard.
type GuardOptions struct {
	// Origins are the browser origins allowed besides the server's own:
	// the CORS origins (see CORSOptions.Origins; "*" allows any).
	Origins []string
	// Loopback says the server listens on a loopback address. Requests must
	// then name a loopback host in their Host header (localhost,
	// *.localhost, 127.0.0.0/8 or ::1, any port) or one of AllowedHosts,
	// so a web page whose DNS name was rebound to 127.0.0.1 cannot reach
	// the server. False accepts any Host unless AllowedHosts is set.
	Loopback bool
	// AllowedHosts are more host names requests may name (compared
	// case-insensitively, any port; a port given here is ignored): a
	// reverse proxy's public name, or a local alias. "*" accepts any host.
	// Without Loopback, a non-empty list is the only hosts accepted.
	AllowedHosts []string
	// OriginExempt lists exact paths whose GET and HEAD requests skip the
	// Origin check (never the Host check). Nil means DefaultPublicPaths,
	// the health probes.
	OriginExempt []string
}

// Guard refuses requests a browser was tricked into sending, with 403 and
// OpenAI's error JSON (type invalid_request_error):
//
//   - code "origin_not_allowed" for a request whose Origin header is
//     neither the server's own origin nor an allowed one (see
//     ws.OriginAllowed). Browsers send Origin on every cross-origin request
//     and on same-origin POSTs, so a page elsewhere cannot make the server
//     act (a text/plain POST needs no CORS preflight) or open a WebSocket.
//     Clients that send no Origin (SDKs, curl) pass. Every method is
//     checked, preflights included, except GET and HEAD on OriginExempt.
//   - code "host_not_allowed" for a request naming a Host that the server
//     does not answer to (see GuardOptions.Loopback and AllowedHosts):
//     DNS rebinding makes a hostile page same-origin with the server, so
//     only the Host header can tell its requests apart. An empty Host
//     (HTTP/1.0) is not a browser's and passes.
//
// The health probes skip the Origin check by default because a GET of
// them changes nothing and a foreign page cannot read the answer (no CORS
// headers); they keep the Host check, since after a rebinding the page
// could read them. Put Guard before CORS and Auth, so nothing else runs for
// a refused request.
func Guard(opts GuardOptions) func(http.Handler) http.Handler {
	hosts, anyHost := map[string]bool{}, false
	for _, h := range opts.AllowedHosts {
		switch h = hostName(h); h {
		case "":
		case "*":
			anyHost = true
		default:
			hosts[h] = true
		}
	}
	checkHost := !anyHost && (opts.Loopback || len(hosts) > 0)
	exemptPaths := opts.OriginExempt
	if exemptPaths == nil {
		exemptPaths = DefaultPublicPaths
	}
	exempt := make(map[string]bool, len(exemptPaths))
	for _, p := range exemptPaths {
		exempt[p] = true
	}
	origins := append([]string(nil), opts.Origins...)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if checkHost && r.Host != "" {
				h := hostName(r.Host)
				if !hosts[h] && !(opts.Loopback && isLoopbackName(h)) {
					forbid(w, r, "host_not_allowed", fmt.Sprintf("Host %q is not allowed: this server answers only "+
						"requests for its own names (a guard against DNS rebinding); add the name to the server's "+
						"allowed hosts (OMINIX_ALLOWED_HOSTS).", clip(r.Host, 128)))
					return
				}
			}
			originExempt := exempt[r.URL.Path] && (r.Method == http.MethodGet || r.Method == http.MethodHead)
			if !originExempt && !ws.OriginAllowed(r, origins) {
				w.Header().Add("Vary", "Origin")
				forbid(w, r, "origin_not_allowed", fmt.Sprintf("Requests from origin %q are not allowed; add it to "+
					"the server's allowed origins (OMINIX_CORS_ORIGINS).", clip(r.Header.Get("Origin"), 128)))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// forbid answers 403 with an invalid_request_error carrying code.
func forbid(w http.ResponseWriter, r *http.Request, code, msg string) {
	LoggerFrom(r.Context()).Debug("request refused", "code", code)
	WriteJSON(w, http.StatusForbidden, openai.NewErrorResponse(&pipeline.Error{Kind: pipeline.KindInvalid, Code: code, Message: msg}))
}

// hostName returns the lowercased host of a Host header value or an
// allowed-hosts entry: without port, IPv6 brackets or a trailing dot.
func hostName(hostport string) string {
	h := strings.ToLower(strings.TrimSpace(hostport))
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	return strings.TrimSuffix(h, ".")
}

// isLoopbackName reports whether host (from hostName) names this machine
// in a way no outside DNS can redirect: localhost and its subdomains
// (RFC 6761), and loopback IP addresses.
func isLoopbackName(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
