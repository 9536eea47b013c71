package transport_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/transport"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil))) // tests that read logs pass their own logger
	goleak.VerifyTestMain(m)
}

type errBody struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func decodeErr(t *testing.T, rec *httptest.ResponseRecorder) errBody {
	t.Helper()
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	var b errBody
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &b), "body %q", rec.Body.String())
	return b
}

type errorCase struct {
	err        error
	status     int
	typ        string
	retryAfter string
}

func errorCases() []errorCase {
	return []errorCase{
		{pipeline.Invalid("messages[0].content", "bad content"), 400, "invalid_request_error", ""},
		{&pipeline.Error{Kind: pipeline.KindUnauthorized, Message: "Incorrect API key provided."}, 401, "invalid_request_error", ""},
		{&pipeline.Error{Kind: pipeline.KindNotFound, Message: "no such model", Code: "model_not_found"}, 404, "invalid_request_error", ""},
		{&pipeline.Error{Kind: pipeline.KindTooLarge, Message: "too big"}, 413, "invalid_request_error", ""},
		{&pipeline.Error{Kind: pipeline.KindOverloaded, Message: "busy", RetryAfter: 1500 * time.Millisecond}, 429, "requests", "2"},
		{&pipeline.Error{Kind: pipeline.KindUnavailable, Message: "loading"}, 503, "server_error", "1"},
		{&pipeline.Error{Kind: pipeline.KindUnavailable, Message: "loading", RetryAfter: 30 * time.Second}, 503, "server_error", "30"},
		{&pipeline.Error{Kind: pipeline.KindTimeout, Message: "slow"}, 504, "server_error", ""},
		{errors.New("disk on fire"), 500, "server_error", ""},
	}
}

func TestWriteErrorStatusesAndHeaders(t *testing.T) {
	for _, c := range errorCases() {
		rec := httptest.NewRecorder()
		transport.WriteError(rec, httptest.NewRequest("POST", "/v1/chat/completions", nil), c.err)
		assert.Equal(t, c.status, rec.Code, "%v", c.err)
		assert.Equal(t, c.retryAfter, rec.Header().Get("Retry-After"), "%v", c.err)
		b := decodeErr(t, rec)
		assert.Equal(t, c.typ, b.Error.Type)
		assert.NotContains(t, rec.Body.String(), "disk on fire", "internal causes are never sent")
		if c.status == 401 {
			assert.Equal(t, `Bearer realm="ominix-api"`, rec.Header().Get("WWW-Authenticate"))
		}
	}
}

func TestWriteErrorMatchesSchema(t *testing.T) {
	spec := oapitest.Load(t)
	for _, c := range errorCases() {
		rec := httptest.NewRecorder()
		transport.WriteError(rec, httptest.NewRequest("GET", "/", nil), c.err)
		spec.RequireStrict(t, "ErrorResponse", rec.Body.Bytes())
	}
}

func TestWriteErrorLogsInternalCause(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := transport.RequestID(transport.Logger(log)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		transport.WriteError(w, r, errors.New("disk on fire"))
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	assert.Equal(t, 500, rec.Code)
	assert.Contains(t, logs.String(), "disk on fire")
	assert.Contains(t, logs.String(), rec.Header().Get("X-Request-Id"), "the cause is logged with the request id")
}

func TestRetryAfterSeconds(t *testing.T) {
	assert.Equal(t, "1", transport.RetryAfterSeconds(0))
	assert.Equal(t, "1", transport.RetryAfterSeconds(time.Millisecond))
	assert.Equal(t, "1", transport.RetryAfterSeconds(time.Second))
	assert.Equal(t, "2", transport.RetryAfterSeconds(time.Second+time.Nanosecond))
}

func TestNotFoundAndMethodNotAllowed(t *testing.T) {
	r := chi.NewRouter()
	r.NotFound(transport.NotFound)
	r.MethodNotAllowed(transport.MethodNotAllowed)
	r.Get("/v1/models", func(w http.ResponseWriter, r *http.Request) {})
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/nothing", nil))
	assert.Equal(t, 404, rec.Code)
	assert.Equal(t, "Invalid URL (POST /v1/nothing)", decodeErr(t, rec).Error.Message)
	rec = httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("DELETE", "/v1/models", nil))
	assert.Equal(t, 405, rec.Code)
	assert.Equal(t, "invalid_request_error", decodeErr(t, rec).Error.Type)
}

