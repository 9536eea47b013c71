package realtimetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/ominix/ominix-api/pipeline/dsp"
)

// SchemaName returns the name, under #/components/schemas of OpenAI's
// OpenAPI description, of the server event type typ in the beta dialect
// (beta true) or GA; "" for types the description does not have.
func SchemaName(typ string, beta bool) string {
	ga := map[string]string{
		"error":                                                 "RealtimeServerEventError",
		"session.created":                                       "RealtimeServerEventSessionCreated",
		"session.updated":                                       "RealtimeServerEventSessionUpdated",
		"transcription_session.created":                         "RealtimeBetaServerEventTranscriptionSessionCreated",
		"transcription_session.updated":                         "RealtimeServerEventTranscriptionSessionUpdated",
		"input_audio_buffer.speech_started":                     "RealtimeServerEventInputAudioBufferSpeechStarted",
		"input_audio_buffer.speech_stopped":                     "RealtimeServerEventInputAudioBufferSpeechStopped",
		"input_audio_buffer.committed":                          "RealtimeServerEventInputAudioBufferCommitted",
		"input_audio_buffer.cleared":                            "RealtimeServerEventInputAudioBufferCleared",
		"conversation.item.created":                             "RealtimeServerEventConversationItemCreated",
		"conversation.item.added":                               "RealtimeServerEventConversationItemAdded",
		"conversation.item.done":                                "RealtimeServerEventConversationItemDone",
		"conversation.item.input_audio_transcription.delta":     "RealtimeServerEventConversationItemInputAudioTranscriptionDelta",
		"conversation.item.input_audio_transcription.completed": "RealtimeServerEventConversationItemInputAudioTranscriptionCompleted",
		"conversation.item.input_audio_transcription.failed":    "RealtimeServerEventConversationItemInputAudioTranscriptionFailed",
		"conversation.item.truncated":                           "RealtimeServerEventConversationItemTruncated",
		"conversation.item.deleted":                             "RealtimeServerEventConversationItemDeleted",
		"conversation.item.retrieved":                           "RealtimeServerEventConversationItemRetrieved",
		"response.created":                                      "RealtimeServerEventResponseCreated",
		"response.done":                                         "RealtimeServerEventResponseDone",
		"response.output_item.added":                            "RealtimeServerEventResponseOutputItemAdded",
		"response.output_item.done":                             "RealtimeServerEventResponseOutputItemDone",
		"response.content_part.added":                           "RealtimeServerEventResponseContentPartAdded",
		"response.content_part.done":                            "RealtimeServerEventResponseContentPartDone",
		"response.output_text.delta":                            "RealtimeServerEventResponseTextDelta",
		"response.output_text.done":                             "RealtimeServerEventResponseTextDone",
		"response.output_audio.delta":                           "RealtimeServerEventResponseAudioDelta",
		"response.output_audio.done":                            "RealtimeServerEventResponseAudioDone",
		"response.output_audio_transcript.delta":                "RealtimeServerEventResponseAudioTranscriptDelta",
		"response.output_audio_transcript.done":                 "RealtimeServerEventResponseAudioTranscriptDone",
		"response.function_call_arguments.delta":                "RealtimeServerEventResponseFunctionCallArgumentsDelta",
		"response.function_call_arguments.done":                 "RealtimeServerEventResponseFunctionCallArgumentsDone",
	}
	if !beta {
		return ga[typ]
	}
	b := map[string]string{
		"error":                                                 "RealtimeBetaServerEventError",
		"transcription_session.created":                         "RealtimeBetaServerEventTranscriptionSessionCreated",
		"transcription_session.updated":                         "RealtimeBetaServerEventTranscriptionSessionUpdated",
		"input_audio_buffer.speech_started":                     "RealtimeBetaServerEventInputAudioBufferSpeechStarted",
		"input_audio_buffer.speech_stopped":                     "RealtimeBetaServerEventInputAudioBufferSpeechStopped",
		"input_audio_buffer.committed":                          "RealtimeBetaServerEventInputAudioBufferCommitted",
		"input_audio_buffer.cleared":                            "RealtimeBetaServerEventInputAudioBufferCleared",
		"conversation.item.created":                             "RealtimeBetaServerEventConversationItemCreated",
		"conversation.item.input_audio_transcription.delta":     "RealtimeBetaServerEventConversationItemInputAudioTranscriptionDelta",
		"conversation.item.input_audio_transcription.completed": "RealtimeBetaServerEventConversationItemInputAudioTranscriptionCompleted",
		"conversation.item.input_audio_transcription.failed":    "RealtimeBetaServerEventConversationItemInputAudioTranscriptionFailed",
		"session.created":                                       "RealtimeBetaServerEventSessionCreated",
		"session.updated":                                       "RealtimeBetaServerEventSessionUpdated",
		"conversation.item.truncated":                           "RealtimeBetaServerEventConversationItemTruncated",
		"conversation.item.deleted":                             "RealtimeBetaServerEventConversationItemDeleted",
		"conversation.item.retrieved":                           "RealtimeBetaServerEventConversationItemRetrieved",
		"response.created":                                      "RealtimeBetaServerEventResponseCreated",
		"response.done":                                         "RealtimeBetaServerEventResponseDone",
		"response.output_item.added":                            "RealtimeBetaServerEventResponseOutputItemAdded",
		"response.output_item.done":                             "RealtimeBetaServerEventResponseOutputItemDone",
		"response.content_part.added":                           "RealtimeBetaServerEventResponseContentPartAdded",
		"response.content_part.done":                            "RealtimeBetaServerEventResponseContentPartDone",
		"response.text.delta":                                   "RealtimeBetaServerEventResponseTextDelta",
		"response.text.done":                                    "RealtimeBetaServerEventResponseTextDone",
		"response.audio.delta":                                  "RealtimeBetaServerEventResponseAudioDelta",
		"response.audio.done":                                   "RealtimeBetaServerEventResponseAudioDone",
		"response.audio_transcript.delta":                       "RealtimeBetaServerEventResponseAudioTranscriptDelta",
		"response.audio_transcript.done":                        "RealtimeBetaServerEventResponseAudioTranscriptDone",
		"response.function_call_arguments.delta":                "RealtimeBetaServerEventResponseFunctionCallArgumentsDelta",
		"response.function_call_arguments.done":                 "RealtimeBetaServerEventResponseFunctionCallArgumentsDone",
	}
	if n, ok := b[typ]; ok {
		return n
	}
	// The GA-only names have no place in the beta dialect.
	if typ == "conversation.item.added" || typ == "conversation.item.done" || strings.HasPrefix(typ, "response.output_") {
		return ""
	}
	return ga[typ]
}

