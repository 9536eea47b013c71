package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
)

// The official openai npm package drives the server from Node. Its scripts
// live in testdata/npm; install the package with
//
//	npm ci --prefix transport/testdata/npm
//
// Without node or the installed package the tests are skipped, unless
// OMINIX_REQUIRE_NODE=1 (CI sets it), which makes them fail instead.

const npmDir = "testdata/npm"

// nodeOrSkip returns the node binary when it and the npm packages pkgs
// are installed; otherwise it skips the test (fails it with
// OMINIX_REQUIRE_NODE=1).
func nodeOrSkip(t *testing.T, pkgs ...string) string {
	t.Helper()
	node, err := exec.LookPath("node")
	for _, pkg := range pkgs {
		if err == nil {
			_, err = os.Stat(filepath.Join(npmDir, "node_modules", pkg, "package.json"))
		}
	}
	if err != nil {
		if os.Getenv("OMINIX_REQUIRE_NODE") == "1" {
			t.Fatalf("node or the npm packages %v are missing (%v): run npm ci --prefix transport/testdata/npm", pkgs, err)
		}
		t.Skipf("node or the npm packages %v are missing (%v): run npm ci --prefix transport/testdata/npm (OMINIX_REQUIRE_NODE=1 makes this fail)", pkgs, err)
	}
	return node
}

// execNode runs node with args (flags, then a script of testdata/npm) in
// testdata/npm, with env added to the test process's environment, for at
// most two minutes, and returns its stdout; a failure fails t with its
// stderr.
func execNode(t *testing.T, node string, env []string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = npmDir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "node %s: %s", strings.Join(args, " "), stderr.String())
	return stdout.Bytes()
}

// runNode runs a script of testdata/npm against baseURL and returns its
// stdout.
func runNode(t *testing.T, script, baseURL string) []byte {
	t.Helper()
	return execNode(t, nodeOrSkip(t, "openai"), nil, script, baseURL)
}

func TestNodeSDKChat(t *testing.T) {
	llm := &pipelinetest.LLM{Tools: pipeline.ToolsHermes, Script: func(req *pipeline.ChatRequest) []string {
		if len(req.Tools) > 0 {
			return []string{"<tool_call>", `{"name": "get_weather", "arguments": `, `{"city": "Paris"}}`, "</tool_call>"}
		}
		return pipelinetest.Echo(req)
	}}
	e := newEnv(t, envOptions{llm: llm})
	out := runNode(t, "chat.mjs", e.url+"/v1")
	var got struct {
		Plain struct {
			Content, Model, Finish string
			CompletionTokens       int
		}
		Stream struct {
			Content, Role, Finish         string
			IDs, Chunks, CompletionTokens int
		}
		Tools struct {
			Calls  []struct{ ID, Name, Arguments string }
			Finish string
		}
		Helper struct{ Content string }
		Error  struct {
			Status      int
			Param, Type string
		}
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Equal(t, "hello from node", got.Plain.Content)
	assert.Equal(t, "scripted", got.Plain.Model)
	assert.Equal(t, "stop", got.Plain.Finish)
	assert.Equal(t, 4, got.Plain.CompletionTokens)

	assert.Equal(t, "streamed to node", got.Stream.Content)
	assert.Equal(t, "assistant", got.Stream.Role)
	assert.Equal(t, "stop", got.Stream.Finish)
	assert.Equal(t, 1, got.Stream.IDs)
	assert.Equal(t, 4, got.Stream.CompletionTokens, "stream_options.include_usage")

	require.Len(t, got.Tools.Calls, 1)
	assert.Equal(t, "get_weather", got.Tools.Calls[0].Name)
	assert.JSONEq(t, `{"city": "Paris"}`, got.Tools.Calls[0].Arguments)
	assert.Regexp(t, `^call_`, got.Tools.Calls[0].ID)
	assert.Equal(t, "tool_calls", got.Tools.Finish)

	assert.Equal(t, "helper works", got.Helper.Content)
	assert.Equal(t, 400, got.Error.Status)
	assert.Equal(t, "temperature", got.Error.Param)
	e.idle()
}

// TestNodeSDKAbort: the client aborts mid-stream with an AbortController;
// the server stops the work (no live sequence, ominix_sessions_active 0).
func TestNodeSDKAbort(t *testing.T) {
	llm := &pipelinetest.LLM{NoEOS: true, StepDelay: time.Millisecond}
	e := newEnv(t, envOptions{llm: llm})
	out := runNode(t, "abort.mjs", e.url+"/v1")
	var got struct {
		Chunks  int
		Aborted bool
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.True(t, got.Aborted)
	assert.GreaterOrEqual(t, got.Chunks, 5)
	e.idle()
	steps := llm.Steps()
	require.Never(t, func() bool { return llm.Steps() != steps }, 50*time.Millisecond, 5*time.Millisecond)
}

// TestNodeSDKMidStreamError: a generation that fails after some tokens
// makes the npm client's for-await loop, and its stream helper, throw an
// APIError carrying the server's message, type and code, after the text
// sent before the failure.
func TestNodeSDKMidStreamError(t *testing.T) {
	llm := &pipelinetest.LLM{FailAfter: 2, FailErr: &pipeline.Error{Kind: pipeline.KindUnavailable, Code: "model_unloaded",
		Message: "The model was unloaded while generating; retry the request."}}
	e := newEnv(t, envOptions{llm: llm})
	out := runNode(t, "midstream.mjs", e.url+"/v1")
	type thrown struct {
		Name, Message, Type, Code string
		IsAPIError                bool
		Status                    *int
	}
	var got struct {
		Loop, Helper struct {
			Content string
			Error   *thrown
		}
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	for name, r := range map[string]struct {
		Content string
		Error   *thrown
	}{"for await": got.Loop, "stream helper": got.Helper} {
		assert.Equal(t, "a b", r.Content, "%s: the text before the failure arrived", name)
		require.NotNil(t, r.Error, "%s: the failure throws", name)
		assert.True(t, r.Error.IsAPIError, "%s: an APIError, got %s", name, r.Error.Name)
		assert.Equal(t, "The model was unloaded while generating; retry the request.", r.Error.Message, name)
		assert.Equal(t, "server_error", r.Error.Type, name)
		assert.Equal(t, "model_unloaded", r.Error.Code, name)
		assert.Nil(t, r.Error.Status, "%s: no HTTP status: the response had begun with 200", name)
	}
	e.idle()
}
