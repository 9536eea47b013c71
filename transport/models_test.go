package transport_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	"github.com/ominix/ominix-api/transport"
	"github.com/ominix/ominix-api/transport/openai/oapitest"
)

func TestListModels(t *testing.T) {
	spec := oapitest.Load(t)
	e := newEnv(t, envOptions{load: map[pipeline.Category]string{pipeline.LLMSlot: "scripted", pipeline.TTSSlot: "scripted-tts"}})
	code, body := e.get("/v1/models")
	require.Equal(t, 200, code)
	spec.Require(t, "ListModelsResponse", body)
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID        string   `json:"id"`
			Object    string   `json:"object"`
			Created   int64    `json:"created"`
			OwnedBy   string   `json:"owned_by"`
			Type      string   `json:"type"`
			Endpoints []string `json:"endpoints"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &list))
	assert.Equal(t, "list", list.Object)
	require.Len(t, list.Data, 2)
	assert.Equal(t, "scripted", list.Data[0].ID)
	assert.Equal(t, "model", list.Data[0].Object)
	assert.Equal(t, "local", list.Data[0].OwnedBy)
	assert.Equal(t, "llm", list.Data[0].Type)
	assert.Equal(t, []string{"/v1/chat/completions"}, list.Data[0].Endpoints)
	assert.Positive(t, list.Data[0].Created)
	assert.Equal(t, "tts", list.Data[1].Type)
	assert.Equal(t, []string{"/v1/audio/speech"}, list.Data[1].Endpoints)

	_, err := e.slots.Unload("all")
	require.NoError(t, err)
	code, body = e.get("/v1/models")
	require.Equal(t, 200, code)
	assert.JSONEq(t, `{"object":"list","data":[]}`, string(body))
}

func TestModelsStatusLoadUnload(t *testing.T) {
	spec := oapitest.Load(t)
	other := &pipelinetest.LLM{Name: "other"}
	e := newEnv(t, envOptions{models: map[string]pipeline.Model{"org/other": other}})
	code, body := e.get("/v1/models/status")
	require.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"success","models":{"llm":"scripted","asr":null,"tts":null,"image":null}}`, string(body))

	code, body = readAll(t, e.post("/v1/models/load", `{"model_id":"org/other"}`))
	require.Equal(t, 200, code, "%s", body)
	assert.JSONEq(t, `{"status":"success","model":"other","model_type":"llm"}`, string(body))
	code, body = readAll(t, e.post("/v1/models/load", `{"model":"scripted-tts","model_type":"tts"}`))
	require.Equal(t, 200, code, "%s", body)
	assert.JSONEq(t, `{"status":"success","model":"scripted-tts","model_type":"tts"}`, string(body))
	_, body = e.get("/v1/models/status")
	assert.JSONEq(t, `{"status":"success","models":{"llm":"other","asr":null,"tts":"scripted-tts","image":null}}`, string(body))

	// A failed load answers an OpenAI error and leaves the previous model serving.
	code, body = readAll(t, e.post("/v1/models/load", `{"model":"org/missing"}`))
	assert.Equal(t, 404, code)
	spec.RequireStrict(t, "ErrorResponse", body)
	assert.Contains(t, errBodyOf(t, body).Error.Message, "org/missing")
	code, body = readAll(t, e.post("/v1/chat/completions", chatBody("still here", nil)))
	require.Equal(t, 200, code)
	assert.Contains(t, string(body), `"model":"other"`)

	code, body = readAll(t, e.post("/v1/models/load", `{"model":"x/y","model_type":"video"}`))
	assert.Equal(t, 400, code)
	assert.Equal(t, "Unknown model_type: video. Use: llm, asr, tts, or image", errBodyOf(t, body).Error.Message)
	code, body = readAll(t, e.post("/v1/models/load", `{"model_type":"llm"}`))
	assert.Equal(t, 400, code)
	assert.Equal(t, "model", *errBodyOf(t, body).Error.Param)
	code, _ = readAll(t, e.post("/v1/models/load", `{"model":`))
	assert.Equal(t, 400, code)
	code, _ = readAll(t, e.post("/v1/models/load", `{"model":"../../etc"}`))
	assert.Equal(t, 400, code)

	code, body = readAll(t, e.post("/v1/models/unload", `{"model_type":"tts"}`))
	require.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"success","message":"Unloaded the tts model."}`, string(body))
	code, body = readAll(t, e.post("/v1/models/unload", `{"model_type":"asr"}`))
	require.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"success","message":"No asr model was loaded."}`, string(body))
	code, body = readAll(t, e.post("/v1/models/unload", `{"model_type":"all"}`))
	require.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"success","message":"Unloaded the llm model."}`, string(body))
	code, _ = readAll(t, e.post("/v1/models/unload", `{"model_type":"everything"}`))
	assert.Equal(t, 400, code)
	code, _ = readAll(t, e.post("/v1/models/unload", `{}`))
	assert.Equal(t, 400, code)
	_, body = e.get("/v1/models/status")
	assert.JSONEq(t, `{"status":"success","models":{"llm":null,"asr":null,"tts":null,"image":null}}`, string(body))
}

func TestLoadLocalModelInsideRoots(t *testing.T) {
	root, base := modelTree(t)
	dir := filepath.Join(root, "qwen")
	local := &pipelinetest.LLM{Name: "local-qwen"}
	e := newEnv(t, envOptions{
		models: map[string]pipeline.Model{dir: local, filepath.Join(base, "secret"): local},
		opts:   &transport.Options{ModelRoots: []string{root}},
	})
	code, body := readAll(t, e.post("/v1/models/load", `{"model":"`+filepath.Join(root, "in")+`"}`))
	require.Equal(t, 200, code, "%s", body)
	assert.JSONEq(t, `{"status":"success","model":"local-qwen","model_type":"llm"}`, string(body), "the symlink is resolved before loading")

	for _, p := range []string{filepath.Join(root, "out"), filepath.Join(base, "secret"), "/dev/zero", filepath.Join(root, "fifo"), ""} {
		code, body := readAll(t, e.post("/v1/models/load", `{"model":"`+p+`"}`))
		assert.Equal(t, 400, code, "%s: %s", p, body)
	}
	_, err := os.Stat(filepath.Join(base, "secret"))
	require.NoError(t, err)
}

func TestLoadBodyLimit(t *testing.T) {
	e := newEnv(t, envOptions{})
	big := `{"model":"` + string(make([]byte, 100<<10)) + `"}`
	code, body := readAll(t, e.post("/v1/models/load", big))
	assert.Equal(t, 413, code, "%s", body)
}

func TestHealthProbesAndMetrics(t *testing.T) {
	var ready atomic.Bool
	web := fstest.MapFS{"index.html": {Data: []byte("<h1>demos</h1>")}, "chat.html": {Data: []byte("chat")}}
	e := newEnv(t, envOptions{
		opts: &transport.Options{APIKey: "sk-test-key-0123456789"},
		deps: func(d *transport.Deps) {
			d.Ready = ready.Load
			d.Web = web
		},
	})
	code, body := e.get("/health")
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"healthy","service":"ominix-api","version":"test"}`, string(body))
	code, body = e.get("/healthz")
	assert.Equal(t, 200, code)
	assert.JSONEq(t, `{"status":"ok"}`, string(body))
	code, body = e.get("/readyz")
	assert.Equal(t, 503, code)
	assert.JSONEq(t, `{"status":"loading"}`, string(body))
	ready.Store(true)
	code, _ = e.get("/readyz")
	assert.Equal(t, 200, code)

	code, body = e.get("/")
	assert.Equal(t, 200, code, "pages are served without the key")
	assert.Contains(t, string(body), "demos")
	code, _ = e.get("/chat.html")
	assert.Equal(t, 200, code)
	code, body = e.get("/nothing.html")
	assert.Equal(t, 404, code)
	errBodyOf(t, body)
	code, body = e.get("/v1/nothing")
	assert.Equal(t, 404, code)
	assert.Contains(t, errBodyOf(t, body).Error.Message, "Invalid URL")

	code, _ = e.get("/v1/models")
	assert.Equal(t, 401, code, "the API needs the key")
	code, _ = e.get("/metrics")
	assert.Equal(t, 401, code)
	req, err := newRequest("GET", e.url+"/metrics", "sk-test-key-0123456789")
	require.NoError(t, err)
	code, body = readAll(t, do(t, req))
	assert.Equal(t, 200, code)
	for _, name := range []string{"ominix_sessions_active", "ominix_queue_depth", "ominix_model_loaded"} {
		assert.Contains(t, string(body), name)
	}
}

