package speech_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ominix/ominix-api/mlxrt/speech"
	"github.com/ominix/ominix-api/pipeline"
)

func TestIsCustomVoice(t *testing.T) {
	for _, v := range []string{"voice_1234", "VOICE_abc", "ref:/srv/ref.wav", "clone:alice", "/data/me.WAV", "sample.flac", " x.mp3 "} {
		assert.True(t, speech.IsCustomVoice(v), v)
	}
	for _, v := range []string{"", "alloy", "slt", "voice", "wave", "my_voice"} {
		assert.False(t, speech.IsCustomVoice(v), v)
	}
}

func TestErrNoVoiceCloning(t *testing.T) {
	err := fmt.Errorf("speak: %w", speech.ErrNoVoiceCloning)
	assert.ErrorIs(t, err, speech.ErrNoVoiceCloning)
	assert.ErrorIs(t, err, pipeline.ErrInvalid)
	var pe *pipeline.Error
	assert.True(t, errors.As(err, &pe))
	assert.Equal(t, "voice", pe.Param)
	assert.Equal(t, "voice_cloning_unavailable", pe.Code)
	assert.Contains(t, pipeline.AsError(err).Message, "no voice-cloning TTS engine is loaded")
}

func TestAliases(t *testing.T) {
	assert.True(t, speech.IsAlias("whisper-1", speech.TranscriptionAliases))
	assert.True(t, speech.IsAlias("gpt-4o-mini-tts", speech.SpeechAliases))
	assert.False(t, speech.IsAlias("tts-1", speech.TranscriptionAliases))
}
