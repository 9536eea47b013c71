package speech

import (
	"strings"

	"github.com/ominix/ominix-api/pipeline"
)

// ErrNoVoiceCloning is returned (unwrapped, so errors.Is and pointer equality
// both work) when a request asks for a cloned voice — an OpenAI custom voice
// id ("voice_…"), a reference-audio voice in the seed's forms ("ref:…",
// "clone:…", a path to an audio file), or any voice while TTS_REF_AUDIO is
// configured — and the loaded TTS engine cannot clone voices. It is a
// KindInvalid *pipeline.Error (HTTP 400) with Param "voice" and Code
// "voice_cloning_unavailable", so transports map it like any other
// pipeline error.
var ErrNoVoiceCloning = &pipeline.Error{
	Kind:    pipeline.KindInvalid,
	Param:   "voice",
	Code:    "voice_cloning_unavailable",
	Message: "voice cloning is not available: no voice-cloning TTS engine is loaded (the loaded engine speaks only its built-in voices)",
}

// audioExts are file extensions that mark a voice string as a path to
// reference audio.
var audioExts = []string{".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".webm"}

// IsCustomVoice reports whether voice names a cloned or reference-audio voice
// rather than a built-in one: an OpenAI custom voice id ("voice_1234"), the
// prefixes "ref:" and "clone:", or a value ending in a common audio file
// extension. Matching ignores case and surrounding space.
func IsCustomVoice(voice string) bool {
	v := strings.ToLower(strings.TrimSpace(voice))
	if strings.HasPrefix(v, "voice_") || strings.HasPrefix(v, "ref:") || strings.HasPrefix(v, "clone:") {
		return true
	}
	for _, ext := range audioExts {
		if strings.HasSuffix(v, ext) {
			return true
		}
	}
	return false
}