func TestRequestID(t *testing.T) {
	var seen string
	h := transport.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = transport.RequestIDFrom(r.Context())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Regexp(t, `^req_[0-9a-f]{24}$`, seen)
	assert.Equal(t, seen, rec.Header().Get("X-Request-Id"))

	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set("X-Request-Id", "client-abc.123")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, "client-abc.123", seen, "a sane client id is kept")

	req.Header.Set("X-Request-Id", "evil\nid with spaces")
	h.ServeHTTP(httptest.NewRecorder(), req)
	assert.Regexp(t, `^req_`, seen, "an unsafe client id is replaced")
}

func TestLoggerNeverLogsKeysOrBodies(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := transport.RequestID(transport.Logger(log)(transport.Auth(transport.AuthOptions{Key: "sekrit-key"})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.ReadAll(r.Body)
			w.WriteHeader(http.StatusTeapot)
			_, _ = w.Write([]byte("short"))
		}))))
	req := httptest.NewRequest("POST", "/v1/realtime?api_key=sekrit-key", strings.NewReader(`{"secret":"body-text"}`))
	req.Header.Set("Authorization", "Bearer sekrit-key")
	req.Header.Set("Upgrade", "websocket")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusTeapot, rec.Code)
	var line map[string]any
	require.NoError(t, json.Unmarshal(logs.Bytes(), &line))
	assert.Equal(t, "POST", line["method"])
	assert.Equal(t, "/v1/realtime", line["path"])
	assert.EqualValues(t, 418, line["status"])
	assert.EqualValues(t, 5, line["bytes"])
	assert.NotEmpty(t, line["request_id"])
	assert.Contains(t, line, "duration")
	assert.NotContains(t, logs.String(), "sekrit")
	assert.NotContains(t, logs.String(), "body-text")
}

func TestRecover(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := transport.Logger(log)(transport.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		panic("boom at /secret/path")
	})))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	assert.Equal(t, 500, rec.Code)
	b := decodeErr(t, rec)
	assert.Equal(t, "server_error", b.Error.Type)
	assert.NotContains(t, rec.Body.String(), "boom")
	assert.Contains(t, logs.String(), "boom at /secret/path")
	assert.Contains(t, logs.String(), "stack")
}

func TestRecoverAfterResponseStartedAborts(t *testing.T) {
	h := transport.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		panic("late")
	}))
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	})
	h = transport.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic(http.ErrAbortHandler) }))
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	})
}

// TestRecoverOverHTTP checks a real server survives a panicking handler and
// the client gets the JSON error.
func TestRecoverOverHTTP(t *testing.T) {
	srv := httptest.NewServer(transport.Recover(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]int
		m["x"] = 1 // nil map write
	})))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	for range 2 {
		resp, err := srv.Client().Get(srv.URL)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assert.Equal(t, 500, resp.StatusCode)
		assert.Contains(t, string(body), `"type":"server_error"`)
	}
}

func okHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
}

