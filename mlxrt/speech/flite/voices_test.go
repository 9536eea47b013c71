package flite_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ominix/ominix-api/mlxrt/speech/flite"
	"github.com/ominix/ominix-api/pipeline"
)

func TestMapVoice(t *testing.T) {
	for in, want := range map[string]string{
		"": "slt", "slt": "slt", " KAL ": "kal", "kal16": "kal16", "cmu_us_awb": "awb", "rms": "rms",
		"alloy": "slt", "ash": "kal16", "ballad": "awb", "coral": "slt", "echo": "kal16", "fable": "awb",
		"nova": "slt", "onyx": "rms", "sage": "slt", "shimmer": "slt", "verse": "rms", "marin": "slt", "cedar": "rms",
	} {
		got, ok := flite.MapVoice(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"bogus", "voice_123", "slt2"} {
		_, ok := flite.MapVoice(bad)
		assert.False(t, ok, bad)
	}
	vs := flite.Voices()
	assert.Equal(t, []string{"awb", "kal", "kal16", "rms", "slt"}, vs[:5])
	assert.Len(t, vs, 5+13)
	assert.Equal(t, 8000, flite.VoiceRate("kal"))
	assert.Equal(t, 16000, flite.VoiceRate("slt"))
	assert.Equal(t, 0, flite.VoiceRate("nova"))
}

func TestLoaderNames(t *testing.T) {
	l := flite.NewLoader(nil)
	_, err := l.Load(context.Background(), pipeline.ModelRef{Category: pipeline.ASRSlot})
	assert.ErrorIs(t, err, pipeline.ErrInvalid)
	_, err = l.Load(context.Background(), pipeline.ModelRef{Category: pipeline.TTSSlot, Name: "bark"})
	assert.ErrorIs(t, err, pipeline.ErrNotFound)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = l.Load(ctx, pipeline.ModelRef{Category: pipeline.TTSSlot})
	assert.ErrorIs(t, err, context.Canceled)
}
