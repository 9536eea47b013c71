//go:build cgo && pocketsphinx && flite

package transport_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/mlxrt/audio"
	"github.com/ominix/ominix-api/mlxrt/speech/speechtest"
	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/dsp"
	rt "github.com/ominix/ominix-api/transport/realtime/realtimetest"
)

// speakAudio has flite say text through POST /v1/audio/speech and decodes
// the WAV (24 kHz mono).
func speakAudio(t *testing.T, e *env, text string) pipeline.Audio {
	t.Helper()
	a, err := audio.New().Decode(speakWAV(t, e, text), pipeline.DecodeOptions{})
	require.NoError(t, err)
	return a
}

// container is one way of packing speech into an upload.
type container struct {
	name   string
	format pipeline.AudioFormat // an encoder of the server's codecs
	rate   int
	stereo bool // a 16-bit stereo WAV built here instead
}

// pack encodes a as c describes.
func (c container) pack(t *testing.T, a pipeline.Audio) []byte {
	t.Helper()
	if c.stereo {
		pcm, err := dsp.Resample(a.Samples, a.Rate, c.rate)
		require.NoError(t, err)
		return stereoWAV(c.rate, pcm, 0.6)
	}
	var buf bytes.Buffer
	enc, err := audio.New().NewEncoder(&buf, c.format, c.rate)
	require.NoError(t, err)
	require.NoError(t, enc.Write(a))
	require.NoError(t, enc.Close())
	return buf.Bytes()
}

// stereoWAV writes a 16-bit stereo WAV whose left channel is pcm and
// right channel pcm scaled by right (a voice panned off centre).
func stereoWAV(rate int, pcm []float32, right float32) []byte {
	data := make([]byte, 0, len(pcm)*4)
	for _, v := range pcm {
		data = binary.LittleEndian.AppendUint16(data, uint16(dsp.FloatToS16(v)))
		data = binary.LittleEndian.AppendUint16(data, uint16(dsp.FloatToS16(v*right)))
	}
	h := []byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00")
	h = binary.LittleEndian.AppendUint16(h, 1) // PCM
	h = binary.LittleEndian.AppendUint16(h, 2)
	h = binary.LittleEndian.AppendUint32(h, uint32(rate))
	h = binary.LittleEndian.AppendUint32(h, uint32(rate*4))
	h = binary.LittleEndian.AppendUint16(h, 4)
	h = binary.LittleEndian.AppendUint16(h, 16)
	h = append(h, "data"...)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(data)))
	out := append(h, data...)
	binary.LittleEndian.PutUint32(out[4:], uint32(len(out)-8))
	return out
}

// TestE2ESpeechContainers sends real speech through every upload container
// the codecs write (and a stereo WAV): flite speaks each sentence, the
// audio is packed in each container and transcribed over HTTP by
// pocketsphinx. The word error rate is logged per container; its mean over
// everything must not exceed 0.15, and no container may average above
// 0.25 (one broken decoder must not hide behind the others). -short
// speaks one sentence instead of four.
func TestE2ESpeechContainers(t *testing.T) {
	e := newSpeechEnv(t)
	all := []container{
		{name: "wav 16 kHz", format: pipeline.FormatWAV, rate: 16000},
		{name: "wav 24 kHz", format: pipeline.FormatWAV, rate: 24000},
		{name: "wav 44.1 kHz", format: pipeline.FormatWAV, rate: 44100},
		{name: "wav 44.1 kHz stereo", rate: 44100, stereo: true},
		{name: "flac 44.1 kHz", format: pipeline.FormatFLAC, rate: 44100},
		{name: "mp3 24 kHz (MPEG-2)", format: pipeline.FormatMP3, rate: 24000},
		{name: "mp3 44.1 kHz (MPEG-1)", format: pipeline.FormatMP3, rate: 44100},
		{name: "ogg/opus 48 kHz", format: pipeline.FormatOpus, rate: 48000},
	}
	var cs []container
	for _, c := range all {
		if !c.stereo && !slices.Contains(audio.EncodeFormats(), string(c.format)) {
			if speechtest.Required() {
				t.Errorf("%s: this build has no %s encoder (build with the tags of .ci/tags.sh)", c.name, c.format)
			}
			t.Logf("%s: left out, this build has no %s encoder", c.name, c.format)
			continue
		}
		cs = append(cs, c)
	}
	sentences := e2eSentences
	if testing.Short() {
		sentences = sentences[:1]
	}
	spoken := make([]pipeline.Audio, len(sentences))
	for i, s := range sentences {
		spoken[i] = speakAudio(t, e, s)
	}
	var every []float64
	for _, c := range cs {
		var wers []float64
		for i, s := range sentences {
			got := transcribeFile(t, e, c.pack(t, spoken[i]))
			wer := speechtest.WER(s, got)
			wers = append(wers, wer)
			if wer > 0 {
				t.Logf("  %-22s %.2f %q", c.name, wer, got)
			}
		}
		every = append(every, wers...)
		t.Logf("%-22s mean WER %.3f over %d sentences", c.name, mean(wers), len(wers))
		assert.LessOrEqual(t, mean(wers), 0.25, "%s", c.name)
	}
	t.Logf("all containers: mean WER %.3f over %d transcriptions", mean(every), len(every))
	assert.LessOrEqual(t, mean(every), 0.15)
}