func TestAuth(t *testing.T) {
	h := transport.Auth(transport.AuthOptions{Key: "k3y-value"})(okHandler())
	cases := []struct {
		name    string
		path    string
		headers map[string]string
		status  int
		message string
	}{
		{"no key", "/v1/models", nil, 401, "You didn't provide an API key"},
		{"bearer", "/v1/models", map[string]string{"Authorization": "Bearer k3y-value"}, 200, ""},
		{"bearer lower-case scheme", "/v1/models", map[string]string{"Authorization": "bearer k3y-value"}, 200, ""},
		{"x-api-key", "/v1/models", map[string]string{"x-api-key": "k3y-value"}, 200, ""},
		{"wrong bearer", "/v1/models", map[string]string{"Authorization": "Bearer nope"}, 401, "Incorrect API key provided."},
		{"prefix of key", "/v1/models", map[string]string{"Authorization": "Bearer k3y"}, 401, "Incorrect"},
		{"basic scheme", "/v1/models", map[string]string{"Authorization": "Basic k3y-value"}, 401, "didn't provide"},
		{"one of two right", "/v1/models", map[string]string{"Authorization": "Bearer nope", "x-api-key": "k3y-value"}, 200, ""},
		{"health open", "/health", nil, 200, ""},
		{"healthz open", "/healthz", nil, 200, ""},
		{"readyz open", "/readyz", nil, 200, ""},
		{"metrics closed", "/metrics", nil, 401, ""},
		{"health prefix not open", "/healthz/../v1/models", nil, 401, ""},
		{"ws subprotocol", "/v1/realtime", map[string]string{"Upgrade": "websocket", "Sec-WebSocket-Protocol": "realtime, openai-insecure-api-key.k3y-value"}, 200, ""},
		{"subprotocol without upgrade", "/v1/realtime", map[string]string{"Sec-WebSocket-Protocol": "openai-insecure-api-key.k3y-value"}, 401, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", c.path, nil)
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, c.status, rec.Code)
			if c.status == 401 {
				b := decodeErr(t, rec)
				assert.Equal(t, "invalid_api_key", *b.Error.Code)
				assert.Equal(t, "invalid_request_error", b.Error.Type)
				assert.Contains(t, b.Error.Message, c.message)
				assert.NotEmpty(t, rec.Header().Get("WWW-Authenticate"))
			}
		})
	}
	req := httptest.NewRequest("GET", "/v1/realtime?api_key=k3y-value", nil)
	req.Header.Set("Upgrade", "websocket")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 200, rec.Code, "query key on a WebSocket upgrade")
	req = httptest.NewRequest("GET", "/v1/models?api_key=k3y-value", nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 401, rec.Code, "query keys only for WebSocket upgrades")
}

func TestAuthDisabledAndCustomPublic(t *testing.T) {
	rec := httptest.NewRecorder()
	transport.Auth(transport.AuthOptions{})(okHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/v1/models", nil))
	assert.Equal(t, 200, rec.Code, "no key configured: open")
	h := transport.Auth(transport.AuthOptions{Key: "k", Public: []string{"/metrics"}})(okHandler())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	assert.Equal(t, 200, rec.Code)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/health", nil))
	assert.Equal(t, 401, rec.Code, "an explicit Public list replaces the defaults")
}

func TestCORS(t *testing.T) {
	h := transport.CORS(transport.CORSOptions{Origins: []string{"https://App.example.com/", "http://localhost:5173"}})(okHandler())
	preflight := func(origin, headers string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("OPTIONS", "/v1/chat/completions", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		if headers != "" {
			req.Header.Set("Access-Control-Request-Headers", headers)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	rec := preflight("https://app.example.com", "authorization, content-type, x-stainless-os, bad header")
	assert.Equal(t, 204, rec.Code)
	assert.Equal(t, "https://app.example.com", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "authorization, content-type, x-stainless-os", rec.Header().Get("Access-Control-Allow-Headers"))
	assert.Contains(t, rec.Header().Get("Access-Control-Allow-Methods"), "POST")
	assert.Equal(t, "600", rec.Header().Get("Access-Control-Max-Age"))
	assert.Contains(t, rec.Header().Values("Vary"), "Origin")
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"))

	rec = preflight("http://localhost:5173", "")
	assert.Equal(t, 204, rec.Code)
	assert.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), "Authorization")

	rec = preflight("https://evil.example.com", "authorization")
	assert.Equal(t, 403, rec.Code)
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Equal(t, "cors_origin_not_allowed", *decodeErr(t, rec).Error.Code)

	rec = preflight("https://app.example.com.evil.com", "")
	assert.Equal(t, 403, rec.Code, "exact match only")

	req := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	req.Header.Set("Origin", "https://app.example.com")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, "ok", rec.Body.String())
	assert.Equal(t, "https://app.example.com", rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, rec.Header().Get("Access-Control-Expose-Headers"), "X-Request-Id")

	req.Header.Set("Origin", "https://evil.example.com")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, "ok", rec.Body.String(), "the browser, not the server, blocks the response")
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Contains(t, rec.Header().Values("Vary"), "Origin")
}

