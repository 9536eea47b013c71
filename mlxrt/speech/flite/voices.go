package flite

import (
	"sort"
	"strings"
)

// Flite's voices and their native sample rates in Hz.
var voiceRates = map[string]int{
	"slt":   16000, // US English, female (unit selection)
	"kal":   8000,  // US English, male (diphone)
	"kal16": 16000, // US English, male (diphone, 16 kHz)
	"awb":   16000, // Scottish English, male (unit selection)
	"rms":   16000, // US English, male, low voice (unit selection)
}

// openAIVoices maps OpenAI's voice names onto Flite voices by the character
// OpenAI describes: lighter or female-sounding voices speak with slt,
// deeper male voices with rms, brighter male voices with kal16, and the
// storytelling voices with awb's Scottish English.
var openAIVoices = map[string]string{
	"alloy":   "slt",
	"ash":     "kal16",
	"ballad":  "awb",
	"cedar":   "rms",
	"coral":   "slt",
	"echo":    "kal16",
	"fable":   "awb",
	"marin":   "slt",
	"nova":    "slt",
	"onyx":    "rms",
	"sage":    "slt",
	"shimmer": "slt",
	"verse":   "rms",
}

// DefaultVoice speaks when a request names no voice.
const DefaultVoice = "slt"

// MapVoice resolves a voice as requests name it — a Flite voice ("slt",
// also "cmu_us_slt"), an OpenAI voice ("nova") or "" for DefaultVoice,
// ignoring case and surrounding space — to the Flite voice that speaks it.
func MapVoice(name string) (voice string, ok bool) {
	v := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "cmu_us_")
	if v == "" {
		return DefaultVoice, true
	}
	if _, ok := voiceRates[v]; ok {
		return v, true
	}
	v, ok = openAIVoices[v]
	return v, ok
}

// Voices lists every voice name MapVoice accepts (Flite's own, then
// OpenAI's), sorted within each group.
func Voices() []string {
	own := make([]string, 0, len(voiceRates))
	for v := range voiceRates {
		own = append(own, v)
	}
	sort.Strings(own)
	oa := make([]string, 0, len(openAIVoices))
	for v := range openAIVoices {
		oa = append(oa, v)
	}
	sort.Strings(oa)
	return append(own, oa...)
}

// VoiceRate is the sample rate, in Hz, of a Flite voice's audio, or 0 for a
// name that is not a Flite voice.
func VoiceRate(voice string) int { return voiceRates[voice] }