var rateRE = regexp.MustCompile(`"rate":\s*(\d+)`)

// OtherRate reports whether a server event names a PCM rate other than
// 24 kHz, which OpenAI's schemas do not allow (this server accepts
// declared rates from 8 to 48 kHz), so it cannot be validated.
func OtherRate(raw []byte) bool {
	for _, m := range rateRE.FindAllSubmatch(raw, -1) {
		if string(m[1]) != "24000" {
			return true
		}
	}
	return false
}

// betaSpecTypes maps the beta dialect's response event names to the type
// the beta schemas of OpenAI's description spell: the description reuses
// the GA names there, while beta servers and clients use these.
var betaSpecTypes = map[string]string{
	"response.text.delta":             "response.output_text.delta",
	"response.text.done":              "response.output_text.done",
	"response.audio.delta":            "response.output_audio.delta",
	"response.audio.done":             "response.output_audio.done",
	"response.audio_transcript.delta": "response.output_audio_transcript.delta",
	"response.audio_transcript.done":  "response.output_audio_transcript.done",
}

// SchemaInstance returns the schema name of a server event (raw JSON) in
// the dialect and the instance to validate against it: the event itself,
// or for beta response events a copy whose type is spelled as the
// description's beta schemas spell it. name is "" for unknown events.
func SchemaInstance(raw []byte, beta bool) (name string, inst []byte) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", raw
	}
	typ, _ := m["type"].(string)
	if sess, ok := m["session"].(map[string]any); ok && beta && sess["type"] != nil {
		// A GA session object (it has a type) sent before the client
		// chose the beta dialect.
		beta = false
	}
	name = SchemaName(typ, beta)
	if spec, ok := betaSpecTypes[typ]; ok && beta {
		m["type"] = spec
		b, err := json.Marshal(m)
		if err == nil {
			return name, b
		}
	}
	return name, raw
}

// Event is one server event as received.
type Event struct {
	Raw  []byte
	Type string
	// At is when the client read it.
	At time.Time
	m  map[string]any
}

// Str returns a top-level string member ("" when absent).
func (e Event) Str(key string) string {
	s, _ := e.m[key].(string)
	return s
}

// Get returns a member by path ("error.code").
func (e Event) Get(path ...string) any {
	var v any = e.m
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// Conn is a test client of a Realtime WebSocket. A goroutine reads
// events as they arrive (so Event.At is the arrival time even while the
// test is busy sending); its methods fail the test on error; waits are
// bounded by Timeout.
type Conn struct {
	T       testing.TB
	C       *websocket.Conn
	Timeout time.Duration
	// Events holds every event taken with Next (or a waiting method) so
	// far, in order.
	Events []Event

	ch   chan Event
	done chan struct{}
	err  error // why reading stopped; read after done is closed
}

// Dial connects to url (ws:// or wss://) with opts. The connection is
// closed, and its reader stopped, when the test ends.
func Dial(t testing.TB, url string, opts *websocket.DialOptions) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, opts)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c.SetReadLimit(64 << 20)
	conn := &Conn{T: t, C: c, Timeout: 20 * time.Second, ch: make(chan Event, 1<<16), done: make(chan struct{})}
	go conn.read()
	t.Cleanup(func() {
		_ = c.CloseNow()
		<-conn.done
	})
	return conn
}