func TestCORSWildcardAndDisabled(t *testing.T) {
	h := transport.CORS(transport.CORSOptions{Origins: []string{"*"}})(okHandler())
	req := httptest.NewRequest("OPTIONS", "/v1/models", nil)
	req.Header.Set("Origin", "https://anything.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 204, rec.Code)
	assert.Equal(t, "*", rec.Header().Get("Access-Control-Allow-Origin"))

	h = transport.CORS(transport.CORSOptions{})(okHandler())
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, "ok", rec.Body.String(), "disabled: the preflight reaches the router")
	assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
	assert.Empty(t, rec.Header().Values("Vary"))
}

// TestPreflightBeforeAuth shows the intended order: CORS answers preflights
// (which carry no key) before Auth sees them.
func TestPreflightBeforeAuth(t *testing.T) {
	r := chi.NewRouter()
	r.Use(transport.CORS(transport.CORSOptions{Origins: []string{"https://app.example.com"}}))
	r.Use(transport.Auth(transport.AuthOptions{Key: "k"}))
	r.Post("/v1/chat/completions", okHandler().ServeHTTP)
	req := httptest.NewRequest("OPTIONS", "/v1/chat/completions", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	assert.Equal(t, 204, rec.Code)
}

func TestBodyLimit(t *testing.T) {
	var got []byte
	var readErr error
	h := transport.BodyLimit(1 << 10)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, readErr = transport.ReadBody(r)
		if readErr != nil {
			transport.WriteError(w, r, readErr)
			return
		}
		w.WriteHeader(204)
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("a", 1024))))
	assert.Equal(t, 204, rec.Code)
	assert.Len(t, got, 1024)

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("a", 1025))))
	assert.Equal(t, 413, rec.Code, "declared length over the limit")
	b := decodeErr(t, rec)
	assert.Equal(t, "request_too_large", *b.Error.Code)
	assert.Contains(t, b.Error.Message, "1 KiB (1024 bytes)")

	req := httptest.NewRequest("POST", "/", io.MultiReader(strings.NewReader(strings.Repeat("a", 4096))))
	req.ContentLength = -1 // chunked: the limit is found while reading
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, 413, rec.Code)
	var pe *pipeline.Error
	require.ErrorAs(t, readErr, &pe)
	assert.Equal(t, pipeline.KindTooLarge, pe.Kind)
}

func TestBodyLimitOverHTTP(t *testing.T) {
	srv := httptest.NewServer(transport.BodyLimit(64)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := transport.ReadBody(r); err != nil {
			transport.WriteError(w, r, err)
			return
		}
		w.WriteHeader(204)
	})))
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	resp, err := srv.Client().Post(srv.URL, "application/json", bytes.NewReader(make([]byte, 1<<20)))
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, 413, resp.StatusCode)
}

// TestConcurrentRequests runs the full middleware stack under -race.
func TestConcurrentRequests(t *testing.T) {
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	r := chi.NewRouter()
	r.Use(transport.RequestID, transport.Logger(log), transport.Recover,
		transport.CORS(transport.CORSOptions{Origins: []string{"*"}}), transport.Auth(transport.AuthOptions{Key: "k"}))
	r.With(transport.BodyLimit(1<<10)).Post("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := transport.ReadBody(r)
		if err != nil {
			transport.WriteError(w, r, err)
			return
		}
		_, _ = w.Write(b)
	})
	srv := httptest.NewServer(r)
	defer srv.Close()
	defer srv.Client().CloseIdleConnections()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", srv.URL+"/echo", strings.NewReader(strings.Repeat("x", i*100)))
			req.Header.Set("Authorization", "Bearer k")
			resp, err := srv.Client().Do(req)
			if !assert.NoError(t, err) {
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if i*100 > 1<<10 {
				assert.Equal(t, 413, resp.StatusCode)
			} else {
				assert.Equal(t, 200, resp.StatusCode)
				assert.Len(t, body, i*100)
			}
			assert.NotEmpty(t, resp.Header.Get("X-Request-Id"))
		})
	}
	wg.Wait()
}
