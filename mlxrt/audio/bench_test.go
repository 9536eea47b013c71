package audio_test

import (
	"io"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ominix/ominix-api/pipeline"
)

// BenchmarkDecode reports how many times faster than real time each
// fixture decodes (x_realtime).
func BenchmarkDecode(b *testing.B) {
	files := []string{"speech.wav", "speech.flac", "speech16k.mp3", "speech44k.mp3"}
	if haveOpus() {
		files = append(files, "speech.opus", "speech-chrome.webm")
	}
	for _, f := range files {
		b.Run(f, func(b *testing.B) {
			data := fixture(b, f)
			a, err := codecs.Decode(data, pipeline.DecodeOptions{})
			require.NoError(b, err)
			b.SetBytes(int64(len(data)))
			b.ResetTimer()
			for b.Loop() {
				if _, err := codecs.Decode(data, pipeline.DecodeOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(a.Seconds()*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
		})
	}
}

// BenchmarkEncode streams the 16 kHz reference in 250 ms chunks (as a
// synthesizer hands over clauses) into each format at the default 24 kHz,
// resampling included, and reports x_realtime.
func BenchmarkEncode(b *testing.B) {
	ref := reference(b)
	for _, format := range formats() {
		b.Run(string(format), func(b *testing.B) {
			for b.Loop() {
				enc, err := codecs.NewEncoder(io.Discard, format, 0)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < len(ref.Samples); i += 4000 {
					if err := enc.Write(pipeline.Audio{Rate: 16000, Samples: ref.Samples[i:min(i+4000, len(ref.Samples))]}); err != nil {
						b.Fatal(err)
					}
				}
				if err := enc.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(ref.Seconds()*float64(b.N)/b.Elapsed().Seconds(), "x_realtime")
		})
	}
}
