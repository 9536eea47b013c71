package audio_test

import (
	"errors"
	"testing"

	"github.com/ominix/ominix-api/pipeline"
)

// FuzzDecode feeds every decoder hostile bytes, seeded with the fixtures
// (whole and cut) and hand-made containers: Decode must return audio or a
// *pipeline.Error of kind Invalid or TooLarge, never panic, and stay
// within the duration limit. The Go fuzzer's per-input memory and time
// limits catch unbounded allocation or looping.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"speech.wav", "speech.flac", "speech16k.mp3", "speech44k.mp3", "speech.opus", "speech-chrome.webm"} {
		data := fixture(f, name)
		f.Add(data[:min(len(data), 4096)])
		f.Add(data[:min(len(data), 300)])
	}
	f.Add(mkv(ebmlTracks(mkvTrackSpec{number: 1, kind: 2, codec: "A_OPUS", private: []byte("OpusHead\x01\x01\x38\x01\x80\x3e\x00\x00\x00\x00\x00")}),
		el(0x1F43B675, el(0xA3, block(1, []byte{0xF8, 0xFF, 0xFE}, []byte{0xF8})))))
	f.Add(oggPage(0x02, 7, []byte("OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00")))
	f.Add(buildWAV(wavSpec{tag: 1, bits: 24, channels: 3, rate: 8000, extensible: true}, []float32{0.5, -0.5, 0.25}))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 20
		a, err := codecs.Decode(data, pipeline.DecodeOptions{MaxSeconds: limit})
		if err != nil {
			var pe *pipeline.Error
			if !errors.As(err, &pe) || (pe.Kind != pipeline.KindInvalid && pe.Kind != pipeline.KindTooLarge) || pe.Message == "" {
				t.Fatalf("unexpected error %T %v", err, err)
			}
			return
		}
		if a.Rate <= 0 || len(a.Samples) == 0 {
			t.Fatalf("success without audio: rate %d, %d samples", a.Rate, len(a.Samples))
		}
		if a.Seconds() > limit {
			t.Fatalf("%.1f s decoded past the %d s limit", a.Seconds(), limit)
		}
		for i, v := range a.Samples {
			if v != v || v > 1.01 || v < -1.01 {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
	})
}
