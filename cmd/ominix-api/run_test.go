package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/hub/hubtest"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
)

// lineWriter collects the server's log and reports the listen address.
type lineWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	addrC chan string
	once  sync.Once
}

var listenRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.buf.Write(p)
	log := w.buf.String()
	w.mu.Unlock()
	if m := listenRE.FindStringSubmatch(log); m != nil {
		w.once.Do(func() { w.addrC <- m[1] })
	}
	return len(p), nil
}

func (w *lineWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// running is the real main loop started by startRun.
type running struct {
	addr string // host:port it listens on
	logs *lineWriter
	stop func() error // cancels run's context and waits for it to return
}

// startRun runs the real main loop with env as its whole environment and
// waits for its listen line.
func startRun(t *testing.T, env map[string]string) *running {
	t.Helper()
	logs := &lineWriter{addrC: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, io.Discard, logs) }()
	r := &running{logs: logs, stop: func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("run did not return after shutdown")
		}
	}}
	select {
	case r.addr = <-logs.addrC:
	case err := <-done:
		t.Fatalf("run returned early: %v\n%s", err, logs)
	case <-time.After(30 * time.Second):
		t.Fatalf("no listen line\n%s", logs)
	}
	return r
}

// TestRunServesAndShutsDownGracefully runs the real main loop with the tiny
// golden model: it serves, becomes ready, streams, and on cancellation lets
// the running stream end (finished or with a final error event) before run
// returns.
func TestRunServesAndShutsDownGracefully(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	model := filepath.Join(repoRoot(t), "mlxrt", "testdata", "models", "qwen3-f32")
	env := map[string]string{"PORT": "0", "LLM_MODEL": model, "HF_HUB_OFFLINE": "1",
		"OMINIX_SHUTDOWN_GRACE": "3s"}
	r := startRun(t, env)
	base := "http://" + r.addr
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "ready after the start-up models load")

	resp, err := http.Get(base + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	askGolden(t, base, model)

	// A long stream is running when the shutdown starts.
	body := `{"model":"m","stream":true,"max_tokens":200,"messages":[{"role":"user","content":"go on"}]}`
	stream, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer stream.Body.Close()
	require.Equal(t, http.StatusOK, stream.StatusCode)
	rd := bufio.NewReader(stream.Body)
	_, err = rd.ReadString('\n')
	require.NoError(t, err)
	stopped := make(chan error, 1)
	go func() { stopped <- r.stop() }()

	rest, _ := io.ReadAll(rd)
	text := string(rest)
	assert.True(t, strings.HasSuffix(strings.TrimSpace(text), "data: [DONE]"), "the stream ends properly: %q", tail(text))
	require.NoError(t, <-stopped)
	assert.Contains(t, r.logs.String(), "msg=stopped")
	_, err = http.Get(base + "/health")
	assert.Error(t, err, "the listener is closed")
}

func tail(s string) string {
	if len(s) > 300 {
		return s[len(s)-300:]
	}
	return s
}

// TestRunServesTLS: with OMINIX_TLS_CERT and OMINIX_TLS_KEY the real main
// loop serves HTTPS (what wss:// realtime clients need), with the
// transport's header limit.
func TestRunServesTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	dir := t.TempDir()
	cert, key := writeSelfSigned(t, dir)
	r := startRun(t, map[string]string{"PORT": "0", "LLM_MODEL": "none", "OMINIX_TLS_CERT": cert, "OMINIX_TLS_KEY": key})
	addr := r.addr
	assert.Contains(t, r.logs.String(), "url=https://")

	pemBytes, err := os.ReadFile(cert)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pemBytes))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + addr + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.NotNil(t, resp.TLS, "answered over TLS")

	req, err := http.NewRequest(http.MethodGet, "https://"+addr+"/health", nil)
	require.NoError(t, err)
	req.Header.Set("X-Big", strings.Repeat("a", 80<<10))
	resp, err = client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode, "headers are bounded")

	_, err = http.Get("http://" + addr + "/health")
	if err == nil {
		t.Log("plain HTTP to the TLS port got an answer (Go's server answers 400 to it)")
	}
	require.NoError(t, r.stop())
}

