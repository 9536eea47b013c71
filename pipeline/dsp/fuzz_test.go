package dsp_test

import (
	"testing"

	"github.com/ominix/ominix-api/pipeline/dsp"
)

// FuzzResampleChunked checks that any rate pair and chunking gives the
// one-shot output, without panics.
func FuzzResampleChunked(f *testing.F) {
	f.Add(uint32(48000), uint32(16000), []byte{1, 2, 3, 200, 100, 7, 9})
	f.Add(uint32(44101), uint32(16000), []byte{0, 0, 255, 255, 128})
	f.Add(uint32(8000), uint32(8001), []byte{})
	f.Fuzz(func(t *testing.T, from, to uint32, data []byte) {
		in := dsp.AppendS16LE(nil, data)
		want, err := dsp.Resample(in, int(from), int(to))
		if err != nil {
			return
		}
		r, err := dsp.NewResampler(int(from), int(to))
		if err != nil {
			t.Fatal(err)
		}
		var got []float32
		for i, rest := 0, in; len(rest) > 0; i++ {
			n := min(len(rest), 1+int(data[i%len(data)])%13)
			got = r.Process(got, rest[:n])
			rest = rest[n:]
		}
		got = r.Flush(got)
		if len(got) != len(want) || len(got) != dsp.OutputLen(len(in), int(from), int(to)) {
			t.Fatalf("length %d, one-shot %d", len(got), len(want))
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("sample %d: %v != %v", i, got[i], want[i])
			}
		}
	})
}

// FuzzVAD feeds arbitrary audio: events must alternate start/stop and the
// utterance audio must match its sample range.
func FuzzVAD(f *testing.F) {
	f.Add([]byte{0, 0, 0, 127, 0, 128}, uint16(16000), uint8(50))
	f.Fuzz(func(t *testing.T, data []byte, rate uint16, threshold uint8) {
		o := dsp.DefaultVADOptions()
		o.Threshold = float64(threshold%101) / 100
		o.SilenceDurationMs = 50
		v, err := dsp.NewVAD(int(rate), &o)
		if err != nil {
			return
		}
		audio := dsp.AppendS16LE(nil, data)
		audio = append(audio, audio...)
		speaking := false
		for _, ev := range v.Feed(audio) {
			if (ev.Type == dsp.SpeechStarted) == speaking {
				t.Fatalf("event %v while speaking=%v", ev.Type, speaking)
			}
			speaking = !speaking
			if ev.Type == dsp.SpeechStopped && int64(len(ev.Audio)) != ev.EndSample-ev.StartSample {
				t.Fatalf("audio of %d samples for %d..%d", len(ev.Audio), ev.StartSample, ev.EndSample)
			}
		}
		if speaking != v.Speaking() {
			t.Fatal("Speaking disagrees with the events")
		}
	})
}
