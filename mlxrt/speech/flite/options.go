package flite

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ominix/ominix-api/mlxrt/speech"
	"github.com/ominix/ominix-api/pipeline"
)

// Options configure a synthesizer. The zero value (or nil) gives the
// defaults documented on each field.
type Options struct {
	// MaxChars caps the text of one Synthesize call, in characters; longer
	// text fails with a KindInvalid error (Param "input", code
	// "string_above_max_length"). Callers should send a sentence or clause
	// per call so that one call is one short step. Zero means 4096, OpenAI's
	// limit for a whole speech request.
	MaxChars int
}

func (o *Options) withDefaults() Options {
	var v Options
	if o != nil {
		v = *o
	}
	if v.MaxChars <= 0 {
		v.MaxChars = 4096
	}
	return v
}

// Speed bounds, as OpenAI's speech endpoint accepts them.
const (
	MinSpeed = 0.25
	MaxSpeed = 4.0
)

// request is a validated Synthesize call.
type request struct {
	text    string
	voice   string  // Flite voice name
	stretch float64 // duration_stretch: 1/speed
}

// validate checks a call the same way in every build: voice, speed and
// text length, and cleans the text for the C library.
func validate(text string, opts pipeline.SpeechOptions, maxChars int) (request, error) {
	if speech.IsCustomVoice(opts.Voice) {
		return request{}, speech.ErrNoVoiceCloning
	}
	voice, ok := MapVoice(opts.Voice)
	if !ok {
		return request{}, pipeline.Invalid("voice", "unknown voice %q; valid voices are %s", opts.Voice, strings.Join(Voices(), ", "))
	}
	speed := opts.Speed
	if speed == 0 {
		speed = 1
	}
	if math.IsNaN(speed) || speed < MinSpeed || speed > MaxSpeed {
		return request{}, pipeline.Invalid("speed", "speed must be between %g and %g", MinSpeed, MaxSpeed)
	}
	if n := utf8.RuneCountInString(text); n > maxChars {
		e := pipeline.Invalid("input", "input of %d characters exceeds the %d-character limit", n, maxChars)
		e.Code = "string_above_max_length"
		return request{}, e
	}
	return request{text: cleanText(text), voice: voice, stretch: 1 / speed}, nil
}

// cleanText makes text safe to hand to C: invalid UTF-8 and control
// characters (NUL included, which would end the C string) become spaces,
// and surrounding space is trimmed.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	return strings.TrimSpace(s)
}
