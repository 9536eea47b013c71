package audio

import "github.com/ominix/ominix-api/pipeline"

// Test hooks for the external audio_test package.

// WAV decoder names WAVDecoderFor returns.
const (
	WAVGoAudio = "go-audio/wav"
	WAVOwn     = "own"
)

// WAVDecoderFor says which decoder Decode hands the samples of a WAV file
// (one Decode sniffs as WAV; the magic is not checked here) to, by the
// same test Decode uses.
func WAVDecoderFor(data []byte) (string, error) {
	w, err := parseWAV(data)
	if err != nil {
		return "", err
	}
	if w.viaGoAudio() {
		return WAVGoAudio, nil
	}
	return WAVOwn, nil
}

// DecodeWAVWith decodes a WAV file with the named decoder, whichever one
// Decode would choose; go-audio/wav is only meaningful for integer PCM.
func DecodeWAVWith(decoder string, data []byte, opts pipeline.DecodeOptions) (pipeline.Audio, error) {
	w, err := parseWAV(data)
	if err != nil {
		return pipeline.Audio{}, err
	}
	lim := newLimits(opts)
	if w.frames() > lim.maxSamples(w.f.rate) {
		return pipeline.Audio{}, lim.tooLong()
	}
	if decoder == WAVGoAudio {
		return decodeWAVGoAudio(w, lim)
	}
	return decodeWAVOwn(w, lim)
}
