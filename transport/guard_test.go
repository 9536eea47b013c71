package transport_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

// The Origin and Host guard: with no API key (the loopback default) a web
// page must not be able to drive the server, neither by a cross-origin
// "simple" request (no preflight) nor after rebinding its DNS name to
// 127.0.0.1.

// browserPost sends what a hostile page's fetch(url, {method: "POST",
// body}) sends: a text/plain body (no CORS preflight) with the page's
// Origin. An empty origin sends none; host, when set, replaces the Host
// header.
func browserPost(t *testing.T, url, origin, host, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if host != "" {
		req.Host = host
	}
	return readAll(t, do(t, req))
}

// requireForbidden checks a 403 with OpenAI's error shape and code.
func requireForbidden(t *testing.T, spec *oapitest.Spec, status int, body []byte, code string) {
	t.Helper()
	require.Equal(t, http.StatusForbidden, status, "%s", body)
	spec.RequireStrict(t, "ErrorResponse", body)
	eb := errBodyOf(t, body)
	assert.Equal(t, "invalid_request_error", eb.Error.Type)
	require.NotNil(t, eb.Error.Code)
	assert.Equal(t, code, *eb.Error.Code)
}

func llmLoaded(e *env) bool {
	for _, st := range e.slots.Status() {
		if st.Category == pipeline.LLMSlot {
			return st.State == pipeline.SlotReady
		}
	}
	return false
}

func TestGuardRefusesForeignOrigins(t *testing.T) {
	spec := oapitest.Load(t)
	e := newEnv(t, envOptions{opts: &transport.Options{CORSOrigins: []string{"https://app.example.com"}}})
	unload := e.url + "/v1/models/unload"

	status, body := browserPost(t, unload, "https://evil.example", "", `{"model_type":"all"}`)
	requireForbidden(t, spec, status, body, "origin_not_allowed")
	assert.True(t, llmLoaded(e), "nothing was unloaded")
	status, body = browserPost(t, e.url+"/v1/chat/completions", "null", "", chatBody("hi", nil))
	requireForbidden(t, spec, status, body, "origin_not_allowed")
	status, body = browserPost(t, e.url+"/v1/chat/completions", "https://app.example.com.evil.example", "", chatBody("hi", nil))
	requireForbidden(t, spec, status, body, "origin_not_allowed")

	// Cross-origin GETs too: the models list, and a WebSocket, which no CORS
	// policy protects.
	req, err := http.NewRequest(http.MethodGet, e.url+"/v1/models", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://evil.example")
	status, body = readAll(t, do(t, req))
	requireForbidden(t, spec, status, body, "origin_not_allowed")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, wsURL(e, "/v1/realtime?intent=transcription"), &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	// The health probes answer any origin: a GET of them changes nothing,
	// and without CORS headers a foreign page cannot read the answer.
	req, err = http.NewRequest(http.MethodGet, e.url+"/health", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://evil.example")
	status, body = readAll(t, do(t, req))
	assert.Equal(t, http.StatusOK, status, "%s", body)

	// The allowed CORS origin works, preflight and request.
	req, err = http.NewRequest(http.MethodOptions, unload, nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
	resp = do(t, req)
	status, _ = readAll(t, resp)
	assert.Equal(t, http.StatusNoContent, status)
	assert.Equal(t, "https://app.example.com", resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "content-type, authorization", resp.Header.Get("Access-Control-Allow-Headers"))
	req.Header.Set("Origin", "https://evil.example")
	status, body = readAll(t, do(t, req))
	requireForbidden(t, spec, status, body, "origin_not_allowed")

	status, body = browserPost(t, unload, "https://app.example.com", "", `{"model_type":"tts"}`)
	assert.Equal(t, http.StatusOK, status, "%s", body)

	// Same origin: the server's own pages may call it (the browser sends
	// Origin on same-origin POSTs), and SDKs send no Origin at all.
	status, body = browserPost(t, e.url+"/v1/chat/completions", e.url, "", chatBody("same origin", nil))
	require.Equal(t, http.StatusOK, status, "%s", body)
	assert.Contains(t, string(body), "same origin")
	status, body = browserPost(t, unload, e.url, "", `{"model_type":"llm"}`)
	assert.Equal(t, http.StatusOK, status, "%s", body)
	assert.False(t, llmLoaded(e), "a same-origin unload acts")
	e.idle()
}

func TestGuardSameOriginWebSocket(t *testing.T) {
	e := newEnv(t, envOptions{load: map[pipeline.Category]string{pipeline.ASRSlot: "scripted-asr"}})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL(e, "/v1/realtime?intent=transcription"), &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {e.url}}})
	require.NoError(t, err, "a page served by the server may open its WebSockets")
	defer c.CloseNow()
	_, msg, err := c.Read(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(msg), "session.created")
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
}

