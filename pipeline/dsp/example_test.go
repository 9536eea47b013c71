package dsp_test

import (
	"fmt"
	"math"

	"github.com/ominix/ominix-api/pipeline/dsp"
)

// A realtime stream arrives as 24 kHz s16le chunks; the recognizer wants
// 16 kHz float32.
func ExampleResampler() {
	r, err := dsp.NewResampler(24000, 16000)
	if err != nil {
		panic(err)
	}
	var out []float32
	chunk := make([]byte, 2*480) // 20 ms of silence
	for range 50 {
		out = r.Process(out, dsp.AppendS16LE(nil, chunk))
	}
	out = r.Flush(out)
	fmt.Println(len(out))
	// Output: 16000
}

func ExampleVAD() {
	v, err := dsp.NewVAD(16000, nil) // server_vad defaults
	if err != nil {
		panic(err)
	}
	audio := make([]float32, 16000*3)
	for i := 16000; i < 32000; i++ { // one second of a loud 200 Hz tone
		audio[i] = float32(0.3 * math.Sin(2*math.Pi*200*float64(i)/16000))
	}
	for _, ev := range v.Feed(audio) {
		fmt.Println(ev.Type, ev.AudioStartMs, ev.AudioEndMs, len(ev.Audio))
	}
	// Output:
	// speech_started 700 0 0
	// speech_stopped 700 2510 28960
}
