package speech

// Model ids the default engines report in pipeline.ModelInfo.ID.
const (
	PocketsphinxID = "pocketsphinx-en-us"
	FliteID        = "flite"
)

// OpenAI model names the default engines also answer to, so that requests
// written for OpenAI ("model": "whisper-1") work unchanged. The loaders in
// the engine packages accept them as ModelRef names. Aliasing for requests
// belongs in the transport's model lookup: requests are routed by slot, and
// /v1/models may list these names as aliases of the loaded model.
var (
	TranscriptionAliases = []string{"whisper-1", "gpt-4o-transcribe", "gpt-4o-mini-transcribe"}
	SpeechAliases        = []string{"tts-1", "tts-1-hd", "gpt-4o-mini-tts"}
)

// IsAlias reports whether name is one of aliases.
func IsAlias(name string, aliases []string) bool {
	for _, a := range aliases {
		if a == name {
			return true
		}
	}
	return false
}