// configLoader loads a local LLM directory the way the real engine starts:
// it opens config.json (blocking on a FIFO, following links) and quotes
// what it read when that is not JSON, as a parse error would.
func configLoader() pipeline.Loader {
	return pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
		b, err := os.ReadFile(filepath.Join(ref.Name, "config.json"))
		if err != nil {
			return nil, pipeline.Invalid("model", "read config.json: %v", err)
		}
		if !json.Valid(b) {
			return nil, pipeline.Invalid("model", "config.json is not JSON: %q", b)
		}
		return &pipelinetest.LLM{Name: filepath.Base(ref.Name)}, nil
	})
}

// loaderEnv is a test server whose llm slot loads with loader, bounded by
// timeout, with root as the model root (none when empty).
func loaderEnv(t *testing.T, loader pipeline.Loader, root string, timeout time.Duration) *env {
	t.Helper()
	th := pipeline.StartThread()
	slots := pipeline.NewSlots(th, map[pipeline.Category]pipeline.Loader{pipeline.LLMSlot: loader}, nil)
	t.Cleanup(func() { slots.Close(); th.Stop() }) // runs after the env's own cleanup
	opts := &transport.Options{LoadTimeout: timeout}
	if root != "" {
		opts.ModelRoots = []string{root}
	}
	return newEnv(t, envOptions{opts: opts, deps: func(d *transport.Deps) { d.Slots = slots }})
}

