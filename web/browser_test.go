package web_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
)

// pages are the demo pages and the element ids DESIGN.md fixes for them.
var pages = map[string][]string{
	"index.html":      {"demos"},
	"chat.html":       {"prompt", "send", "messages"},
	"transcribe.html": {"start", "stop", "partial", "transcript"},
	"speech.html":     {"text", "voice", "speak"},
	"voice.html":      {"start", "stop", "log"},
}

// TestIndexAndLayout: the index links every demo; every page has its fixed
// element ids, loads without script errors and fits a phone-sized screen
// without sideways scrolling.
func TestIndexAndLayout(t *testing.T) {
	setup(t)
	srv := sharedServer(t)
	p := newBrowser(t, browserOpts{})

	p.open(srv.URL+"/", "#demos")
	links := eval[[]string](p, `[...document.querySelectorAll("#demos a")].map(a => a.getAttribute("href"))`)
	assert.ElementsMatch(t, []string{"chat.html", "transcribe.html", "speech.html", "voice.html"}, links)
	p.waitJS(10*time.Second, "the loaded models listed", `document.getElementById("models").textContent.includes("qwen3-f32")`)
	p.screenshot("index")

	p.do(10*time.Second, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	for name, ids := range pages {
		p.open(srv.URL+"/"+name, "body")
		for _, id := range ids {
			p.waitJS(5*time.Second, name+" #"+id, fmt.Sprintf(`document.getElementById(%q) !== null`, id))
		}
		// Let the page's start-up requests finish before measuring.
		p.waitJS(5*time.Second, name+" loaded", `document.readyState === "complete"`)
		overflow := eval[int](p, `document.documentElement.scrollWidth - window.innerWidth`)
		assert.LessOrEqual(t, overflow, 0, "%s scrolls sideways on a 390px-wide screen", name)
		p.screenshotArtifact("phone-" + strings.TrimSuffix(name, ".html"))
	}
	assert.Empty(t, p.exceptions(), "uncaught exceptions")
}

// TestChatStreams: chat.html lists the llm from /v1/models, streams the
// answer into #messages token by token (the text grows through many
// lengths before the stream ends), shows time to first token, and Stop
// aborts a long answer, which ends the work on the server.
func TestChatStreams(t *testing.T) {
	setup(t)
	srv := sharedServer(t)
	p := newBrowser(t, browserOpts{})

	p.open(srv.URL+"/chat.html", "#prompt")
	p.waitJS(10*time.Second, "the model picker", `[...document.querySelectorAll("#model option")].some(o => o.value === "qwen3-f32")`)
	p.do(10*time.Second,
		chromedp.SetValue(chromedp.ID("max-tokens"), "200"),
		chromedp.SetValue(chromedp.ID("temperature"), "0"), // greedy: the same answer every run
		chromedp.SetValue(chromedp.ID("prompt"), "Tell me a short story about a lighthouse."),
		// The page's own record of #messages' length at every change.
		chromedp.Evaluate[chromedp.Void](`window.lengths = [];
			new MutationObserver(() => window.lengths.push(document.getElementById("messages").textContent.length))
				.observe(document.getElementById("messages"), {subtree: true, childList: true, characterData: true});`),
	)
	start := time.Now()
	p.do(10*time.Second, chromedp.Click(chromedp.ID("send")))

	// Poll #messages' length as fast as the DevTools round trip allows
	// while the answer streams.
	var seen []int
	deadline := time.Now().Add(60 * time.Second)
	for {
		var st struct {
			N    int
			Done bool
		}
		require.NoError(t, json.Unmarshal(eval[[]byte](p, `({n: document.getElementById("messages").textContent.length,
			done: window.demoStats.chat.finish !== null || window.demoStats.chat.error !== null})`), &st))
		if len(seen) == 0 || seen[len(seen)-1] != st.N {
			seen = append(seen, st.N)
		}
		if st.Done {
			break
		}
		require.True(t, time.Now().Before(deadline), "timed out waiting for the chat answer")
	}
	elapsed := time.Since(start)
	require.Empty(t, eval[*string](p, `window.demoStats.chat.error`), "chat error")
	observed := eval[[]int](p, `window.lengths`)
	t.Logf("answer streamed in %v: %d lengths seen by polling %v, %d by the page's observer", elapsed, len(seen), seen, len(observed))
	assert.GreaterOrEqual(t, distinctIncreasing(seen), 3, "polling saw #messages grow in several steps")
	assert.GreaterOrEqual(t, distinctIncreasing(observed), 10, "#messages changed once per token")
	assert.Contains(t, []string{"length", "stop"}, eval[string](p, `window.demoStats.chat.finish`))
	assert.GreaterOrEqual(t, eval[int](p, `window.demoStats.chat.deltas`), 10)
	ttft := eval[float64](p, `window.demoStats.chat.ttftMs`)
	assert.Greater(t, ttft, 0.0)
	assert.NotEqual(t, "–", p.text("#ttft"))
	t.Logf("time to first token shown by the page: %s (%.0f ms)", p.text("#ttft"), ttft)
	answer := p.text("#messages .msg.assistant")
	assert.Greater(t, len(strings.TrimSpace(strings.TrimPrefix(answer, "Assistant"))), 0, "an answer")
	p.screenshot("chat")

	// Stop: the page's Stop button is pressed (from a DOM observer, so it
	// happens mid-stream however fast the tiny model is) once three tokens
	// of a long answer have arrived.
	p.do(10*time.Second,
		chromedp.Click(chromedp.ID("clear")), // a new chat, so the context has room
		chromedp.SetValue(chromedp.ID("max-tokens"), "200"),
		chromedp.SetValue(chromedp.ID("prompt"), "Now a long one."),
		chromedp.Evaluate[chromedp.Void](`window.stopAt = null;
			new MutationObserver((_, obs) => {
				if (window.demoStats.chat.deltas >= 3 && window.stopAt === null) {
					window.stopAt = window.demoStats.chat.deltas;
					document.getElementById("stop").click();
					obs.disconnect();
				}
			}).observe(document.getElementById("messages"), {subtree: true, childList: true, characterData: true});`),
		chromedp.Click(chromedp.ID("send")),
	)
	p.waitJS(30*time.Second, "the abort", `(s => s.aborted || s.finish !== null || s.error !== null)(window.demoStats.chat)`)
	require.True(t, eval[bool](p, `window.demoStats.chat.aborted`), "the answer was aborted, not finished")
	stoppedAt := eval[int](p, `window.demoStats.chat.deltas`)
	t.Logf("Stop pressed after %d tokens; %d had been shown when the stream ended", eval[int](p, `window.stopAt`), stoppedAt)
	assert.Less(t, stoppedAt, 150, "the stream ended soon after Stop")
	assert.Contains(t, p.text("#status"), "Stopped")
	assert.False(t, eval[bool](p, `document.getElementById("stop").disabled === false`), "Stop is disabled again")
	// The server sees the client go and cancels the work.
	poll(t, 15*time.Second, "ominix_sessions_active 0 after the abort", func() bool {
		return metric(t, srv.URL, "ominix_sessions_active") == "0"
	})
	assert.Empty(t, p.exceptions(), "uncaught exceptions")
}

// TestSpeechPlaysWhileStreaming: speech.html offers the OpenAI voices,
// schedules the streamed PCM chunk by chunk as it arrives, records the time
// to first audio, plays it, and Stop silences it.
func TestSpeechPlaysWhileStreaming(t *testing.T) {
	setup(t)
	srv := sharedServer(t)
	p := newBrowser(t, browserOpts{})

	p.open(srv.URL+"/speech.html", "#speak")
	voices := eval[[]string](p, `[...document.querySelectorAll("#voice option")].map(o => o.value)`)
	assert.Subset(t, voices, []string{"alloy", "echo", "fable", "onyx", "nova", "shimmer"})
	p.do(10*time.Second,
		chromedp.SetValue(chromedp.ID("voice"), "nova"),
		chromedp.SetValue(chromedp.ID("text"), "The first sentence plays at once. A second one follows it. "+
			"The third sentence is still being made while the first one plays. And a fourth one ends the test."),
		chromedp.Click(chromedp.ID("speak")),
	)
	p.waitJS(60*time.Second, "all audio received", `window.demoStats.speech.totalMs !== null || window.demoStats.speech.error !== null`)
	require.Empty(t, eval[*string](p, `window.demoStats.speech.error`), "speech error")
	var st struct {
		Chunks, Samples       int
		FirstAudioMs, TotalMs float64
		ScheduledChunks       int
		ContextRate           float64
		ContextRunning        bool
	}
	raw := eval[[]byte](p, `(() => { const s = window.demoStats.speech, pl = window.demoStats.player;
		return {chunks: s.chunks, samples: s.samples, firstAudioMs: s.firstAudioMs, totalMs: s.totalMs,
			scheduledChunks: pl.stats.chunks, contextRate: pl.ctx.sampleRate, contextRunning: pl.ctx.state === "running"}; })()`)
	require.NoError(t, json.Unmarshal(raw, &st))
	t.Logf("speech: %d chunks scheduled, %.2f s of audio, first audio after %.0f ms, all received after %.0f ms, output %.0f Hz",
		st.Chunks, float64(st.Samples)/24000, st.FirstAudioMs, st.TotalMs, st.ContextRate)
	assert.GreaterOrEqual(t, st.Chunks, 2, "audio was scheduled in several chunks as it arrived")
	assert.Equal(t, st.Chunks, st.ScheduledChunks)
	assert.Greater(t, st.Samples, 3*24000, "several seconds of audio")
	assert.Greater(t, st.FirstAudioMs, 0.0)
	assert.Less(t, st.FirstAudioMs, st.TotalMs, "the first audio came before the last")
	assert.True(t, st.ContextRunning, "the AudioContext runs")
	assert.NotEqual(t, "–", p.text("#ttfa"))
	// The scheduled audio plays: the context's clock moves through it.
	p.waitJS(30*time.Second, "half a second played", `window.demoStats.player.playedMs() >= 500`)
	p.screenshot("speech")
	p.do(10*time.Second, chromedp.Click(chromedp.ID("stop")))
	assert.False(t, eval[bool](p, `window.demoStats.player.playing()`), "Stop silences the audio")
	assert.Contains(t, p.text("#status"), "Stopped")
	assert.Empty(t, p.exceptions(), "uncaught exceptions")
}

// TestTranscribeMicrophone: transcribe.html streams the fake microphone
// (flite speaking a known sentence) to /v1/realtime; #partial shows text
// while the sentence plays; the finished line in #transcript matches the
// sentence (WER ≤ 0.3); level meter and latency readouts are filled. A
// refused microphone gets a clear message.
func TestTranscribeMicrophone(t *testing.T) {
	setup(t)
	srv := sharedServer(t)
	p := newBrowser(t, browserOpts{mic: true})

	p.open(srv.URL+"/transcribe.html", "#start")
	p.watchMeter()
	p.do(10*time.Second, chromedp.Click(chromedp.ID("start")))
	start := time.Now()
	var partials []string
	var firstPartial time.Duration
	poll(t, 60*time.Second, "a finished line in #transcript", func() bool {
		if s := strings.TrimSpace(p.text("#partial")); s != "" && (len(partials) == 0 || partials[len(partials)-1] != s) {
			if len(partials) == 0 {
				firstPartial = time.Since(start)
			}
			partials = append(partials, s)
		}
		return eval[int](p, `document.querySelectorAll("#transcript li").length`) > 0
	})
	final := p.text("#transcript li")
	wer := speechtest.WER(spoken, final)
	t.Logf("partials seen in #partial (first after %v): %q", firstPartial, partials)
	t.Logf("final line after %v: %q (WER %.2f against %q); final text %s after speech ended (%s after the VAD's silence); microphone %s",
		time.Since(start), final, wer, spoken, p.text("#latency"), p.text("#after-turn"), p.text("#device-rate"))
	assert.NotEmpty(t, partials, "#partial showed text while the audio streamed")
	assert.LessOrEqual(t, wer, 0.3, "word error rate of %q", final)
	assert.NotEqual(t, "–", p.text("#latency"), "latency readout")
	assert.Greater(t, eval[float64](p, `window.demoStats.transcribe.maxRms`), 0.01, "the level meter saw the speech")
	assert.Greater(t, eval[float64](p, `window.maxMeterDb`), -40.0, "the #meter element showed the speech's level")
	assert.Contains(t, p.text("#device-rate"), "kHz")
	p.screenshot("transcribe")
	p.do(10*time.Second, chromedp.Click(chromedp.ID("stop")))
	p.waitJS(10*time.Second, "Stopped", `document.getElementById("status").textContent.includes("Stopped")`)
	assert.Empty(t, eval[[]string](p, `window.demoStats.transcribe.errors`), "server errors")
	assert.Empty(t, p.exceptions(), "uncaught exceptions")

	t.Run("stop mid-sentence", func(t *testing.T) {
		// Stop while the sentence is being spoken: the page commits the
		// turn and waits for its final text before closing.
		q := newBrowser(t, browserOpts{mic: true})
		q.open(srv.URL+"/transcribe.html", "#start")
		q.do(10*time.Second, chromedp.Click(chromedp.ID("start")))
		q.waitJS(30*time.Second, "a partial", `document.getElementById("partial").textContent.trim() !== ""`)
		q.do(10*time.Second, chromedp.Click(chromedp.ID("stop")))
		q.waitJS(15*time.Second, "Stopped", `document.getElementById("status").textContent.includes("Stopped")`)
		line := q.text("#transcript li")
		t.Logf("line committed at Stop: %q", line)
		assert.NotEmpty(t, line, "the cut sentence's text")
		assert.Empty(t, eval[[]string](q, `window.demoStats.transcribe.errors`), "server errors")
		assert.Empty(t, q.exceptions(), "uncaught exceptions")
	})

	for _, page := range []string{"transcribe.html", "voice.html"} {
		t.Run("microphone refused/"+page, func(t *testing.T) {
			q := newBrowser(t, browserOpts{askUser: true})
			q.denyMicrophone(srv.URL)
			q.open(srv.URL+"/"+page, "#start")
			q.do(10*time.Second, chromedp.Click(chromedp.ID("start")))
			q.waitJS(15*time.Second, "the refusal message", `document.getElementById("status").dataset.tone === "error"`)
			assert.Contains(t, q.text("#status"), "Microphone access was refused")
			assert.False(t, eval[bool](q, `document.getElementById("start").disabled`), "Start can be pressed again")
		})
	}
}

// TestUnavailable: with an API key required and every model slot empty,
// the pages ask for the key (stored in localStorage), then say plainly
// which model is missing instead of failing silently.
func TestUnavailable(t *testing.T) {
	setup(t)
	const key = "test-key-0123456789"
	srv := startServer(t, "OMINIX_API_KEY="+key, "LLM_MODEL=none")
	unloadAll(t, srv.URL, key)
	p := newBrowser(t, browserOpts{})

	p.open(srv.URL+"/chat.html", "#prompt")
	p.waitJS(10*time.Second, "the API key dialog", `document.querySelector("#api-key-dialog[open]") !== null`)
	p.do(10*time.Second,
		chromedp.SendKeys(chromedp.ID("api-key-input"), key),
		chromedp.Click(chromedp.ID("api-key-save")),
	)
	p.waitJS(10*time.Second, "the empty llm slot message", `document.getElementById("status").textContent.includes("No language model is loaded")`)
	assert.Equal(t, key, eval[string](p, `localStorage.getItem("ominix-api-key")`))
	// Sending anyway shows the server's 503 answer.
	p.do(10*time.Second,
		chromedp.SetValue(chromedp.ID("prompt"), "hello?"),
		chromedp.Click(chromedp.ID("send")),
	)
	p.waitJS(10*time.Second, "the 503 error", `window.demoStats.chat.error !== null`)
	assert.Contains(t, p.text("#messages"), "no llm model is loaded")
	p.screenshot("chat-no-model")

	p.open(srv.URL+"/speech.html", "#speak")
	p.waitJS(10*time.Second, "the empty tts slot message", `document.getElementById("status").textContent.includes("No speech synthesis model is loaded")`)

	p.open(srv.URL+"/transcribe.html", "#start")
	p.do(10*time.Second, chromedp.Click(chromedp.ID("start")))
	p.waitJS(10*time.Second, "the empty asr slot message", `document.getElementById("status").textContent.includes("No speech recognition model is loaded")`)

	p.open(srv.URL+"/voice.html", "#start")
	p.do(10*time.Second, chromedp.Click(chromedp.ID("start")))
	p.waitJS(10*time.Second, "the empty slot message", `document.getElementById("status").textContent.includes("model is loaded")`)
	assert.Empty(t, p.exceptions(), "uncaught exceptions")
}

// TestVoiceConversation: voice.html holds a spoken turn with the real
// server: #log shows what was heard and an answer, with the time from the
// end of speech to the first audio, and the answer's audio plays.
func TestVoiceConversation(t *testing.T) {
	setup(t)
	srv := sharedServer(t)
	p := newBrowser(t, browserOpts{mic: true})

	p.open(srv.URL+"/voice.html", "#start")
	p.watchMeter()
	p.do(10*time.Second, chromedp.Click(chromedp.ID("start")))
	p.waitJS(90*time.Second, "an answer or an error",
		`(s => s.unsupported !== null || (s.assistantTexts.length > 0 && s.firstAudioMs.length > 0) || s.errors.length > 0)(window.demoStats.voice)`)
	if msg := eval[*string](p, `window.demoStats.voice.unsupported`); msg != nil {
		p.screenshot("voice")
		t.Fatalf("the server refused the conversation session: %s", *msg)
	}
	require.Empty(t, eval[[]string](p, `window.demoStats.voice.errors`), "server errors")
	var st struct {
		UserTexts, AssistantTexts []string
		FirstAudioMs              []float64
		AudioChunks               int
	}
	require.NoError(t, json.Unmarshal(eval[[]byte](p, `window.demoStats.voice`), &st))
	t.Logf("voice turn: heard %q, answered %q; first audio %.0f ms after the end of speech (%d chunks)",
		st.UserTexts, st.AssistantTexts, st.FirstAudioMs, st.AudioChunks)
	require.NotEmpty(t, st.UserTexts)
	assert.LessOrEqual(t, speechtest.WER(spoken, st.UserTexts[0]), 0.3)
	logText := p.text("#log")
	assert.Contains(t, logText, st.UserTexts[0])
	assert.Contains(t, logText, st.AssistantTexts[0])
	assert.Positive(t, st.AudioChunks)
	assert.NotEqual(t, "–", p.text("#latency"))
	p.waitJS(30*time.Second, "the answer playing", `window.demoStats.player.playedMs() > 0`)
	assert.Greater(t, eval[float64](p, `window.maxMeterDb`), -40.0, "the #meter element showed the speech's level")
	p.screenshot("voice")
	assert.Empty(t, p.exceptions(), "uncaught exceptions")
}

// distinctIncreasing counts the steps in which a sequence grew.
func distinctIncreasing(xs []int) int {
	n := 0
	for i := 1; i < len(xs); i++ {
		if xs[i] > xs[i-1] {
			n++
		}
	}
	return n
}

// metric reads one unlabelled sample from /metrics ("" when absent).
func metric(t *testing.T, base, name string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	defer c.CloseIdleConnections()
	resp, err := c.Get(base + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// unloadAll empties every model slot of the server.
func unloadAll(t *testing.T, base, key string) {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	defer c.CloseIdleConnections()
	req, err := http.NewRequest(http.MethodPost, base+"/v1/models/unload", strings.NewReader(`{"model_type":"all"}`))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, "unload: %s", body)
}

// TestVoiceProtocolBargeIn: voice.html speaks the GA Realtime protocol
// correctly, checked against a scripted peer (see scriptedPeer): it
// configures a conversation session with server VAD, streams the fake
// microphone, shows the heard turn and the answer's transcript in #log,
// plays the answer's audio as it arrives and reports the time from the end
// of speech to the first audio; when speech starts while the answer plays
// (barge-in) it stops playback at once and sends conversation.item.truncate
// with the answer's item id and how much of it was heard.
func TestVoiceProtocolBargeIn(t *testing.T) {
	setup(t)
	peer := newScriptedPeer(t)
	p := newBrowser(t, browserOpts{mic: true})

	p.open(peer.srv.URL+"/voice.html", "#start")
	p.do(10*time.Second, chromedp.Click(chromedp.ID("start")))
	var update map[string]any
	select {
	case update = <-peer.session:
	case <-time.After(30 * time.Second):
		t.Fatalf("no session.update within 30s; status %q", p.text("#status"))
	}
	raw, _ := json.Marshal(update)
	var sess struct {
		Session struct {
			Type             string   `json:"type"`
			Model            string   `json:"model"`
			OutputModalities []string `json:"output_modalities"`
			Audio            struct {
				Input struct {
					Format struct {
						Type string
						Rate int
					}
					Transcription struct{ Model string }
					TurnDetection struct {
						Type              string `json:"type"`
						CreateResponse    bool   `json:"create_response"`
						InterruptResponse bool   `json:"interrupt_response"`
					} `json:"turn_detection"`
				}
				Output struct {
					Format struct {
						Type string
						Rate int
					}
					Voice string
				}
			}
		}
	}
	require.NoError(t, json.Unmarshal(raw, &sess))
	s := sess.Session
	assert.Equal(t, "realtime", s.Type)
	assert.Equal(t, "scripted-llm", s.Model)
	assert.Equal(t, []string{"audio"}, s.OutputModalities)
	assert.Equal(t, "audio/pcm", s.Audio.Input.Format.Type)
	assert.Equal(t, 24000, s.Audio.Input.Format.Rate)
	assert.Equal(t, "scripted-asr", s.Audio.Input.Transcription.Model)
	assert.Equal(t, "server_vad", s.Audio.Input.TurnDetection.Type)
	assert.True(t, s.Audio.Input.TurnDetection.CreateResponse)
	assert.True(t, s.Audio.Input.TurnDetection.InterruptResponse)
	assert.Equal(t, 24000, s.Audio.Output.Format.Rate)
	assert.Equal(t, "alloy", s.Audio.Output.Voice)

	// The answer plays; once 300 ms of it were heard, the person speaks.
	p.waitJS(60*time.Second, "the answer playing", fmt.Sprintf(`window.demoStats.player.playedMs(%q) >= 300`, peerAnswerItem))
	peer.bargeIn <- struct{}{}
	var trunc map[string]any
	select {
	case trunc = <-peer.truncate:
	case <-time.After(15 * time.Second):
		t.Fatalf("no conversation.item.truncate within 15s after barge-in; log %q", p.text("#log"))
	}
	assert.False(t, eval[bool](p, `window.demoStats.player.playing()`), "playback stopped at barge-in")
	assert.Equal(t, peerAnswerItem, trunc["item_id"])
	assert.EqualValues(t, 0, trunc["content_index"])
	heard, _ := trunc["audio_end_ms"].(float64)
	assert.GreaterOrEqual(t, heard, 300.0, "audio_end_ms counts what was heard")
	assert.Less(t, heard, float64(peerAnswerMs), "audio_end_ms stops before the end of the answer")
	p.waitJS(10*time.Second, "the interruption's transcript", `document.getElementById("log").textContent.includes("scripted interruption")`)

	logText := p.text("#log")
	assert.Contains(t, logText, peerTranscript, "#log shows what was heard")
	assert.Contains(t, logText, peerAnswer, "#log shows the answer")
	assert.Contains(t, logText, "interrupted after", "#log marks the cut answer")
	firstAudio := eval[[]float64](p, `window.demoStats.voice.firstAudioMs`)
	require.Len(t, firstAudio, 1)
	assert.Positive(t, firstAudio[0])
	assert.NotEqual(t, "–", p.text("#latency"))
	peer.mu.Lock()
	appended := peer.appended
	peer.mu.Unlock()
	t.Logf("scripted turn: %.1f s of microphone audio sent; first audio %.0f ms after the end of speech; truncated at %.0f ms",
		float64(appended)/24000, firstAudio[0], heard)
	p.screenshotArtifact("voice-protocol")

	p.do(10*time.Second, chromedp.Click(chromedp.ID("stop")))
	p.waitJS(10*time.Second, "Stopped", `document.getElementById("status").textContent.includes("Stopped")`)
	assert.Empty(t, peer.problems(), "protocol problems the peer saw")
	assert.Empty(t, eval[[]string](p, `window.demoStats.voice.errors`))
	assert.Empty(t, p.exceptions(), "uncaught exceptions")
}
