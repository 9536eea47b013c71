package transport_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"testing/fstest"

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
