package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/hub"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/sessions"
	"github.com/ominix/ominix-api/transport"
)

// chatGolden is mlxrt/testdata/models/<name>/chat_golden.json, written by
// gen_chat_golden.py from transformers' greedy generation.
type chatGolden struct {
	Model        string             `json:"model"`
	Messages     []pipeline.Message `json:"messages"`
	PromptIDs    []int              `json:"prompt_ids"`
	GeneratedIDs []int              `json:"generated_ids"`
	PrefixTexts  []string           `json:"prefix_texts"`
	Tokens       []string           `json:"generated_tokens"`
}

// realServer serves the real engines (the LLM loader, no speech) over a
// loopback HTTP server, with the golden model directory as model root.
func realServer(t *testing.T, root string) string {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	thread := pipeline.StartThread()
	slots := pipeline.NewSlots(thread, map[pipeline.Category]pipeline.Loader{
		pipeline.LLMSlot: llmLoader(&hub.Options{Offline: true, Logger: log}),
	}, nil)
	sched := pipeline.NewScheduler(thread, slots, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = sched.Run(ctx) }()
	reg := sessions.NewRegistry(nil)
	srv, err := transport.New(transport.Deps{Scheduler: sched, Slots: slots, Sessions: reg, Logger: log},
		&transport.Options{ModelRoots: []string{root}})
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		cancel()
		<-done
		slots.Close()
		thread.Stop()
	})
	return hs.URL
}

func postJSON(t *testing.T, url string, body any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(url, "application/json", strings.NewReader(string(b)))
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

// TestGoldenModelsThroughChatAPI loads every golden model family through
// POST /v1/models/load and asks it the golden conversation with the official
// Go SDK, greedy, streaming and not: the answer must be transformers'
// greedy generation up to where the server stopped.
func TestGoldenModelsThroughChatAPI(t *testing.T) {
	if testing.Short() {
		t.Skip("loads every golden model")
	}
	root, err := filepath.EvalSymlinks(filepath.Join(repoRoot(t), "mlxrt", "testdata", "models"))
	require.NoError(t, err)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	url := realServer(t, root)
	client := openai.NewClient(option.WithBaseURL(url+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	tested := 0
	for _, e := range entries {
		raw, err := os.ReadFile(filepath.Join(root, e.Name(), "chat_golden.json"))
		if err != nil {
			continue
		}
		var g chatGolden
		require.NoError(t, json.Unmarshal(raw, &g))
		t.Run(g.Model, func(t *testing.T) {
			code, body := postJSON(t, url+"/v1/models/load", map[string]string{
				"model": filepath.Join(root, g.Model), "model_type": "llm"})
			require.Equal(t, http.StatusOK, code, string(body))

			params := openai.ChatCompletionNewParams{
				Model:       "ignored",
				Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(g.Messages[0].Content), openai.UserMessage(g.Messages[1].Content)},
				MaxTokens:   openai.Int(int64(len(g.GeneratedIDs))),
				Temperature: openai.Float(0),
				Logprobs:    openai.Bool(true),
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			// Plain greedy like the golden run: turn off the repetition
			// penalty some generation_config.json files set by default.
			greedy := option.WithJSONSet("repetition_penalty", 1)
			resp, err := client.Chat.Completions.New(ctx, params, greedy)
			require.NoError(t, err)
			require.Len(t, resp.Choices, 1)
			assert.Equal(t, int64(len(g.PromptIDs)), resp.Usage.PromptTokens, "prompt tokens as transformers' chat template")
			got := resp.Choices[0].Message.Content
			var served []string
			for _, lp := range resp.Choices[0].Logprobs.Content {
				served = append(served, lp.Token)
			}
			want := expected(g, int(resp.Usage.CompletionTokens), resp.Choices[0].FinishReason)
			if strings.Contains(g.Model, "-q") {
				// MLX-quantized models run with int8-rounded activations
				// (mlxrt/mx QuantizedLinear), within the logit tolerance the
				// golden tests justify; that may flip a near-tie late in a
				// greedy run, so the first quantAgree tokens must agree.
				prefix := g.PrefixTexts[quantAgree-1]
				assert.True(t, strings.HasPrefix(got, prefix), "got %q, want a continuation of %q (tokens %v)", got, prefix, g.Tokens)
			} else {
				assert.Equal(t, want, got, "golden tokens %q, served %q", g.Tokens, served)
			}

			stream := client.Chat.Completions.NewStreaming(ctx, params, greedy)
			acc := openai.ChatCompletionAccumulator{}
			pieces := 0
			for stream.Next() {
				chunk := stream.Current()
				acc.AddChunk(chunk)
				if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
					pieces++
				}
			}
			require.NoError(t, stream.Err())
			assert.Equal(t, resp.Choices[0].Message.Content, acc.Choices[0].Message.Content, "streamed and buffered answers agree")
			if len(want) > 0 {
				assert.Positive(t, pieces)
			}
		})
		tested++
	}
	assert.GreaterOrEqual(t, tested, 12, "every golden model has chat_golden.json")
}

// quantAgree is how many greedy tokens of a quantized model must equal
// transformers' run on the dequantized weights.
const quantAgree = 8

// expected is the golden answer for a generation of n tokens that ended
// with finish: n tokens when cut by length, n-1 before an end token.
func expected(g chatGolden, n int, finish string) string {
	switch {
	case finish == "length" && n >= 1 && n <= len(g.PrefixTexts):
		return g.PrefixTexts[n-1]
	case finish == "stop" && n >= 2 && n-1 <= len(g.PrefixTexts):
		return g.PrefixTexts[n-2]
	case finish == "stop" && n == 1:
		return ""
	}
	return fmt.Sprintf("<unexpected: %d tokens, finish %q>", n, finish)
}
