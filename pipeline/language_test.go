package pipeline_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
	"github.com/ominix/ominix-api/pipeline/pipelinetest"
)

func TestCheckLanguage(t *testing.T) {
	en := []string{"en"}
	for _, lang := range []string{"", "  ", "en", "EN", "en-US", "en_gb", "En-Latn-US"} {
		assert.NoError(t, pipeline.CheckLanguage(en, "language", lang), "%q", lang)
	}
	for _, lang := range []string{"fr", "de-DE", "english", "eng", "e", "-en"} {
		err := pipeline.CheckLanguage(en, "language", lang)
		pe := pipeline.AsError(err)
		require.NotNil(t, pe, "%q", lang)
		assert.Equal(t, pipeline.KindInvalid, pe.Kind)
		assert.Equal(t, "language", pe.Param)
		assert.Equal(t, pipeline.CodeUnsupportedLanguage, pe.Code)
		assert.Contains(t, pe.Message, "'"+lang+"'")
		assert.Contains(t, pe.Message, "only 'en'")
	}
	assert.NoError(t, pipeline.CheckLanguage(nil, "language", "fr"), "no list: any language")
	assert.NoError(t, pipeline.CheckLanguage([]string{"en", "fr"}, "language", "fr-CA"))
	long := pipeline.AsError(pipeline.CheckLanguage(en, "language", string(make([]byte, 200))))
	assert.Less(t, len(long.Message), 300, "client text is clipped in the message")
}

// The scheduler refuses a language the recognizer lacks before any work
// starts; recognizers that list no languages take any hint.
func TestTranscribeRefusesUnsupportedLanguage(t *testing.T) {
	h := newHarness(t, map[string]pipeline.Model{
		"en-only": &pipelinetest.Transcriber{Words: []string{"a"}, Langs: []string{"en"}},
		"any":     &pipelinetest.Transcriber{Words: []string{"a"}},
	}, nil)
	h.load(t, pipeline.ASRSlot, "en-only")
	_, err := h.sched.Transcribe(context.Background(), pipeline.TranscribeOptions{Language: "fr"}, pipelinetest.NewRecorder())
	assert.Equal(t, pipeline.CodeUnsupportedLanguage, pipeline.AsError(err).Code)
	tr, err := h.sched.Transcribe(context.Background(), pipeline.TranscribeOptions{Language: "en-US"}, pipelinetest.NewRecorder())
	require.NoError(t, err)
	tr.Close()

	h.load(t, pipeline.ASRSlot, "any")
	tr, err = h.sched.Transcribe(context.Background(), pipeline.TranscribeOptions{Language: "fr"}, pipelinetest.NewRecorder())
	require.NoError(t, err)
	tr.Close()
}