// TestServeShutdownDeadlineEndsStreams: a stream still running when the
// grace period ends gets the scheduler's final "shutting down" error event
// and [DONE] before its connection closes.
func TestServeShutdownDeadlineEndsStreams(t *testing.T) {
	cfg, err := LoadConfig(nil, env("PORT", "0", "OMINIX_SHUTDOWN_GRACE", "300ms"))
	require.NoError(t, err)
	llm := &pipelinetest.LLM{Script: pipelinetest.Fixed(pipelinetest.Words(strings.Repeat("and on ", 2000))...),
		StepDelay: 10 * time.Millisecond}
	eng := &engines{
		loaders: map[pipeline.Category]pipeline.Loader{pipeline.LLMSlot: pipelinetest.Loader(map[string]pipeline.Model{"slow": llm})},
		initial: []pipeline.ModelRef{{Category: pipeline.LLMSlot, Name: "slow"}},
	}
	logs := &lineWriter{addrC: make(chan string, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- serve(ctx, cfg, eng, slog.New(slog.NewTextHandler(logs, nil))) }()
	var base string
	select {
	case addr := <-logs.addrC:
		base = "http://" + addr
	case <-time.After(30 * time.Second):
		t.Fatalf("no listen line\n%s", logs)
	}
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 10*time.Millisecond)

	// On loopback, a request naming another host (DNS rebinding) is refused.
	req, err := http.NewRequest(http.MethodGet, base+"/v1/models", nil)
	require.NoError(t, err)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)

	body := `{"model":"slow","stream":true,"max_tokens":2000,"messages":[{"role":"user","content":"go on"}]}`
	stream, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer stream.Body.Close()
	require.Equal(t, http.StatusOK, stream.StatusCode)
	rd := bufio.NewReader(stream.Body)
	_, err = rd.ReadString('\n')
	require.NoError(t, err)
	cancel()

	rest, err := io.ReadAll(rd)
	require.NoError(t, err, "the connection is not cut before the final event")
	text := strings.TrimSpace(string(rest))
	require.True(t, strings.HasSuffix(text, "data: [DONE]"), "the stream ends properly: %q", tail(text))
	frames := strings.Split(text, "\n\n")
	require.GreaterOrEqual(t, len(frames), 2)
	final := frames[len(frames)-2]
	assert.Contains(t, final, `"error"`, "the last event before [DONE] is the error: %q", final)
	assert.Contains(t, final, "shutting down")
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after shutdown")
	}
	assert.Contains(t, logs.String(), "msg=stopped")
}

// askGolden asks the server at base the golden conversation of the model
// directory dir, greedy, and checks the answer is transformers' greedy
// generation.
func askGolden(t *testing.T, base, dir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "chat_golden.json"))
	require.NoError(t, err)
	var g chatGolden
	require.NoError(t, json.Unmarshal(raw, &g))
	code, body := postJSON(t, base+"/v1/chat/completions", map[string]any{
		"model": "any", "messages": g.Messages, "max_tokens": len(g.GeneratedIDs),
		"temperature": 0, "repetition_penalty": 1,
	})
	require.Equal(t, http.StatusOK, code, string(body))
	var resp struct {
		Choices []struct {
			Message      struct{ Content string }
			FinishReason string `json:"finish_reason"`
		}
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		}
	}
	require.NoError(t, json.Unmarshal(body, &resp))
	require.Len(t, resp.Choices, 1)
	assert.Equal(t, len(g.PromptIDs), resp.Usage.PromptTokens, "prompt tokens as transformers' chat template")
	assert.Equal(t, expected(g, resp.Usage.CompletionTokens, resp.Choices[0].FinishReason), resp.Choices[0].Message.Content)
}

// TestRunServesAHubModel: LLM_MODEL=org/name makes the real main loop
// download the model from the hub (a local fake serving the golden qwen3
// the way huggingface.co does, found through HF_ENDPOINT) into HF_HOME's
// cache, serve it, and answer as transformers does; a second start reuses
// the cache offline.
func TestRunServesAHubModel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole server")
	}
	dir := filepath.Join(repoRoot(t), "mlxrt", "testdata", "models", "qwen3-f32")
	fake, err := hubtest.NewFromDir("tiny-org/qwen3-golden", dir)
	require.NoError(t, err)
	defer fake.Close()
	home := t.TempDir()
	start := func(env map[string]string) (string, func() error) {
		r := startRun(t, env)
		base := "http://" + r.addr
		require.Eventually(t, func() bool {
			code, body := getBody(base + "/v1/models/status")
			return code == http.StatusOK && strings.Contains(body, `"llm":"tiny-org/qwen3-golden"`)
		}, 60*time.Second, 50*time.Millisecond, "the hub model loads\n%s", r.logs)
		return base, r.stop
	}
	env := map[string]string{"PORT": "0", "LLM_MODEL": "tiny-org/qwen3-golden", "HF_ENDPOINT": fake.URL, "HF_HOME": home}
	base, stop := start(env)
	askGolden(t, base, dir)
	require.NoError(t, stop())
	matches, err := filepath.Glob(filepath.Join(home, "hub", "models--tiny-org--qwen3-golden", "snapshots", "*", "config.json"))
	require.NoError(t, err)
	assert.Len(t, matches, 1, "the standard cache layout")

	fake.Close()
	env["HF_HUB_OFFLINE"] = "1"
	base, stop = start(env)
	askGolden(t, base, dir)
	require.NoError(t, stop())
}

func getBody(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