// postWithin posts like env.post but gives up after the harness's wait, so
// a load that hangs fails the test instead of stalling it.
func postWithin(t *testing.T, e *env, path, body string) (int, []byte, http.Header) {
	t.Helper()
	c := &http.Client{Timeout: wait}
	resp, err := c.Post(e.url+path, "application/json", strings.NewReader(body))
	require.NoError(t, err, "POST %s %s", path, body)
	code, b := readAll(t, resp)
	return code, b, resp.Header
}

func loadBody(model string) string {
	b, _ := json.Marshal(map[string]string{"model": model})
	return string(b)
}

func TestLoadChecksModelDirContents(t *testing.T) {
	spec := oapitest.Load(t)
	root, base := modelTree(t)
	const secret = "root:x:0:0:TOP-SECRET"
	require.NoError(t, os.WriteFile(filepath.Join(base, "secret", "passwd"), []byte(secret), 0o644))
	good, fifo, leak := filepath.Join(root, "good"), filepath.Join(root, "fifo-model"), filepath.Join(root, "leak")
	writeFiles(t, good, "config.json", "en-us/mdef")
	require.NoError(t, os.MkdirAll(fifo, 0o755))
	require.NoError(t, syscall.Mkfifo(filepath.Join(fifo, "config.json"), 0o644))
	symlink(t, filepath.Join(base, "secret", "passwd"), filepath.Join(leak, "config.json"))
	e := loaderEnv(t, configLoader(), root, 5*time.Second)

	code, body, _ := postWithin(t, e, "/v1/models/load", loadBody(fifo))
	require.Equal(t, 400, code, "a FIFO in the model directory is refused before any loader opens it: %s", body)
	spec.RequireStrict(t, "ErrorResponse", body)
	eb := errBodyOf(t, body)
	assert.Contains(t, eb.Error.Message, `"config.json"`)
	assert.Equal(t, "model", *eb.Error.Param)

	code, body, _ = postWithin(t, e, "/v1/models/load", loadBody(good))
	require.Equal(t, 200, code, "the slot is free after the refusal: %s", body)
	assert.JSONEq(t, `{"status":"success","model":"good","model_type":"llm"}`, string(body))

	code, body, _ = postWithin(t, e, "/v1/models/load", loadBody(leak))
	require.Equal(t, 400, code, "%s", body)
	assert.Equal(t, "model_path_not_allowed", *errBodyOf(t, body).Error.Code)
	for _, s := range []string{"TOP-SECRET", "passwd", "secret", base} {
		assert.NotContains(t, string(body), s, "the refusal leaks nothing about the link's target")
	}
	_, body = e.get("/v1/models/status")
	assert.Contains(t, string(body), `"llm":"good"`, "refused loads leave the model serving")
}

