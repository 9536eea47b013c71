package ws

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/ominix/ominix-api/pipeline"
)

// DefaultReadLimit bounds a client message when AcceptOptions.ReadLimit is zero.
const DefaultReadLimit = 64 << 10

// KeyProtocolPrefix is the sub-protocol prefix browsers use to send an API
// key (OpenAI's "openai-insecure-api-key.<key>").
const KeyProtocolPrefix = "openai-insecure-api-key."

// AcceptOptions configure Accept. A nil *AcceptOptions means all defaults.
type AcceptOptions struct {
	// Origins lists the browser origins (scheme://host[:port]) allowed
	// besides the server's own host; "*" allows any. Requests without an
	// Origin header (non-browser clients) are always allowed.
	Origins []string
	// Subprotocols are the protocols the route speaks, in preference order;
	// the first one the client offers is selected. When the client offers
	// none of them but sent its key as a KeyProtocolPrefix protocol, that
	// protocol is echoed, because browsers fail a handshake whose offered
	// protocols all go unanswered.
	Subprotocols []string
	// ReadLimit bounds one client message in bytes; a larger message closes
	// the connection with status 1009. Zero means DefaultReadLimit.
	ReadLimit int64
}

// Check reports why r cannot be upgraded: it is not a WebSocket upgrade,
// or its Origin is not allowed (see OriginAllowed). Both are
// KindInvalid *pipeline.Error values (400) with a code saying which. It
// writes nothing.
func Check(r *http.Request, opts *AcceptOptions) error {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || !headerHasToken(r.Header, "Connection", "upgrade") {
		return &pipeline.Error{Kind: pipeline.KindInvalid, Code: "websocket_upgrade_required",
			Message: fmt.Sprintf("%s expects a WebSocket upgrade request (Connection: Upgrade, Upgrade: websocket).", r.URL.Path)}
	}
	var origins []string
	if opts != nil {
		origins = opts.Origins
	}
	if !OriginAllowed(r, origins) {
		return &pipeline.Error{Kind: pipeline.KindInvalid, Code: "websocket_origin_not_allowed",
			Message: "WebSocket connections from this origin are not allowed; add it to the server's allowed origins (OMINIX_CORS_ORIGINS)."}
	}
	return nil
}

// Accept checks r (see Check) and upgrades it. A Check failure is returned
// as a *pipeline.Error with nothing written, so the caller answers it in
// its own format; a failure after that (the connection cannot be
// hijacked) has already been answered by the websocket library. The
// caller owns the returned connection and must close it.
func Accept(w http.ResponseWriter, r *http.Request, opts *AcceptOptions) (*websocket.Conn, error) {
	if err := Check(r, opts); err != nil {
		return nil, err
	}
	o := AcceptOptions{}
	if opts != nil {
		o = *opts
	}
	protos := append([]string(nil), o.Subprotocols...)
	if key := offeredKeyProtocol(r); key != "" {
		protos = append(protos, key)
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:       protos,
		InsecureSkipVerify: true, // the origin was checked above, against our own list
	})
	if err != nil {
		return nil, fmt.Errorf("websocket upgrade: %w", err)
	}
	limit := o.ReadLimit
	if limit <= 0 {
		limit = DefaultReadLimit
	}
	c.SetReadLimit(limit)
	return c, nil
}

// Send writes data as one text message, giving up after timeout (the
// connection is then closed by the library). Zero timeout means 10s.
// Safe for concurrent use, as websocket.Conn writes are.
func Send(ctx context.Context, c *websocket.Conn, timeout time.Duration, data []byte) error {
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, data)
}

func offeredKeyProtocol(r *http.Request) string {
	for _, line := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(line, ",") {
			if p = strings.TrimSpace(p); strings.HasPrefix(p, KeyProtocolPrefix) {
				return p
			}
		}
	}
	return ""
}

// OriginAllowed reports whether r may be served given its Origin header:
// requests without one (non-browser clients) are allowed, and so are
// same-origin requests (the Origin's host and port equal the request's
// Host, case-insensitively, a default port (80 for http, 443 for https)
// counting as none, which is coder/websocket's own rule) and requests from
// a listed origin (scheme://host[:port], compared case-insensitively, a
// trailing slash ignored; "*" allows any). An Origin that is not a URL with
// a host ("null" from sandboxed frames and file pages) is allowed only by
// "*". The same rule guards every route (transport's Guard) and every
// upgrade (Check), so they cannot disagree.
func OriginAllowed(r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	norm := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(origin), "/"))
	for _, a := range allowed {
		if a = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(a), "/")); a == "*" || a == norm {
			return true
		}
	}
	u, err := url.Parse(norm)
	if err != nil || u.Host == "" || r.Host == "" {
		return false
	}
	return withoutDefaultPort(u.Host, u.Scheme) == withoutDefaultPort(strings.ToLower(r.Host), u.Scheme)
}

// withoutDefaultPort drops the scheme's default port from host:port.
func withoutDefaultPort(host, scheme string) string {
	switch scheme {
	case "http", "ws":
		return strings.TrimSuffix(host, ":80")
	case "https", "wss":
		return strings.TrimSuffix(host, ":443")
	}
	return host
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, line := range h.Values(key) {
		for _, t := range strings.Split(line, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
