//go:build cgo && pocketsphinx && flite

package transport_test

import (
	"net/http"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline/dsp"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

// TestE2ERealtimeThreeTurns streams three flite sentences separated by a
// second of silence through /v1/realtime?intent=transcription, in 20 ms
// frames at the pace of a microphone, in both dialects at once (one
// connection each, both on the one pinned thread). server_vad must find
// exactly three turns; each is committed once, has partial transcripts
// while it is spoken and one completed transcript whose word error rate is
// at most 0.3. The deltas need not spell the completed transcript:
// pocketsphinx's final pass may change a word its partial hypotheses had
// agreed on (see audioapi.Deltas), and the test logs when it did.
func TestE2ERealtimeThreeTurns(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 12 s of audio in real time")
	}
	e := newSpeechEnv(t)
	sentences := e2eSentences[1:4]
	const rate = 24000
	pcm := rt.Silence(rate, 300)
	for i, s := range sentences {
		a := speakAudio(t, e, s)
		x, err := dsp.Resample(a.Samples, a.Rate, rate)
		require.NoError(t, err)
		pcm = append(pcm, x...)
		if i < len(sentences)-1 {
			pcm = append(pcm, rt.Silence(rate, 1000)...)
		}
	}
	pcm = append(pcm, rt.Silence(rate, 1200)...)
	audio := rt.PCM16(pcm)

	for _, dialect := range []string{"ga", "beta"} {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			beta := dialect == "beta"
			var c *rt.Conn
			itemEvent := "conversation.item.added"
			if beta {
				c = rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"),
					&websocket.DialOptions{HTTPHeader: http.Header{"OpenAI-Beta": {"realtime=v1"}}})
				require.Equal(t, "transcription_session.created", c.Next().Type)
				c.Send(map[string]any{"type": "transcription_session.update", "session": map[string]any{
					"input_audio_format":        "pcm16",
					"input_audio_transcription": map[string]any{"model": "whisper-1", "language": "en-US"},
					"turn_detection":            map[string]any{"type": "server_vad"},
				}})
				c.WaitFor("transcription_session.updated")
				itemEvent = "conversation.item.created"
			} else {
				c = rt.Dial(t, wsURL(e, "/v1/realtime?intent=transcription"), nil)
				require.Equal(t, "session.created", c.Next().Type)
				c.Send(map[string]any{"type": "session.update", "session": map[string]any{"type": "transcription",
					"audio": map[string]any{"input": map[string]any{
						"format":         map[string]any{"type": "audio/pcm", "rate": rate},
						"transcription":  map[string]any{"model": "gpt-4o-transcribe", "language": "en"},
						"turn_detection": map[string]any{"type": "server_vad"},
					}}}})
				c.WaitFor("session.updated")
			}
			sendPaced(c, audio, rate*2/1000, 20)
			// Events of the appends come before the answer to a later
			// client event, so every commit is in once cleared arrives.
			c.Send(map[string]any{"type": "input_audio_buffer.clear"})
			c.WaitFor("input_audio_buffer.cleared")
			c.WaitCount("conversation.item.input_audio_transcription.completed", c.Count("input_audio_buffer.committed"))

			realtimeCheck(t, c, beta)
			turns := realTurns(t, c, itemEvent)
			require.Len(t, turns, len(sentences), "turns found by server_vad; events: %v", c.Types())
			for i, s := range sentences {
				tu := turns[i]
				wer := speechtest.WER(s, tu.final)
				t.Logf("turn %d: WER %.2f, %d deltas (%d while speaking), deltas %q, final %q", i+1, wer,
					tu.deltas, tu.deltasBeforeStop, tu.spelled, tu.final)
				assert.LessOrEqual(t, wer, 0.3, "turn %d: %q → %q", i+1, s, tu.final)
				assert.Equal(t, 1, tu.committed, "turn %d committed", i+1)
				assert.Equal(t, 1, tu.added, "turn %d %s", i+1, itemEvent)
				assert.Equal(t, 1, tu.completed, "turn %d completed", i+1)
				assert.Positive(t, tu.deltasBeforeDone, "turn %d: no delta before its completed event", i+1)
				assert.Positive(t, tu.deltasBeforeStop, "turn %d: no partial transcript while it was spoken", i+1)
			}
		})
	}
}

// realTurn is what the events of one server_vad turn said.
type realTurn struct {
	committed, added, completed int
	deltas, deltasBeforeStop    int
	deltasBeforeDone            int
	spelled, final              string
}

// realTurns gathers the events of each turn, in the order the turns
// started. Unlike checkTurns it does not require the deltas to spell the
// final transcript: a real recognizer may revise a word after it was
// sent, and the completed event is then the authoritative text (see
// audioapi.Deltas).
func realTurns(t *testing.T, c *rt.Conn, itemEvent string) []*realTurn {
	t.Helper()
	turns := map[string]*realTurn{}
	stopped := map[string]bool{}
	var order []string
	get := func(id string) *realTurn {
		if turns[id] == nil {
			turns[id] = &realTurn{}
			order = append(order, id)
		}
		return turns[id]
	}
	for _, ev := range c.Events {
		switch ev.Type {
		case "input_audio_buffer.speech_started":
			get(ev.Str("item_id"))
		case "input_audio_buffer.speech_stopped":
			stopped[ev.Str("item_id")] = true
		case "input_audio_buffer.committed":
			get(ev.Str("item_id")).committed++
		case itemEvent:
			get(ev.Get("item", "id").(string)).added++
		case "conversation.item.input_audio_transcription.delta":
			id := ev.Str("item_id")
			tu := get(id)
			tu.deltas++
			tu.spelled += ev.Str("delta")
			if !stopped[id] {
				tu.deltasBeforeStop++
			}
			if tu.completed == 0 {
				tu.deltasBeforeDone++
			}
		case "conversation.item.input_audio_transcription.completed":
			tu := get(ev.Str("item_id"))
			tu.completed++
			tu.final = ev.Str("transcript")
		}
	}
	out := make([]*realTurn, len(order))
	for i, id := range order {
		out[i] = turns[id]
	}
	return out
}