// TestE2EWordTimestamps asks verbose_json for word timestamps of two
// sentences separated by a second of silence: the words spell the text,
// their times are ordered and inside the audio, and the second sentence's
// words come after the pause.
func TestE2EWordTimestamps(t *testing.T) {
	e := newSpeechEnv(t)
	spec := maybeSpec(t)
	first, second := speakAudio(t, e, e2eSentences[0]), speakAudio(t, e, e2eSentences[1])
	const rate = 24000
	var pcm []float32
	pcm = append(pcm, rt.Silence(rate, 300)...)
	pcm = append(pcm, first.Samples...)
	pause := float64(len(pcm)) / rate
	pcm = append(pcm, rt.Silence(rate, 1000)...)
	resume := float64(len(pcm)) / rate
	pcm = append(pcm, second.Samples...)
	pcm = append(pcm, rt.Silence(rate, 300)...)
	seconds := float64(len(pcm)) / rate

	status, body := readAll(t, postForm(t, e, wavOf(t, pipeline.Audio{Rate: rate, Samples: pcm}), "model", "whisper-1",
		"response_format", "verbose_json", "timestamp_granularities[]", "word", "timestamp_granularities[]", "segment"))
	require.Equal(t, http.StatusOK, status, "%s", body)
	if spec != nil {
		spec.RequireStrict(t, "CreateTranscriptionResponseVerboseJson", body, "task")
	}
	var v struct {
		Text     string
		Duration float64
		Words    []struct {
			Word       string
			Start, End float64
		}
		Segments []struct{ Start, End float64 }
	}
	require.NoError(t, json.Unmarshal(body, &v))
	want := e2eSentences[0] + " " + e2eSentences[1]
	t.Logf("%q (WER %.2f), %d words, %d segments", v.Text, speechtest.WER(want, v.Text), len(v.Words), len(v.Segments))
	assert.LessOrEqual(t, speechtest.WER(want, v.Text), 0.3)
	assert.InDelta(t, seconds, v.Duration, 0.01)

	text := strings.Fields(v.Text)
	require.Len(t, v.Words, len(text), "one timed word per word of the text")
	prevStart, prevEnd := 0.0, 0.0
	for i, w := range v.Words {
		t.Logf("  %5.2f–%5.2f %s", w.Start, w.End, w.Word)
		assert.True(t, strings.EqualFold(text[i], w.Word), "word %d: %q in the text, %q timed", i, text[i], w.Word)
		assert.LessOrEqual(t, w.Start, w.End, "word %d %q", i, w.Word)
		assert.GreaterOrEqual(t, w.Start, prevStart, "word %d %q starts before the previous one", i, w.Word)
		assert.GreaterOrEqual(t, w.Start, prevEnd-0.011, "word %d %q overlaps the previous one", i, w.Word)
		assert.GreaterOrEqual(t, w.End, prevEnd, "word %d %q", i, w.Word)
		assert.GreaterOrEqual(t, w.Start, 0.0)
		assert.LessOrEqual(t, w.End, v.Duration+0.001)
		prevStart, prevEnd = w.Start, w.End
	}
	// Each sentence's words lie within its own audio (give or take the
	// decoder's 10 ms frames), none in the pause between them.
	require.NotEmpty(t, v.Words)
	assert.GreaterOrEqual(t, v.Words[0].Start, 0.25, "the first word starts after the 300 ms lead")
	assert.LessOrEqual(t, v.Words[len(v.Words)-1].End, seconds-0.25, "the last word ends before the trailing 300 ms")
	before, after := 0, 0
	for _, w := range v.Words {
		if w.Start < (pause+resume)/2 {
			before++
			assert.LessOrEqual(t, w.End, pause+0.05, "%q (%.2f–%.2f) runs into the pause", w.Word, w.Start, w.End)
		} else {
			after++
			assert.GreaterOrEqual(t, w.Start, resume-0.05, "%q (%.2f–%.2f) starts in the pause", w.Word, w.Start, w.End)
		}
	}
	assert.InDelta(t, len(strings.Fields(e2eSentences[0])), before, 2, "words of the first sentence")
	assert.InDelta(t, len(strings.Fields(e2eSentences[1])), after, 2, "words of the second sentence")
	require.Len(t, v.Segments, 2, "the pause splits the file into two utterances")
}