func TestLoadHungLoaderTimesOut(t *testing.T) {
	spec := oapitest.Load(t)
	release := make(chan struct{})
	var once sync.Once
	loader := pipeline.LoaderFunc(func(ctx context.Context, ref pipeline.ModelRef) (pipeline.Model, error) {
		switch ref.Name {
		case "org/hang": // ignores its context, like a read of a FIFO
			<-release
			return nil, pipeline.Invalid("model", "released")
		case "org/slow": // stops when cancelled
			<-ctx.Done()
			return nil, ctx.Err()
		case "org/panic":
			panic("loader bug")
		}
		return &pipelinetest.LLM{Name: ref.Name}, nil
	})
	e := loaderEnv(t, loader, "", 50*time.Millisecond)
	t.Cleanup(func() { once.Do(func() { close(release) }) })

	code, body, _ := postWithin(t, e, "/v1/models/load", loadBody("org/slow"))
	require.Equal(t, 504, code, "%s", body)
	spec.RequireStrict(t, "ErrorResponse", body)
	eb := errBodyOf(t, body)
	assert.Equal(t, "load_timeout", *eb.Error.Code)
	assert.Equal(t, "Loading llm model org/slow did not finish in time.", eb.Error.Message)
	code, body, _ = postWithin(t, e, "/v1/models/load", loadBody("org/ok"))
	require.Equal(t, 200, code, "a loader that stopped frees the slot before the 504 is sent: %s", body)

	code, body, _ = postWithin(t, e, "/v1/models/load", loadBody("org/hang"))
	require.Equal(t, 504, code, "a loader that never returns cannot hold the request: %s", body)
	spec.RequireStrict(t, "ErrorResponse", body)
	eb = errBodyOf(t, body)
	assert.Equal(t, "load_timeout", *eb.Error.Code)
	assert.Contains(t, eb.Error.Message, "has not stopped yet")

	code, body, h := postWithin(t, e, "/v1/models/load", loadBody("org/ok"))
	require.Equal(t, 429, code, "the slot stays busy while the abandoned loader runs: %s", body)
	assert.Equal(t, "load_in_progress", *errBodyOf(t, body).Error.Code)
	assert.Equal(t, "5", h.Get("Retry-After"))

	once.Do(func() { close(release) })
	require.Eventually(t, func() bool {
		code, _, _ := postWithin(t, e, "/v1/models/load", loadBody("org/ok"))
		return code == 200
	}, wait, 5*time.Millisecond, "loads work again once the loader returns")

	code, body, _ = postWithin(t, e, "/v1/models/load", loadBody("org/panic"))
	require.Equal(t, 500, code, "a loader's panic is an internal error: %s", body)
	spec.RequireStrict(t, "ErrorResponse", body)
	assert.NotContains(t, string(body), "loader bug")
	code, _, _ = postWithin(t, e, "/v1/models/load", loadBody("org/ok"))
	assert.Equal(t, 200, code)
	_, body = e.get("/v1/models/status")
	assert.Contains(t, string(body), `"llm":"org/ok"`)
}