// TestGuardDNSRebinding: on a loopback bind, a request naming a foreign
// Host (what a rebound page sends) is refused, probes included; loopback
// names and the allowed hosts pass.
func TestGuardDNSRebinding(t *testing.T) {
	spec := oapitest.Load(t)
	e := newEnv(t, envOptions{opts: &transport.Options{Loopback: true, AllowedHosts: []string{"api.example.com"}}})
	get := func(path, host string) (int, []byte) {
		req, err := http.NewRequest(http.MethodGet, e.url+path, nil)
		require.NoError(t, err)
		req.Host = host
		return readAll(t, do(t, req))
	}
	for _, path := range []string{"/v1/models", "/health", "/healthz", "/metrics", "/nowhere"} {
		status, body := get(path, "evil.example")
		requireForbidden(t, spec, status, body, "host_not_allowed")
	}
	status, body := browserPost(t, e.url+"/v1/models/unload", "http://evil.example:8080", "evil.example:8080", `{"model_type":"all"}`)
	requireForbidden(t, spec, status, body, "host_not_allowed")
	assert.True(t, llmLoaded(e), "nothing was unloaded")

	port := e.url[strings.LastIndex(e.url, ":"):]
	for _, host := range []string{"127.0.0.1" + port, "localhost" + port, "LOCALHOST", "app.localhost" + port,
		"[::1]" + port, "127.8.9.10", "api.example.com", "API.example.com:443"} {
		status, body := get("/health", host)
		assert.Equal(t, http.StatusOK, status, "Host %s: %s", host, body)
	}
	// A same-origin request under an allowed name passes both checks.
	status, body = browserPost(t, e.url+"/v1/chat/completions", "https://api.example.com", "api.example.com", chatBody("proxied", nil))
	assert.Equal(t, http.StatusOK, status, "%s", body)
	e.idle()
}

func TestGuardRules(t *testing.T) {
	ok := func(opts transport.GuardOptions, method, path, host, origin string) int {
		h := transport.Guard(opts)(okHandler())
		req := httptest.NewRequest(method, "http://placeholder"+path, nil)
		req.Host = host
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	loop := transport.GuardOptions{Loopback: true}
	cases := []struct {
		name         string
		opts         transport.GuardOptions
		method, path string
		host, origin string
		want         int
	}{
		{"no origin", loop, "POST", "/v1/x", "127.0.0.1:8080", "", 200},
		{"same origin", loop, "POST", "/v1/x", "127.0.0.1:8080", "http://127.0.0.1:8080", 200},
		{"same origin, default port", transport.GuardOptions{}, "POST", "/v1/x", "api.example", "http://api.example:80", 200},
		{"same origin, https default port", transport.GuardOptions{}, "POST", "/v1/x", "api.example:443", "https://API.example", 200},
		{"other port", loop, "POST", "/v1/x", "127.0.0.1:8080", "http://127.0.0.1:3000", 403},
		{"other port allowed", transport.GuardOptions{Loopback: true, Origins: []string{"http://127.0.0.1:3000/"}}, "POST", "/v1/x", "127.0.0.1:8080", "http://127.0.0.1:3000", 200},
		{"any origin", transport.GuardOptions{Origins: []string{"*"}}, "DELETE", "/v1/x", "api.example", "null", 200},
		{"null origin", loop, "GET", "/v1/x", "localhost", "null", 403},
		{"preflight", loop, "OPTIONS", "/v1/x", "localhost:1", "https://evil.example", 403},
		{"probe GET", loop, "GET", "/healthz", "localhost:1", "https://evil.example", 200},
		{"probe POST", loop, "POST", "/healthz", "localhost:1", "https://evil.example", 403},
		{"probe, other exemptions", transport.GuardOptions{OriginExempt: []string{}}, "GET", "/healthz", "localhost", "https://evil.example", 403},
		{"mapped loopback", loop, "GET", "/v1/x", "[::ffff:127.0.0.1]:1", "", 200},
		{"trailing dot", loop, "GET", "/v1/x", "localhost.:1", "", 200},
		{"empty host", loop, "GET", "/v1/x", "", "", 200},
		{"unspecified address", loop, "GET", "/v1/x", "0.0.0.0:8080", "", 403},
		{"loopback-looking name", loop, "GET", "/v1/x", "127.0.0.1.evil.example", "", 403},
		{"localhost-looking name", loop, "GET", "/v1/x", "localhost.evil.example", "", 403},
		{"private address", loop, "GET", "/v1/x", "192.168.1.2:8080", "", 403},
		{"not loopback: any host", transport.GuardOptions{}, "GET", "/v1/x", "evil.example", "", 200},
		{"not loopback, hosts listed", transport.GuardOptions{AllowedHosts: []string{"api.example:8443"}}, "GET", "/v1/x", "evil.example", "", 403},
		{"not loopback, listed host", transport.GuardOptions{AllowedHosts: []string{"api.example:8443"}}, "GET", "/v1/x", "api.example", "", 200},
		{"any host", transport.GuardOptions{Loopback: true, AllowedHosts: []string{"*"}}, "GET", "/v1/x", "evil.example", "", 200},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, ok(c.opts, c.method, c.path, c.host, c.origin), c.name)
	}
}
