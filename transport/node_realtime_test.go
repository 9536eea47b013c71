package transport_test

import (
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

// TestNodeSDKRealtime drives /v1/realtime over wss:// (a test certificate
// Node trusts through NODE_EXTRA_CA_CERTS) with the openai npm package's
// realtime clients: OpenAIRealtimeWebSocket (key in the sub-protocol) and
// OpenAIRealtimeWS (key in the Authorization header), GA and beta. Each
// connection opens with ?model=, becomes a transcription session, and
// must get one committed item and one completed transcript per utterance.
func TestNodeSDKRealtime(t *testing.T) {
	node := nodeOrSkip(t, "openai", "ws")
	e := newAudioEnv(t, "sk-node-test", func(o *envOptions) { o.noStart = true })
	e.http.StartTLS()
	e.url = e.http.URL

	audioFile := filepath.Join(t.TempDir(), "speech.pcm")
	require.NoError(t, os.WriteFile(audioFile, rt.PCM16(rt.Utterances(24000, 3, 300, 600, 900)), 0o600))
	stdout := runNodeRealtime(t, node, e, "realtime.mjs", e.url+"/v1", audioFile, "3")

	type run struct {
		Types     []string
		Created   string
		Updated   string
		Committed []string
		Completed map[string]string
		Deltas    map[string]string
		Errors    []string
	}
	var got map[string]run
	require.NoError(t, json.Unmarshal(stdout, &got), "%s", stdout)
	require.Len(t, got, 3)
	for name, r := range got {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, r.Errors)
			assert.Equal(t, "session.created", r.Created)
			if name == "ws_beta" {
				assert.Equal(t, "transcription_session.updated", r.Updated)
				assert.Contains(t, r.Types, "conversation.item.created")
			} else {
				assert.Equal(t, "session.updated", r.Updated)
				assert.Contains(t, r.Types, "conversation.item.added")
			}
			require.Len(t, r.Committed, 3, "types: %v", r.Types)
			require.Len(t, r.Completed, 3)
			for _, id := range r.Committed {
				assert.NotEmpty(t, r.Completed[id], "item %s", id)
				assert.Equal(t, r.Completed[id], r.Deltas[id], "item %s: deltas spell the transcript", id)
			}
		})
	}
	require.Eventually(t, func() bool { return e.reg.Active() == 0 }, wait, time.Millisecond)
}

// TestNodeSDKRealtimeConversation drives a conversation turn through the
// openai npm package's realtime clients (GA over both clients, beta over
// OpenAIRealtimeWS): a typed user message and response.create must bring
// audio deltas, transcript deltas that spell the answer, and
// response.done "completed" with usage.
func TestNodeSDKRealtimeConversation(t *testing.T) {
	node := nodeOrSkip(t, "openai", "ws")
	e := newAudioEnv(t, "sk-node-test", func(o *envOptions) {
		o.noStart = true
		o.llm = &pipelinetest.LLM{Script: func(req *pipeline.ChatRequest) []string {
			return pipelinetest.Words("You asked about " + req.Messages[len(req.Messages)-1].Content + ". Here is the answer.")
		}}
	})
	e.http.StartTLS()
	e.url = e.http.URL

	audioFile := filepath.Join(t.TempDir(), "turn.pcm")
	require.NoError(t, os.WriteFile(audioFile, rt.PCM16(rt.Utterances(24000, 1, 300, 900, 900)), 0o600))
	stdout := runNodeRealtime(t, node, e, "conversation.mjs", e.url+"/v1", "the weather", audioFile)

	type run struct {
		Types      []string
		AudioBytes int
		Transcript string
		Final      string
		Status     string
		Heard      string
		Usage      map[string]any
		Errors     []string
	}
	var got map[string]run
	require.NoError(t, json.Unmarshal(stdout, &got), "%s", stdout)
	require.Len(t, got, 4)

	// The spoken turn: heard, committed, answered in audio.
	voice := got["ws_ga_voice"]
	delete(got, "ws_ga_voice")
	t.Run("ws_ga_voice", func(t *testing.T) {
		assert.Empty(t, voice.Errors)
		require.NotEmpty(t, voice.Heard, "types: %v", voice.Types)
		assert.Equal(t, "completed", voice.Status, "types: %v", voice.Types)
		wantVoice := "You asked about " + voice.Heard + ". Here is the answer."
		assert.Equal(t, wantVoice, voice.Transcript)
		assert.Equal(t, wantVoice, voice.Final)
		assert.Positive(t, voice.AudioBytes)
		assert.Positive(t, voice.Usage["input_tokens"])
		order := []string{"input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped",
			"input_audio_buffer.committed", "response.created", "response.output_audio.delta", "response.done"}
		last := -1
		for _, typ := range order {
			at := slices.Index(voice.Types, typ)
			require.Greater(t, at, last, "%s comes after %v: %v", typ, order, voice.Types)
			last = at
		}
		assert.Less(t, slices.Index(voice.Types, "conversation.item.input_audio_transcription.completed"),
			slices.Index(voice.Types, "response.output_audio_transcript.delta"), "the answer reads the finished transcript")
	})

	const want = "You asked about the weather. Here is the answer."
	for name, r := range got {
		t.Run(name, func(t *testing.T) {
			assert.Empty(t, r.Errors)
			assert.Equal(t, "completed", r.Status, "types: %v", r.Types)
			assert.Equal(t, want, r.Transcript)
			assert.Equal(t, want, r.Final)
			// The scripted voice: 10 ms per character of each clause, 24 kHz PCM16.
			assert.InDelta(t, (len("You asked about the weather.")+len("Here is the answer."))*10*48, r.AudioBytes, 96)
			assert.Positive(t, r.Usage["output_tokens"])
			delta := "response.output_audio.delta"
			if name == "ws_beta" {
				delta = "response.audio.delta"
			}
			assert.Less(t, slices.Index(r.Types, delta), slices.Index(r.Types, "response.done"))
		})
	}
	e.idle()
}

// runNodeRealtime runs script of testdata/npm with args under node against
// e's TLS server, whose certificate Node trusts through
// NODE_EXTRA_CA_CERTS (Node 20 and 21 get --experimental-websocket for
// their WebSocket), and returns its stdout.
func runNodeRealtime(t *testing.T, node string, e *env, script string, args ...string) []byte {
	t.Helper()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.http.Certificate().Raw}), 0o600))
	args = append([]string{script}, args...)
	if exec.Command(node, "-e", "process.exit(typeof WebSocket === 'function' ? 0 : 1)").Run() != nil {
		args = append([]string{"--experimental-websocket"}, args...) // Node 20 and 21
	}
	return execNode(t, node, []string{"NODE_EXTRA_CA_CERTS=" + ca}, args...)
}