func (c *Conn) read() {
	defer close(c.done)
	for {
		typ, b, err := c.C.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		ev := Event{Raw: b, At: time.Now()}
		if typ != websocket.MessageText {
			c.err = errors.New("the server sent a binary message")
			return
		}
		if err := json.Unmarshal(b, &ev.m); err != nil {
			c.err = fmt.Errorf("the server sent invalid JSON %q: %w", b, err)
			return
		}
		ev.Type, _ = ev.m["type"].(string)
		select {
		case c.ch <- ev:
		default:
			c.err = errors.New("the test client's event buffer overflowed")
			return
		}
	}
}

// Send writes v as a JSON text message.
func (c *Conn) Send(v any) {
	c.T.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		c.T.Fatalf("marshal: %v", err)
	}
	c.SendRaw(websocket.MessageText, b)
}

// SendRaw writes one message.
func (c *Conn) SendRaw(typ websocket.MessageType, b []byte) {
	c.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.Timeout)
	defer cancel()
	if err := c.C.Write(ctx, typ, b); err != nil {
		c.T.Fatalf("write: %v", err)
	}
}

// Append sends input_audio_buffer.append with audio bytes.
func (c *Conn) Append(audio []byte) {
	c.T.Helper()
	c.Send(map[string]any{"type": "input_audio_buffer.append", "audio": base64.StdEncoding.EncodeToString(audio)})
}

// Read returns the next event, or the error that ended the connection
// (a websocket.CloseError when the server closed it).
func (c *Conn) Read() (Event, error) {
	t := time.NewTimer(c.Timeout)
	defer t.Stop()
	select {
	case ev := <-c.ch:
		c.Events = append(c.Events, ev)
		return ev, nil
	case <-c.done:
		select {
		case ev := <-c.ch:
			c.Events = append(c.Events, ev)
			return ev, nil
		default:
		}
		return Event{}, c.err
	case <-t.C:
		return Event{}, fmt.Errorf("no event within %v", c.Timeout)
	}
}

// Next returns the next event, failing the test when none comes in time.
func (c *Conn) Next() Event {
	c.T.Helper()
	ev, err := c.Read()
	if err != nil {
		c.T.Fatalf("read event: %v (events so far: %s)", err, c.Types())
	}
	return ev
}

// WaitFor reads events until one of type typ arrives and returns it.
func (c *Conn) WaitFor(typ string) Event {
	c.T.Helper()
	for {
		if ev := c.Next(); ev.Type == typ {
			return ev
		}
	}
}

// WaitCount reads events until n events of type typ have arrived in all.
func (c *Conn) WaitCount(typ string, n int) {
	c.T.Helper()
	for c.Count(typ) < n {
		c.Next()
	}
}

// Count returns how many events of type typ were read so far.
func (c *Conn) Count(typ string) int {
	n := 0
	for _, e := range c.Events {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// Types lists the types of the events read so far.
func (c *Conn) Types() []string {
	out := make([]string, len(c.Events))
	for i, e := range c.Events {
		out[i] = e.Type
	}
	return out
}

// Tone returns ms milliseconds of a sine at freq Hz and amplitude amp.
func Tone(rate, ms int, freq, amp float64) []float32 {
	n := rate * ms / 1000
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return s
}

// Silence returns ms milliseconds of silence.
func Silence(rate, ms int) []float32 { return make([]float32, rate*ms/1000) }

// Utterances returns n tones of toneMs separated (and followed) by gapMs
// of silence, after leadMs of silence.
func Utterances(rate, n, leadMs, toneMs, gapMs int) []float32 {
	s := Silence(rate, leadMs)
	for i := 0; i < n; i++ {
		s = append(s, Tone(rate, toneMs, 440, 0.5)...)
		s = append(s, Silence(rate, gapMs)...)
	}
	return s
}

// PCM16 encodes samples as 16-bit little-endian PCM.
func PCM16(s []float32) []byte { return dsp.AppendFloat32AsS16LE(nil, s) }

// MuLaw encodes samples as G.711 μ-law.
func MuLaw(s []float32) []byte { return dsp.AppendFloat32AsMuLaw(nil, s) }

// ALaw encodes samples as G.711 A-law.
func ALaw(s []float32) []byte { return dsp.AppendFloat32AsALaw(nil, s) }

// Frames splits b into pieces of n bytes (the last may be shorter).
func Frames(b []byte, n int) [][]byte {
	var out [][]byte
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return out
}
