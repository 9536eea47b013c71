// Package speech holds what the native speech engines under it share: the
// error a request for a cloned or custom voice gets when no voice-cloning
// engine is loaded, and the OpenAI model names the default engines answer to.
//
// The engines themselves live in subpackages, each behind a build tag so the
// module builds where the C libraries are absent: use
// [github.com/ominix/ominix-api/mlxrt/speech/pocketsphinx] for streaming
// recognition (tag "pocketsphinx") and
// [github.com/ominix/ominix-api/mlxrt/speech/flite] for synthesis (tag
// "flite"). Use IsCustomVoice and ErrNoVoiceCloning to answer reference-audio
// voice requests; use speechtest only from tests and benchmarks.
package speech
